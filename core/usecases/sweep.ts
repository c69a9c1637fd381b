/**
 * The sweeper (what TeamTalk's 1 s timer should have done), run on a schedule. It reads the due rows of the pending
 * table a page at a time, oldest slot first, and acts on each:
 * - a delivery not acked in time: the same frame to the same connection again, counted; after the bound, given up
 *   (the message stays stored for catch-up) — the push event is published first and the row removed only after, so
 *   a sweep that dies in between announces it again rather than never;
 * - a fan-out marker that came due (a group fan-out cut short): the fan-out is resumed;
 * - a token expiry: the connection is kicked (`token_expired`) and closed.
 * Blocks (docs/protocol.md "Block") hold here too: a one-to-one delivery between a pair blocked since is dropped (no
 * post, no push); a group delivery to a user who blocks the sender is posted flagged `blocked_sender` and never pushed.
 * Every row is handled on its own (one failing row does not stop the others), and the sweep stops between pages when
 * its time budget is spent, leaving the rest for the next run: a backlog is worked off over several runs, never lost
 * to a timeout.
 */
import { forEachWithConcurrency } from '../concurrency.js';
import { msgDataFrame, type MsgDataFrame } from '../domain/frames.js';
import { isGroupMsgType, type MessageRecord } from '../domain/message.js';
import { GatewayUnavailableError } from '../errors.js';
import { logger } from '../observability.js';
import type { DueItem, FanoutMarker, PendingDelivery, TokenExpiry } from '../domain/pending-delivery.js';
import type { BlockStore, MessageStore } from '../ports/stores.js';
import { dropGoneConnection, kickConnection } from './connections.js';
import { FANOUT_DEADLINE_MS, fanOutGroup, type DeliverMessagePorts } from './deliver-message.js';
import { undeliveredDetails } from './undelivered.js';

export interface SweepPorts extends DeliverMessagePorts {
  readonly messages: MessageStore;
  /** Which one-to-one pairs are blocked (their deliveries dropped), who blocks a group sender (flagged, not pushed). */
  readonly blocks: Pick<BlockStore, 'blockersAmong' | 'blockedConversations'>;
  readonly config: DeliverMessagePorts['config'] & { readonly maxDeliveryAttempts: number };
}

export interface SweepOptions {
  /** Unix ms after which no new page is started. */
  readonly deadline?: number;
  /** Rows read per Query page. */
  readonly pageSize?: number;
}

export interface SweepStats {
  /** Due rows read. */
  due: number;
  /** Deliveries posted again and counted. */
  redelivered: number;
  /** Deliveries posted again whose row was gone when counting: acked meanwhile. */
  ackedMeanwhile: number;
  /** Deliveries given up (their push event published, their row removed). */
  gaveUp: number;
  /** Connections found gone (410) and removed. */
  gone: number;
  /** Posts that failed after retries: left for the next sweep. */
  deferred: number;
  /** Group fan-outs resumed. */
  fanoutsResumed: number;
  /** Connections kicked because their token expired. */
  expired: number;
  /** One-to-one deliveries dropped because the pair is blocked now. */
  blocked: number;
  /** Rows whose handling failed: left for the next sweep. */
  failed: number;
  /** False when the time budget ran out with due rows left. */
  complete: boolean;
}

const DEFAULT_PAGE_SIZE = 100;

export async function sweep(ports: SweepPorts, options: SweepOptions = {}): Promise<SweepStats> {
  const stats: SweepStats = {
    due: 0,
    redelivered: 0,
    ackedMeanwhile: 0,
    gaveUp: 0,
    gone: 0,
    deferred: 0,
    fanoutsResumed: 0,
    expired: 0,
    blocked: 0,
    failed: 0,
    complete: true,
  };
  // Given up over the whole sweep, announced once at its end: one message's rows lie in several shards (pages).
  const givenUp: GivenUp[] = [];
  for await (const page of ports.pending.listDue(ports.clock.now(), options.pageSize ?? DEFAULT_PAGE_SIZE)) {
    if (options.deadline !== undefined && ports.clock.now() > options.deadline) {
      stats.complete = false;
      logger.warn('sweep out of time; the next run goes on', { ...stats });
      break;
    }
    stats.due += page.length;
    await sweepPage(ports, page, stats, options, givenUp);
  }
  await giveUp(ports, givenUp, stats);
  return stats;
}

/** `blockedSender`: the receiver blocks the sender of this group message: flagged when posted, never pushed. */
type GivenUp = { delivery: PendingDelivery; message: MessageRecord | undefined; blockedSender?: boolean };

