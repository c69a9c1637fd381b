/**
 * Presence (docs/protocol.md "Presence"): `users_stat` reads statuses, `presence_subscribe` replaces a connection's
 * subscription and reads them, `presence_set` marks a connection away or back, and a check announces a user's change
 * to its live subscribers.
 *
 * A status is computed from the user's Presence item (core/domain/presence.ts); `announced` on the same item is what
 * subscribers were last told. A check (run by the presence-jobs worker for $connect and $disconnect, inline for
 * `presence_set`) announces only when the status differs from `announced`, after moving `announced` with a conditional
 * update, so a change is announced once however many checks see it. $disconnect's check is held back
 * (presenceHoldbackSeconds): a connection that comes back before it runs finds `announced` still `online`, and nothing
 * is announced. A blocked pair reads `offline` and is never announced to each other.
 */
import { PRESENCE_SUBSCRIPTION_CHANGES_PER_MINUTE, PRESENCE_SUBSCRIPTION_SECONDS } from '../../protocol/limits.js';
import type { PresenceStatus, SettablePresenceStatus, UserStat } from '../../protocol/frames.js';
import { forEachWithConcurrency } from '../concurrency.js';
import { NO_PRESENCE, statusOf, type PresenceState } from '../domain/presence.js';
import { FrameError } from '../errors.js';
import { METRIC, count, logger } from '../observability.js';
import type { Clock } from '../ports/clock.js';
import type { Gateway } from '../ports/gateway.js';
import type { PresenceCheckQueue, PresenceWatcherStore } from '../ports/presence.js';
import type { BlockStore, PresenceStore, RateLimiter } from '../ports/stores.js';

/**
 * Most subscriber connections one change is posted to (one Query page, 10 BatchGetItems of the pairs' heads, 1,000
 * posts). Past it the change reaches the first 1,000 rows of the watched user's partition and
 * PresenceAnnouncementsCapped counts it; the others read the status on their next subscribe or users_stat.
 */
export const MAX_PRESENCE_ANNOUNCEMENTS = 1000;

/** Checks of one change, each a fresh read: a status that moved again while one was announced is announced too. */
const MAX_CHECK_ROUNDS = 3;

export interface PresenceReadPorts {
  readonly presence: Pick<PresenceStore, 'statesOf'>;
  readonly blocks: Pick<BlockStore, 'blockersAmong' | 'list'>;
}

export interface PresenceAnnouncePorts {
  readonly presence: Pick<PresenceStore, 'stateOf' | 'markAnnounced'>;
  readonly watchers: Pick<PresenceWatcherStore, 'watchersOf' | 'removeWatcher'>;
  readonly blocks: Pick<BlockStore, 'blockersAmong' | 'list'>;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: { readonly fanoutConcurrency: number };
}

export interface PresencePorts extends PresenceReadPorts, PresenceAnnouncePorts {
  readonly presence: Pick<PresenceStore, 'statesOf' | 'stateOf' | 'markAnnounced' | 'setAway'>;
  readonly watchers: PresenceWatcherStore;
  readonly rateLimits: Pick<RateLimiter, 'tryAcquire'>;
}

/**
 * Whether an announcement to this many subscriber connections may be posted: a client's own `presence_set` can flip
 * its status as often as its write budget allows, so its announcements' posts are counted against the user's budget of
 * receivers a second shared with typing (memberDeliveriesPerSecond: one full group's worth), not left at 1,000 posts
 * per flip. The checks of $connect and $disconnect need none: the hold-back and `announced` already bound them.
 */
type AnnouncementBudget = (receivers: number) => Promise<boolean>;

interface Caller {
  readonly userId: string;
  readonly connectionId: string;
}

/** `users_stat`: the statuses of 1–100 users, in the order asked, each once; a blocked pair reads `offline`. */
export async function usersStat(
  ports: PresenceReadPorts,
  userId: string,
  userIds: readonly string[],
): Promise<{ user_stat_list: UserStat[] }> {
  return { user_stat_list: await statusesFor(ports, userId, unique(userIds)) };
}

/**
 * `presence_subscribe`: this connection's subscription becomes exactly these users, until the connection's lifetime
 * ends (PRESENCE_SUBSCRIPTION_SECONDS); rows are written for the users added and deleted for those dropped, all of them
 * rewritten only when the subscription is past half its life (a renewal). The rows written and deleted count against
 * the user's PRESENCE_SUBSCRIPTION_CHANGES_PER_MINUTE (`rate_limited` past it, nothing changed). Replies with the
 * statuses now.
 */
export async function subscribePresence(
  ports: PresencePorts,
  caller: Caller,
  userIds: readonly string[],
): Promise<{ user_stat_list: UserStat[] }> {
  const ids = unique(userIds);
  const now = Math.floor(ports.clock.now() / 1000);
  const current = await ports.watchers.subscriptionOf(caller.connectionId, now);
  const renew = !current || current.expiresAt - now < PRESENCE_SUBSCRIPTION_SECONDS / 2;
  const before = new Set(current?.userIds ?? []);
  const wanted = new Set(ids);
  const change = {
    put: renew ? ids : ids.filter((id) => !before.has(id)),
    drop: [...before].filter((id) => !wanted.has(id)),
  };
  const rows = change.put.length + change.drop.length;
  if (rows > 0 && !(await ports.rateLimits.tryAcquire('subscriptions', caller.userId, ports.clock.now(), rows))) {
    const limit = PRESENCE_SUBSCRIPTION_CHANGES_PER_MINUTE;
    throw new FrameError('rate_limited', `presence_subscribe changes at most ${limit} subscription rows a minute`);
  }
  const expiresAt = renew || !current ? now + PRESENCE_SUBSCRIPTION_SECONDS : current.expiresAt;
  await ports.watchers.replace(caller, change, { userIds: ids, expiresAt });
  return { user_stat_list: await statusesFor(ports, caller.userId, ids) };
}

