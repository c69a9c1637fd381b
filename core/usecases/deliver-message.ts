/**
 * The delivering half of send (TeamTalk's BroadcastClientMsgData + AddToSendList), made durable before the ack so that
 * every stored message reaches every target connection, live or by redelivery, whichever step dies:
 * - single chat (at most 2 × maxConnectionsPerUser − 1 targets): every delivery is recorded as pending in one
 *   BatchWriteItem before the sender is acked; the posts follow. A death before the record leaves no ack, so the
 *   client resends and the resend finishes the delivery; a death after it leaves rows the sweeper redelivers.
 * - group: a fan-out marker is recorded before the ack; the fan-out (index entries, presence, pending rows, posts,
 *   offline events) runs under a time budget and removes the marker when done. A fan-out cut short — a timeout, a
 *   crash — leaves the marker, and the sweeper resumes it.
 * A resumed delivery (a resend, the sweeper) records rows only where none is (so no redelivery count is reset) and
 * posts to every target: a copy a client already has is dropped by its de-duplication.
 */
import { forEachWithConcurrency } from '../concurrency.js';
import { msgDataFrame, type MsgDataFrame } from '../domain/frames.js';
import { SessionType, unixDay } from '../domain/ids.js';
import { isGroupMsgType, type StoredMessage } from '../domain/message.js';
import { GatewayUnavailableError } from '../errors.js';
import { logger } from '../observability.js';
import type { Clock } from '../ports/clock.js';
import type {
  BlockStore,
  ConnectionStore,
  ConversationStore,
  GroupStore,
  PendingStore,
  PresenceStore,
  SessionStore,
} from '../ports/stores.js';
import { type FanoutMarker, type PendingDelivery, deliverySlotTime } from '../domain/pending-delivery.js';
import type { Gateway } from '../ports/gateway.js';
import { dropGoneConnection } from './connections.js';
import { announceUndelivered, type UndeliveredPorts } from './undelivered.js';

export interface DeliverMessagePorts extends UndeliveredPorts {
  readonly connections: ConnectionStore;
  readonly presence: PresenceStore;
  readonly groups: GroupStore;
  readonly sessions: SessionStore;
  readonly conversations: ConversationStore;
  readonly pending: PendingStore;
  /** Who blocks a group message's sender: their copies are flagged and never pushed. */
  readonly blocks: Pick<BlockStore, 'blockersAmong'>;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: {
    readonly ackTimeoutMs: number;
    readonly fanoutConcurrency: number;
    readonly pushIncludesBody: boolean;
    readonly connectingGraceMs: number;
  };
}

export interface DeliveryStats {
  /** Connections posted to successfully. */
  delivered: number;
  /** Connections found gone (410) and removed. */
  gone: number;
  /** Posts that failed after retries (throttled, timed out): left pending for the sweeper. */
  deferred: number;
  /** Receivers with no connection, announced on the offline push hook. */
  offline: number;
  /** False when the time budget ran out first: the marker stays and the sweeper resumes the fan-out. */
  complete: boolean;
}

/** `fresh`: nothing of this delivery was recorded yet. `resume`: an earlier attempt may have done part of it. */
export type DeliveryMode = 'fresh' | 'resume';

export interface DeliveryOptions {
  /** The sending connection: it gets the ack, not the message. */
  readonly exceptConnectionId?: string;
  readonly mode: DeliveryMode;
  /** Unix ms after which a group fan-out stops and leaves the rest to the sweeper. */
  readonly deadline?: number;
  /** The group's index day as numbering returned it; read from the head when unknown (a resumed fan-out). */
  readonly indexedDay?: number;
}

/** A delivery made durable; `run` posts (and, for a group, fans out). */
export interface PreparedDelivery {
  run(): Promise<DeliveryStats>;
}

/** How long a group fan-out may take before the sweeper resumes it: API Gateway's 29 s integration limit and slack. */
export const FANOUT_DEADLINE_MS = 60_000;
/** Pending rows written per step of a group fan-out (a BatchWriteItem holds 25). */
const FANOUT_CHUNK = 25;

interface Target {
  readonly userId: string;
  readonly connectionId: string;
}

export function isGroupMessage(message: StoredMessage): boolean {
  return isGroupMsgType(message.msgType);
}

