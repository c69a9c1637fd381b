/**
 * device_token, device_token_verify and device_token_remove (TeamTalk CID_LOGIN_REQ_DEVICETOKEN): a user's push
 * tokens.
 *
 * Sign-out removes the tokens of the signing-out install (`device_id`, given at registration) or all of the user's,
 * so an app need not remember which tokens it registered in earlier runs. It reads the user's tokens (at most
 * maxDeviceTokensPerUser) and deletes the matching ones: bounded work whatever the request.
 *
 * A `web` token names the URL the push sender will POST to, so it is taken only as a PushSubscription whose endpoint
 * is https on an allowlisted push service (core/domain/web-push-endpoint.ts); anything else is `bad_request`.
 *
 * A token belongs to one user, and knowing it proves nothing: tokens leak (logs, backups, a shared phone), and a
 * token that moved on registration let anyone silence a stranger's phone and push their own conversations to it. What
 * proves a claim is receiving pushes on the device. So a token another user holds does not move: the registrant gets
 * `pending`, and one challenge push goes to the token (at most one per DEVICE_TOKEN_CHALLENGE_TTL_MS), carrying a
 * code. The app signed in on that device answers with device_token_verify, and the answering user gets the token: on
 * a shared phone after an account switch that is the new account; when someone else registered a stranger's token, it
 * is the stranger, whose own device answers and keeps it. The previous holder's connections are told
 * (`device_token_moved`), so its other devices can say that this phone no longer gets its notifications.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { DeviceToken } from '../domain/push.js';
import { FrameError } from '../errors.js';
import type { ChallengePublisher } from '../ports/events.js';
import type { Clock } from '../ports/clock.js';
import type { DeviceTokenStore } from '../ports/push.js';
import type { Gateway } from '../ports/gateway.js';
import type { PresenceStore } from '../ports/stores.js';
import { WebPushEndpointPolicy } from '../domain/web-push-endpoint.js';
import { notifyUsers } from './notify.js';

/** How long a challenge's code may be answered, and how often one token may be sent a challenge push. */
export const DEVICE_TOKEN_CHALLENGE_TTL_MS = 10 * 60_000;

export interface DeviceTokenPorts {
  readonly deviceTokens: DeviceTokenStore;
  readonly pushChallenges: ChallengePublisher;
  readonly clock: Clock;
  readonly config: Pick<Config, 'maxDeviceTokensPerUser' | 'webPushEndpointAllowlist'>;
}

export interface VerifyPorts {
  readonly deviceTokens: DeviceTokenStore;
  readonly clock: Clock;
  readonly presence: PresenceStore;
  readonly gateway: Gateway;
  readonly config: Pick<Config, 'maxDeviceTokensPerUser' | 'fanoutConcurrency'>;
}

const codeHash = (code: string) => createHash('sha256').update(code, 'utf8').digest('base64url');

/** Registers the token for the user, or, when another user holds it, challenges the device (`pending: true`). */
export async function registerDeviceToken(
  ports: DeviceTokenPorts,
  userId: string,
  token: DeviceToken,
): Promise<{ pending?: true }> {
  if (token.platform === 'web') {
    const problem = new WebPushEndpointPolicy(ports.config.webPushEndpointAllowlist).tokenProblem(token.token);
    if (problem) throw new FrameError('bad_request', `token: ${problem}`);
  }
  const now = ports.clock.now();
  const { heldBy } = await ports.deviceTokens.register(userId, token, now, ports.config.maxDeviceTokensPerUser);
  if (heldBy === undefined) return {};
  const code = randomBytes(16).toString('base64url');
  if (await ports.deviceTokens.openChallenge(token, codeHash(code), now, DEVICE_TOKEN_CHALLENGE_TTL_MS)) {
    await ports.pushChallenges.publishChallenge({ token: token.token, platform: token.platform, code });
  }
  return { pending: true };
}

/** Gives the token to the user that answers its open challenge's code; `not_allowed` for any other code. */
export async function verifyDeviceToken(
  ports: VerifyPorts,
  userId: string,
  request: { token: string; code: string },
): Promise<void> {
  const moved = await ports.deviceTokens.answerChallenge(
    userId,
    request.token,
    codeHash(request.code),
    ports.clock.now(),
    ports.config.maxDeviceTokensPerUser,
  );
  if (!moved)
    throw new FrameError(
      'not_allowed',
      'no open challenge of this token has this code (wrong, used or expired): register the token again',
    );
  if (moved.previousOwner === userId) return;
  await notifyUsers(
    { ...ports, config: { fanoutConcurrency: ports.config.fanoutConcurrency } },
    [moved.previousOwner],
    {
      type: 'device_token_moved',
      token: request.token,
      platform: moved.platform,
    },
  );
}

/** What device_token_remove removes: one token, the tokens an install registered, or all of the caller's. */
export type TokenRemoval = { readonly token: string } | { readonly deviceId: string } | { readonly all: true };

/** Unregisters the caller's tokens the removal names (another user's tokens are left alone). */
export async function removeDeviceTokens(
  ports: Pick<DeviceTokenPorts, 'deviceTokens'>,
  userId: string,
  removal: TokenRemoval,
): Promise<void> {
  if ('token' in removal) return ports.deviceTokens.unregister(userId, removal.token);
  const held = await ports.deviceTokens.tokensOf(userId);
  const removed = 'all' in removal ? held : held.filter((t) => t.deviceId === removal.deviceId);
  for (const { token } of removed) await ports.deviceTokens.unregister(userId, token);
}