async function sweepPage(
  ports: SweepPorts,
  page: readonly DueItem[],
  stats: SweepStats,
  options: SweepOptions,
  givenUp: GivenUp[],
): Promise<void> {
  const deliveries = page.filter((i): i is PendingDelivery => i.kind === 'delivery');
  await Promise.all([
    sweepDeliveries(ports, deliveries, stats, givenUp),
    ...page
      .filter((i): i is FanoutMarker => i.kind === 'fanout')
      .map((m) => isolated(stats, m, () => resumeFanout(ports, m, stats, options))),
    ...page
      .filter((i): i is TokenExpiry => i.kind === 'expiry')
      .map((e) => isolated(stats, e, () => expireConnection(ports, e, stats))),
  ]);
}

async function sweepDeliveries(
  ports: SweepPorts,
  deliveries: readonly PendingDelivery[],
  stats: SweepStats,
  givenUp: GivenUp[],
): Promise<void> {
  if (deliveries.length === 0) return;
  const messages = new Map(
    (await ports.messages.getMany(deliveries.map((d) => ({ conversationId: d.conversationId, msgId: d.msgId })))).map(
      (m) => [messageKey(m), m],
    ),
  );
  const blocked = await blockedDeliveries(ports, deliveries, messages);
  // Rows of one connection in order, so a connection found gone is dropped once and not posted to again.
  const byConnection = new Map<string, PendingDelivery[]>();
  for (const d of deliveries) byConnection.set(d.connectionId, [...(byConnection.get(d.connectionId) ?? []), d]);
  await forEachWithConcurrency([...byConnection.values()], ports.config.fanoutConcurrency, async (rows) => {
    for (const delivery of rows) {
      const message = messages.get(messageKey(delivery));
      if (blocked.dropped.has(delivery)) {
        await isolated(stats, delivery, async () => {
          await ports.pending.remove(delivery);
          stats.blocked++;
        });
        continue;
      }
      const blockedSender = blocked.flagged.has(delivery);
      if (!message || delivery.attempts >= ports.config.maxDeliveryAttempts) {
        givenUp.push({ delivery, message, blockedSender });
        continue;
      }
      const frame = msgDataFrame(message, { blockedSender });
      const outcome = await isolated(stats, delivery, () => redeliver(ports, delivery, frame, stats));
      if (outcome === 'gone') return;
    }
  });
}

/**
 * The page's deliveries a block concerns: one-to-one rows to the peer of a pair blocked either way (`dropped`: one
 * BatchGetItem of the pairs' heads), and group rows to a user who blocks the sender (`flagged`: one Query per sender).
 * Rows to the sender's own other connections are not concerned.
 */
async function blockedDeliveries(
  ports: SweepPorts,
  deliveries: readonly PendingDelivery[],
  messages: ReadonlyMap<string, MessageRecord>,
): Promise<{ dropped: Set<PendingDelivery>; flagged: Set<PendingDelivery> }> {
  const single: PendingDelivery[] = [];
  const groupBySender = new Map<string, PendingDelivery[]>();
  for (const delivery of deliveries) {
    const message = messages.get(messageKey(delivery));
    if (!message || delivery.userId === message.fromUserId) continue;
    if (!isGroupMsgType(message.msgType)) single.push(delivery);
    else groupBySender.set(message.fromUserId, [...(groupBySender.get(message.fromUserId) ?? []), delivery]);
  }
  const blockedPairs = await ports.blocks.blockedConversations(single.map((d) => d.conversationId));
  const flagged = new Set<PendingDelivery>();
  await Promise.all(
    [...groupBySender].map(async ([senderId, rows]) => {
      const blockers = await ports.blocks.blockersAmong(
        senderId,
        rows.map((d) => d.userId),
      );
      for (const d of rows) if (blockers.has(d.userId)) flagged.add(d);
    }),
  );
  return { dropped: new Set(single.filter((d) => blockedPairs.has(d.conversationId))), flagged };
}

