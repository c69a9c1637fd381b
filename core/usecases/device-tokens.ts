/**
 * device_token and device_token_remove (TeamTalk CID_LOGIN_REQ_DEVICETOKEN): a user's push tokens. A `web` token
 * names the URL the push sender will POST to, so it is taken only as a PushSubscription whose endpoint is https on an
 * allowlisted push service (core/push/endpoint-policy.ts); anything else is `bad_request` and stores nothing.
 */
import type { Config } from '../config.js';
import type { DeviceToken } from '../domain/push.js';
import { FrameError } from '../errors.js';
import type { Clock, DeviceTokenStore } from '../ports.js';
import { WebPushEndpointPolicy } from '../push/endpoint-policy.js';

export interface DeviceTokenPorts {
  readonly deviceTokens: DeviceTokenStore;
  readonly clock: Clock;
  readonly config: Pick<Config, 'maxDeviceTokensPerUser' | 'webPushEndpointAllowlist'>;
}

export async function registerDeviceToken(ports: DeviceTokenPorts, userId: string, token: DeviceToken): Promise<void> {
  if (token.platform === 'web') {
    const problem = new WebPushEndpointPolicy(ports.config.webPushEndpointAllowlist).tokenProblem(token.token);
    if (problem) throw new FrameError('bad_request', `token: ${problem}`);
  }
  await ports.deviceTokens.register(userId, token, ports.clock.now(), ports.config.maxDeviceTokensPerUser);
}