/**
 * A group's fan-out marker: it needs only the msg_id, so it may be made durable while the message is stored (the
 * sweeper drops a marker whose message never got stored). A single chat has no such part: its connections are read
 * after the store, so that a client that connected and synced before the store is among the targets.
 */
export async function recordFanoutMarker(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  options: Pick<DeliveryOptions, 'exceptConnectionId'>,
): Promise<FanoutMarker> {
  const now = ports.clock.now();
  const marker: FanoutMarker = {
    kind: 'fanout',
    conversationId: message.conversationId,
    msgId: message.msgId,
    ...(options.exceptConnectionId === undefined ? {} : { exceptConnectionId: options.exceptConnectionId }),
    slotTime: Math.floor(now / 1000),
    attempts: 0,
    nextDueAt: now + FANOUT_DEADLINE_MS,
  };
  await ports.pending.putMarker(marker);
  return marker;
}

/** Makes the delivery durable: call after the message is stored and before acking the sender. */
export async function prepareDelivery(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  options: DeliveryOptions & {
    /** The group's fan-out marker when it was recorded already (recordFanoutMarker, beside the store). */
    readonly marker?: FanoutMarker;
  },
): Promise<PreparedDelivery> {
  if (isGroupMessage(message)) {
    const marker = options.marker ?? (await recordFanoutMarker(ports, message, options));
    return { run: () => fanOutGroup(ports, message, marker, options) };
  }
  const now = ports.clock.now();
  const [sender, receiver] = await Promise.all([
    ports.connections.listByUser(message.fromUserId, now),
    ports.connections.listByUser(message.toSessionId, now),
  ]);
  const targets = [...sender, ...receiver].filter((c) => c.connectionId !== options.exceptConnectionId);
  await recordDeliveries(ports, message, targets, options.mode);
  return {
    run: async () => {
      const stats = await postAll(ports, message, targets);
      // The offline push hook, once per message: a resend's receiver was announced by the first attempt.
      if (receiver.length === 0 && options.mode === 'fresh') {
        stats.offline = 1;
        await announceUndelivered(ports, message, [message.toSessionId], 'offline');
      }
      return stats;
    },
  };
}

/**
 * A group's fan-out, from the members to the offline announcement; resumable at any point (the sweeper calls it for
 * a marker that came due). Removes the marker when complete.
 */
export async function fanOutGroup(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  marker: FanoutMarker,
  options: DeliveryOptions,
): Promise<DeliveryStats> {
  const groupId = message.toSessionId;
  const members = await ports.groups.members(groupId);
  // One Query of the sender's reverse block index per message (docs/protocol.md "Block"), not one read per member.
  const [blockers] = await Promise.all([
    ports.blocks.blockersAmong(message.fromUserId, members),
    moveSenderReadMark(ports, message),
    indexMembers(ports, message, members, options.indexedDay),
  ]);
  const presence = await ports.presence.connectionsOf(members);
  const targets = [...presence]
    .flatMap(([userId, connectionIds]) => connectionIds.map((connectionId) => ({ userId, connectionId })))
    .filter((t) => t.connectionId !== options.exceptConnectionId);
  const stats = emptyStats();
  for (let i = 0; i < targets.length; i += FANOUT_CHUNK) {
    // At least one chunk per run, so that every run moves the fan-out on.
    if (i > 0 && options.deadline !== undefined && ports.clock.now() > options.deadline) {
      logger.warn('fan-out out of time; the sweeper resumes it', {
        msgId: message.msgId,
        done: i,
        targets: targets.length,
      });
      return { ...stats, complete: false };
    }
    const chunk = targets.slice(i, i + FANOUT_CHUNK);
    await recordDeliveries(ports, message, chunk, options.mode);
    addStats(stats, await postAll(ports, message, chunk, blockers));
  }
  const offline = members.filter((m) => m !== message.fromUserId && !presence.has(m));
  stats.offline = offline.length;
  // A blocker is never pushed its blocked member's messages; it finds them (flagged) when it catches up.
  await announceUndelivered(
    ports,
    message,
    offline.filter((m) => !blockers.has(m)),
    'offline',
  );
  await ports.pending.remove(marker);
  return stats;
}