/** `presence_set`: this connection is away (or back); a change of the user's status is announced at once. */
export async function setPresence(
  ports: PresencePorts,
  caller: Caller,
  status: SettablePresenceStatus,
): Promise<{ status: SettablePresenceStatus }> {
  const state = await ports.presence.setAway(caller.userId, caller.connectionId, status === 'away');
  const budget: AnnouncementBudget = (receivers) =>
    ports.rateLimits.tryAcquire('typing', caller.userId, ports.clock.now(), receivers);
  await checkPresence(ports, caller.userId, state, budget);
  return { status };
}

/**
 * Announces the user's status if it differs from the one last announced. `state` is the item as the caller last saw
 * it (read afresh when absent, and on every further round). Returns the statuses announced; one over `budget` is
 * recorded as announced but posted to no one (subscribers read it on their next subscribe or users_stat).
 */
export async function checkPresence(
  ports: PresenceAnnouncePorts,
  userId: string,
  state?: PresenceState,
  budget?: AnnouncementBudget,
): Promise<PresenceStatus[]> {
  const announced: PresenceStatus[] = [];
  let seen = state ?? (await ports.presence.stateOf(userId));
  for (let round = 0; round < MAX_CHECK_ROUNDS; round++) {
    const status = statusOf(seen);
    if (status === seen.announced) break;
    if (!(await ports.presence.markAnnounced(userId, seen.announced, status))) break; // another check announces it
    if (await announce(ports, userId, status, budget)) announced.push(status);
    seen = await ports.presence.stateOf(userId);
  }
  return announced;
}

/**
 * The checks $connect and $disconnect queue: none when the status after the change is the one announced (a
 * reconnect, a second device); an offline check held back by `holdbackSeconds`, so a reconnect within it is silent.
 */
export async function queuePresenceCheck(
  ports: { readonly presenceChecks: PresenceCheckQueue; readonly config: { readonly presenceHoldbackSeconds: number } },
  userId: string,
  state: PresenceState,
): Promise<void> {
  const status = statusOf(state);
  if (status === state.announced) return;
  const delay = status === 'offline' ? ports.config.presenceHoldbackSeconds : 0;
  await ports.presenceChecks.enqueue({ userId }, delay);
}

/**
 * Posts `presence` to the user's live subscribers but those of a blocked pair (a gone one's row is deleted); false when
 * `budget` refused the posts.
 */
async function announce(
  ports: PresenceAnnouncePorts,
  userId: string,
  status: PresenceStatus,
  budget?: AnnouncementBudget,
): Promise<boolean> {
  const now = Math.floor(ports.clock.now() / 1000);
  const { watchers, more } = await ports.watchers.watchersOf(userId, now, MAX_PRESENCE_ANNOUNCEMENTS);
  if (more) {
    count(METRIC.presenceAnnouncementsCapped, 1);
    logger.warn('presence change reached only the first subscribers', { userId, limit: MAX_PRESENCE_ANNOUNCEMENTS });
  }
  const blocked = await blockedAmong(
    ports,
    userId,
    watchers.map((w) => w.userId),
  );
  const targets = watchers.filter((w) => !blocked.has(w.userId));
  if (budget && targets.length > 0 && !(await budget(targets.length))) {
    logger.warn('presence_set announcement over the receivers budget: not posted', { userId, targets: targets.length });
    return false;
  }
  const frame = { type: 'presence', user_id: userId, status };
  await forEachWithConcurrency(targets, ports.config.fanoutConcurrency, async (watcher) => {
    try {
      if ((await ports.gateway.post(watcher.connectionId, frame)) === 'gone') {
        await ports.watchers.removeWatcher(userId, watcher.connectionId);
      }
    } catch (error) {
      logger.warn('presence frame not delivered', { connectionId: watcher.connectionId, error: error as Error });
    }
  });
  return true;
}

async function statusesFor(ports: PresenceReadPorts, userId: string, ids: readonly string[]): Promise<UserStat[]> {
  const [states, blocked] = await Promise.all([ports.presence.statesOf(ids), blockedAmong(ports, userId, ids)]);
  return ids.map((id) => ({
    user_id: id,
    status: blocked.has(id) ? 'offline' : statusOf(states.get(id) ?? NO_PRESENCE),
  }));
}

/**
 * The others who block the user or whom it blocks: a Query of the user's reverse index (core/store/blocks.ts
 * `blockersAmong`) and its own block list, a page per BLOCK_PAGE (bounded by maxBlocksPerUser) — about 1 read unit
 * each for most users, where reading each pair's head would cost one per subscriber (1,000 for a full announcement).
 */
async function blockedAmong(
  ports: Pick<PresenceReadPorts, 'blocks'>,
  userId: string,
  others: readonly string[],
): Promise<Set<string>> {
  const candidates = unique(others).filter((o) => o !== userId);
  if (candidates.length === 0) return new Set();
  const [blockers, blocked] = await Promise.all([
    ports.blocks.blockersAmong(userId, candidates),
    blockedBy(ports, userId),
  ]);
  return new Set(candidates.filter((c) => blockers.has(c) || blocked.has(c)));
}

const BLOCK_PAGE = 1000;

async function blockedBy(ports: Pick<PresenceReadPorts, 'blocks'>, userId: string): Promise<Set<string>> {
  const blocked = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await ports.blocks.list(userId, after, BLOCK_PAGE);
    for (const id of page.userIds) blocked.add(id);
    after = page.userIds.at(-1);
    if (!page.more || after === undefined) return blocked;
  }
}

const unique = (ids: readonly string[]) => [...new Set(ids)];
