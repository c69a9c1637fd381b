/**
 * What the push sender (core/usecases/send-pushes.ts) needs: the receivers' device tokens, their group mutes and the
 * flood bounds (core/store/: DeviceTokens, GroupMembers, RateLimits), the APNs provider token the sender's instances
 * share, and the providers themselves (core/push-providers/: FCM, APNs, Web Push).
 */
import type { DeviceToken } from '../domain/push.js';
import type { PushContent } from '../domain/push-content.js';

export interface DeviceTokenStore {
  /**
   * Registers a token for the user (keeping the user's `max` newest) unless another user holds it: then nothing
   * changes and the holder is returned.
   */
  register(userId: string, token: DeviceToken, nowMs: number, max: number): Promise<{ readonly heldBy?: string }>;
  /**
   * Opens a challenge on a held token: its code's hash, for `ttlMs`, unless a challenge is open already (false then:
   * one push to the device per challenge). The platform is the registrant's.
   */
  openChallenge(token: DeviceToken, codeHash: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /**
   * Gives the token to the user when `codeHash` is its open challenge's, closing the challenge; the holder it had and
   * the platform, or undefined when the code is not the open one (nothing changes).
   */
  answerChallenge(
    userId: string,
    token: string,
    codeHash: string,
    nowMs: number,
    max: number,
  ): Promise<{ readonly previousOwner: string; readonly platform: string } | undefined>;
  /** Unregisters a token of the user (another user's token is left alone). */
  unregister(userId: string, token: string): Promise<void>;
  /** The user's tokens. */
  tokensOf(userId: string): Promise<DeviceToken[]>;
}

/** The push flood bounds (core/store/push-throttle.ts): a window per receiver and conversation, a budget per sender. */
export interface PushThrottle {
  /**
   * Claims the receiver's push window of a conversation for `windowMs`; false when a push of it (another message's)
   * went out less than a window ago. The same message may claim again (a redelivered event).
   */
  claimWindow(receiver: string, collapseId: string, msgId: number, nowMs: number, windowMs: number): Promise<boolean>;
  /** Takes up to `wanted` receivers from the sender's budget of `limit` this minute; returns how many it got. */
  takeBudget(sender: string, wanted: number, nowMs: number, limit: number): Promise<number>;
}

/** Per-member push mutes of groups (TeamTalk's group shield status). */
export interface GroupMuteStore {
  /** Mutes or unmutes a group's pushes for a member; false (and nothing written) when the user is no member. */
  setMuted(groupId: string, userId: string, muted: boolean): Promise<boolean>;
  /** The users among `userIds` who muted the group's pushes. */
  mutedAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>>;
}

export interface ProviderToken {
  readonly jwt: string;
  readonly issuedAtMs: number;
}

/** Where the sender instances share the APNs provider token (core/store/provider-tokens.ts). */
export interface ProviderTokenStore {
  current(): Promise<ProviderToken | undefined>;
  /**
   * Stores `next` unless the stored token is no longer the one issued at `previousIssuedAtMs`; returns the token
   * that won.
   */
  replace(next: ProviderToken, previousIssuedAtMs: number | undefined): Promise<ProviderToken>;
}

/**
 * Time for one provider call. FCM, APNs and the browsers' push services answer in well under a second; five seconds
 * leaves room for a cold TLS handshake and keeps a held request from stalling a Lambda for long. Every provider's
 * `send` ends within it, so the sender can tell whether a try still fits the invocation's time.
 */
export const PROVIDER_TIMEOUT_MS = 5_000;

/**
 * How a provider answered one push: sent, the token is gone (remove it), try again later (429/5xx, honouring
 * Retry-After), or failed for good.
 */
export type SendOutcome =
  | { readonly kind: 'sent' }
  /** The provider says the token will never work again (unregistered, bad token): remove it. */
  | { readonly kind: 'gone'; readonly reason: string }
  /** Throttled or unavailable: try again after `afterMs` (Retry-After) or the sender's backoff. */
  | { readonly kind: 'retry'; readonly reason: string; readonly afterMs?: number }
  | { readonly kind: 'failed'; readonly reason: string };

/** A push provider: FCM, APNs or Web Push. */
export interface PushProvider {
  /** Short name for logs and metrics: fcm, apns, webpush. */
  readonly name: string;
  send(token: string, content: PushContent): Promise<SendOutcome>;
}