/** Pending rows for the targets: fresh ones in batches; a resumed delivery only where none is. */
async function recordDeliveries(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  targets: readonly Target[],
  mode: DeliveryMode,
): Promise<void> {
  const now = ports.clock.now();
  const deliveries = targets.map(
    (t): PendingDelivery => ({
      kind: 'delivery',
      connectionId: t.connectionId,
      userId: t.userId,
      conversationId: message.conversationId,
      msgId: message.msgId,
      createTime: message.createTime,
      slotTime: deliverySlotTime(message.createTime, Math.floor(now / 1000)),
      attempts: 1,
      nextDueAt: now + ports.config.ackTimeoutMs,
    }),
  );
  if (mode === 'fresh') await ports.pending.putMany(deliveries);
  else
    await forEachWithConcurrency(
      deliveries,
      ports.config.fanoutConcurrency,
      async (d) => void (await ports.pending.putIfAbsent(d)),
    );
}

/**
 * Posts msg_data to each target (flagged `blocked_sender` for the users in `blockers`); a 410 drops the connection, a
 * failure after retries leaves the row for the sweeper.
 */
async function postAll(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  targets: readonly Target[],
  blockers: ReadonlySet<string> = new Set(),
): Promise<DeliveryStats> {
  const frame = msgDataFrame(message);
  const flagged = msgDataFrame(message, { blockedSender: true });
  const stats = emptyStats();
  await forEachWithConcurrency(targets, ports.config.fanoutConcurrency, async (target) => {
    addStats(stats, await postOne(ports, target, blockers.has(target.userId) ? flagged : frame));
  });
  return stats;
}

async function postOne(
  ports: DeliverMessagePorts,
  target: Target,
  frame: MsgDataFrame,
): Promise<Partial<DeliveryStats>> {
  const log = { connectionId: target.connectionId, userId: target.userId, msgId: frame.msg_id };
  try {
    if ((await ports.gateway.post(target.connectionId, frame)) === 'delivered') return { delivered: 1 };
  } catch (error) {
    if (error instanceof GatewayUnavailableError) logger.warn('delivery deferred to the sweeper', { ...log, error });
    else logger.error('delivery failed; the sweeper retries', { ...log, error: error as Error });
    return { deferred: 1 };
  }
  try {
    await dropGoneConnection(ports, target);
  } catch (error) {
    // Its rows stay until the sweeper meets the same 410 or TTL removes them.
    logger.error('gone connection not removed', { ...log, error: error as Error });
  }
  return { gone: 1 };
}

/** The sender has read up to its own message: its group unread does not count it. Best effort. */
async function moveSenderReadMark(ports: DeliverMessagePorts, message: StoredMessage): Promise<void> {
  try {
    await ports.sessions.markRead(
      { userId: message.fromUserId, sessionType: SessionType.Group, sessionId: message.toSessionId },
      message.msgId,
      0,
    );
  } catch (error) {
    logger.warn('sender read mark not moved', { msgId: message.msgId, error: error as Error });
  }
}

/**
 * The first group message of a day writes every member's session index entry for the day (and removes the day
 * before's): recent_sessions and unread_cnt then read a page's worth of entries. The day is recorded on the head after
 * the entries, so a fan-out cut short before it is redone by the next message or the sweeper.
 */
async function indexMembers(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  members: readonly string[],
  knownDay: number | undefined,
): Promise<void> {
  const day = unixDay(message.createTime);
  const indexedDay = knownDay ?? (await ports.conversations.get(message.conversationId))?.indexedDay ?? 0;
  if (indexedDay >= day) return;
  const entries = members.map((userId) => ({
    userId,
    sessionType: SessionType.Group,
    sessionId: message.toSessionId,
    conversationId: message.conversationId,
  }));
  await ports.sessions.index(entries, day, indexedDay);
  await ports.conversations.markIndexed(message.conversationId, day);
}

function emptyStats(): DeliveryStats {
  return { delivered: 0, gone: 0, deferred: 0, offline: 0, complete: true };
}

function addStats(into: DeliveryStats, add: Partial<DeliveryStats>): void {
  into.delivered += add.delivered ?? 0;
  into.gone += add.gone ?? 0;
  into.deferred += add.deferred ?? 0;
  into.offline += add.offline ?? 0;
  if (add.complete === false) into.complete = false;
}
