/** The ports of presence (core/usecases/presence.ts) besides the Presence table's (core/ports/stores.ts). */
import type { PresenceCheck } from '../domain/presence.js';

/** One subscribing connection of a watched user. */
export interface PresenceWatcher {
  readonly connectionId: string;
  readonly userId: string;
}

/** A connection's presence subscription: whom it watches, and until when its rows last (unix seconds). */
export interface PresenceSubscription {
  readonly userIds: readonly string[];
  readonly expiresAt: number;
}

/** PresenceWatchers (core/store/presence-watchers.ts). */
export interface PresenceWatcherStore {
  /** The connection's current subscription, or undefined (none, or expired). */
  subscriptionOf(connectionId: string, nowSeconds: number): Promise<PresenceSubscription | undefined>;
  /**
   * Writes the rows of `put` (watched user ids) and deletes those of `drop` for this connection, then records
   * `subscription` as the connection's list. At most 100 + 100 row writes and one list write.
   */
  replace(
    watcher: PresenceWatcher,
    change: { readonly put: readonly string[]; readonly drop: readonly string[] },
    subscription: PresenceSubscription,
  ): Promise<void>;
  /** Up to `limit` unexpired subscribers of the user; `more` when the Query stopped at the limit. */
  watchersOf(
    userId: string,
    nowSeconds: number,
    limit: number,
  ): Promise<{ watchers: PresenceWatcher[]; more: boolean }>;
  /** Forgets one subscriber row (its connection is gone). */
  removeWatcher(userId: string, connectionId: string): Promise<void>;
}

/**
 * Where presence checks go: on AWS an SQS standard queue read by the presence-jobs function (DelaySeconds holds an
 * offline check back), in local mode an in-process queue with timers (local/presence-checks.ts).
 */
export interface PresenceCheckQueue {
  enqueue(check: PresenceCheck, delaySeconds: number): Promise<void>;
}
