/**
 * Presence in the SDK (docs/protocol.md "Presence"): `client.presence` keeps the union of the users the app
 * subscribed to and the last status heard of each, subscribes again on every (re)connect — a subscription belongs to a
 * connection — and renews it before the server's expiry; `usersStat` and `setPresence` are one-off requests. A status
 * set `away` is set again on every new connection (a new connection starts `online`).
 */
import {
  MAX_PRESENCE_IDS,
  PRESENCE_STATUSES,
  PRESENCE_SUBSCRIPTION_SECONDS,
  SETTABLE_PRESENCE_STATUSES,
  isUserId,
  type PresenceFrame,
  type PresenceStatus,
  type ReplyFrame,
  type RequestMap,
  type ServerFrame,
  type SettablePresenceStatus,
  type UserStat,
} from './frames.js';
import type { TimerHandle } from './timers.js';

/** The request half of ChatClient presence needs. */
export type PresenceRequester = <A extends 'users_stat' | 'presence_subscribe' | 'presence_set'>(
  action: A,
  fields: RequestMap[A]['request'],
) => Promise<ReplyFrame<A>>;

/** Renewed at three quarters of the subscription's life: the server then rewrites every row (past half its life). */
export const PRESENCE_RENEW_MS = PRESENCE_SUBSCRIPTION_SECONDS * 750;

export function isPresenceFrame(frame: ServerFrame): frame is PresenceFrame & ServerFrame {
  return (
    frame.type === 'presence' &&
    typeof frame['user_id'] === 'string' &&
    (PRESENCE_STATUSES as readonly unknown[]).includes(frame['status'])
  );
}

export function checkedUserIds(method: string, userIds: readonly string[]): string[] {
  if (!Array.isArray(userIds) || !userIds.every(isUserId))
    throw new TypeError(`${method}: user ids must be 1–128 characters of A-Za-z0-9_.@-`);
  const unique = [...new Set(userIds)];
  if (unique.length < 1 || unique.length > MAX_PRESENCE_IDS)
    throw new RangeError(`${method}: 1–${MAX_PRESENCE_IDS} user ids`);
  return unique;
}

export function checkedSettable(status: SettablePresenceStatus): SettablePresenceStatus {
  if (!(SETTABLE_PRESENCE_STATUSES as readonly string[]).includes(status))
    throw new TypeError('setPresence: status must be online or away');
  return status;
}

export interface PresenceHooks {
  readonly request: PresenceRequester;
  /** Whether the connection is open now (a subscription is sent at once, else on the next open). */
  isOpen(): boolean;
  /** A status heard (a reply or a `presence` frame) that differs from the one known. */
  changed(stat: UserStat): void;
  /** A background re-subscribe or re-set failed. */
  failed(error: unknown): void;
}

/** `client.presence`: the users this client watches and what it last heard of them. */
export class PresenceSubscriptions {
  readonly #hooks: PresenceHooks;
  readonly #watched = new Set<string>();
  readonly #statuses = new Map<string, PresenceStatus>();
  #renewTimer: TimerHandle | undefined;
  /** What this user set with setPresence (sent again on each new connection when `away`). */
  #own: SettablePresenceStatus = 'online';

  constructor(hooks: PresenceHooks) {
    this.#hooks = hooks;
  }

  /**
   * Adds users to those watched (at most 100 in all, the server's cap per connection) and resolves with the
   * statuses of all watched users now; `presence` events follow each change while the client is connected.
   */
  async subscribe(userIds: readonly string[]): Promise<readonly UserStat[]> {
    const added = checkedUserIds('presence.subscribe', userIds);
    const union = new Set([...this.#watched, ...added]);
    if (union.size > MAX_PRESENCE_IDS)
      throw new RangeError(`presence.subscribe: at most ${MAX_PRESENCE_IDS} users watched at once`);
    for (const id of added) this.#watched.add(id);
    return this.#send();
  }

  /**
   * Stops watching users: their statuses are forgotten and their events no longer emitted. The server's
   * subscription shrinks with the next subscribe (or ends with the connection): one with no user cannot be sent.
   */
  async unsubscribe(userIds: readonly string[]): Promise<void> {
    for (const id of userIds) {
      this.#watched.delete(id);
      this.#statuses.delete(id);
    }
    if (this.#watched.size > 0 && this.#hooks.isOpen()) await this.#send();
  }

  /** The users watched. */
  get watched(): readonly string[] {
    return [...this.#watched];
  }

  /** The last status heard of a watched user; undefined before the first reply. */
  status(userId: string): PresenceStatus | undefined {
    return this.#statuses.get(userId);
  }

  /** `presence_set` on this connection, and on every later one while `away`. */
  async set(status: SettablePresenceStatus): Promise<void> {
    this.#own = checkedSettable(status);
    await this.#hooks.request('presence_set', { status });
  }

  /** The connection opened: subscribe again (the old subscription ended with the old connection), re-set away. */
  opened(): void {
    if (this.#own === 'away') this.#hooks.request('presence_set', { status: 'away' }).catch(this.#hooks.failed);
    if (this.#watched.size > 0) this.#send().catch(this.#hooks.failed);
  }

  /** The connection closed: the renewal waits for the next one. */
  lost(): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  /** A `presence` frame: a watched user's new status (frames of users no longer watched are dropped). */
  received(frame: PresenceFrame): void {
    if (this.#watched.has(frame.user_id)) this.#heard({ user_id: frame.user_id, status: frame.status });
  }

  async #send(): Promise<readonly UserStat[]> {
    const ids = [...this.#watched];
    // Nothing watched (all unsubscribed): no subscribe to renew; the server's ends with the connection.
    if (ids.length === 0) return [];
    const reply = await this.#hooks.request('presence_subscribe', { user_ids: ids });
    clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => this.#send().catch(this.#hooks.failed), PRESENCE_RENEW_MS);
    for (const stat of reply.user_stat_list) if (this.#watched.has(stat.user_id)) this.#heard(stat);
    return reply.user_stat_list.filter((stat) => this.#watched.has(stat.user_id));
  }

  #heard(stat: UserStat): void {
    if (this.#statuses.get(stat.user_id) === stat.status) return;
    this.#statuses.set(stat.user_id, stat.status);
    this.#hooks.changed(stat);
  }
}