/** Posts first, counts after: a crash in between redelivers once more rather than counting a try never made. */
async function redeliver(
  ports: SweepPorts,
  delivery: PendingDelivery,
  frame: MsgDataFrame,
  stats: SweepStats,
): Promise<'gone' | 'posted' | 'deferred'> {
  let result;
  try {
    result = await ports.gateway.post(delivery.connectionId, frame);
  } catch (error) {
    if (!(error instanceof GatewayUnavailableError)) throw error;
    stats.deferred++;
    logger.warn('redelivery deferred to the next sweep', {
      connectionId: delivery.connectionId,
      msgId: delivery.msgId,
      error,
    });
    return 'deferred';
  }
  if (result === 'gone') {
    if (await dropGoneConnection(ports, delivery)) stats.gone++;
    return 'gone';
  }
  if (await ports.pending.recordAttempt(delivery, delivery.attempts + 1, ports.clock.now() + ports.config.ackTimeoutMs))
    stats.redelivered++;
  else stats.ackedMeanwhile++;
  return 'posted';
}

/**
 * Deliveries out of attempts (or whose message is gone, by retention): one push event per message for the users
 * concerned (not the sender's own devices), published before the rows go; if publishing fails the rows stay and the
 * next sweep tries again.
 */
async function giveUp(ports: SweepPorts, givenUp: readonly GivenUp[], stats: SweepStats): Promise<void> {
  const byMessage = new Map<string, { message: MessageRecord; receivers: Set<string> }>();
  for (const { delivery, message, blockedSender } of givenUp) {
    // A tombstone or a recalled message has nothing to push (the catch-up shows it); nor has a blocked sender's message.
    if (!message || message.deleted || message.recalled || delivery.userId === message.fromUserId || blockedSender)
      continue;
    const entry = byMessage.get(messageKey(message)) ?? { message, receivers: new Set<string>() };
    entry.receivers.add(delivery.userId);
    byMessage.set(messageKey(message), entry);
  }
  const published = new Set<string>();
  for (const [key, { message, receivers }] of byMessage) {
    try {
      await ports.events.publishUndelivered(
        undeliveredDetails(message, [...receivers], 'gave_up', ports.config.pushIncludesBody),
      );
      published.add(key);
    } catch (error) {
      logger.error('give-up not announced; the rows stay for the next sweep', {
        msgId: message.msgId,
        error: error as Error,
      });
    }
  }
  await forEachWithConcurrency(givenUp, ports.config.fanoutConcurrency, async ({ delivery, message }) => {
    if (message && byMessage.has(messageKey(message)) && !published.has(messageKey(message))) return;
    await isolated(stats, delivery, async () => {
      await ports.pending.remove(delivery);
      stats.gaveUp++;
      logger.warn('delivery given up; the message stays stored for catch-up', {
        connectionId: delivery.connectionId,
        msgId: delivery.msgId,
      });
    });
  });
}

/** A group fan-out cut short: resumed from the members, recording rows only where none is. */
async function resumeFanout(
  ports: SweepPorts,
  marker: FanoutMarker,
  stats: SweepStats,
  options: SweepOptions,
): Promise<void> {
  const message = await ports.messages.get(marker.conversationId, marker.msgId);
  if (!message || marker.attempts >= ports.config.maxDeliveryAttempts) {
    // Never stored (a resend stores it and fans it out itself), or resumed too often: members catch up.
    if (message)
      logger.error('fan-out given up after resumptions; members get the message by catch-up', { msgId: marker.msgId });
    await ports.pending.remove(marker);
    return;
  }
  await ports.pending.rescheduleMarker(marker, ports.clock.now() + FANOUT_DEADLINE_MS);
  const result = await fanOutGroup(
    ports,
    message,
    { ...marker, attempts: marker.attempts + 1 },
    {
      mode: 'resume',
      ...(marker.exceptConnectionId === undefined ? {} : { exceptConnectionId: marker.exceptConnectionId }),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    },
  );
  stats.fanoutsResumed++;
  stats.gone += result.gone;
  stats.deferred += result.deferred;
}

/** The token of the connection expired: `kick` (token_expired), close, forget. */
async function expireConnection(ports: SweepPorts, expiry: TokenExpiry, stats: SweepStats): Promise<void> {
  await kickConnection(ports, { userId: expiry.userId, connectionId: expiry.connectionId }, 'token_expired');
  await ports.pending.remove(expiry);
  stats.expired++;
}

/** Runs one row's handling; a failure is logged and counted, and the row stays for the next sweep. */
async function isolated<T>(stats: SweepStats, item: DueItem, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    stats.failed++;
    logger.error('sweep of a row failed; it stays for the next sweep', { kind: item.kind, error: error as Error });
    return undefined;
  }
}

function messageKey(m: { conversationId: string; msgId: number }): string {
  return `${m.conversationId}\u0000${m.msgId}`;
}
