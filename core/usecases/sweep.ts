/**
 * The sweeper (what TeamTalk's 1 s timer should have done): redeliver overdue pending deliveries, the same frame to
 * the same connection, count the tries, give up after the bound (the message stays stored for catch-up), and clear
 * connections that turn out to be gone.
 */
import { forEachWithConcurrency } from '../concurrency.js';
import { msgDataFrame } from '../domain/frames.js';
import type { StoredMessage } from '../domain/message.js';
import { GatewayUnavailableError } from '../gateway/connections-api.js';
import { logger } from '../observability.js';
import type { Clock, ConnectionStore, Gateway, MessageStore, PendingDelivery, PendingStore, PresenceStore } from '../ports.js';
import { dropGoneConnection } from './connections.js';
import { announceUndelivered, type UndeliveredPorts } from './undelivered.js';

export interface SweepPorts extends UndeliveredPorts {
  readonly presence: PresenceStore;
  readonly pending: PendingStore;
  readonly messages: MessageStore;
  readonly connections: ConnectionStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: {
    readonly ackTimeoutMs: number;
    readonly maxDeliveryAttempts: number;
    readonly fanoutConcurrency: number;
    readonly pushIncludesBody: boolean;
    readonly connectingGraceMs: number;
  };
}

export interface SweepStats {
  overdue: number;
  redelivered: number;
  gaveUp: number;
  gone: number;
  deferred: number;
}

const messageKey = (conversationId: string, msgId: number) => `${conversationId}\u0000${msgId}`;

export async function sweep(ports: SweepPorts): Promise<SweepStats> {
  const now = ports.clock.now();
  const overdue = await ports.pending.listOverdue(now);
  const stats: SweepStats = { overdue: overdue.length, redelivered: 0, gaveUp: 0, gone: 0, deferred: 0 };
  if (overdue.length === 0) return stats;

  const messages = new Map(
    (await ports.messages.getMany(overdue.map((d) => ({ conversationId: d.conversationId, msgId: d.msgId })))).map((m) => [
      messageKey(m.conversationId, m.msgId),
      m,
    ]),
  );
  const givenUp = new Map<string, { userId: string; message: StoredMessage }>();
  // Rows of one connection are handled in order, so a connection found gone is dropped once and not posted to again.
  const byConnection = new Map<string, PendingDelivery[]>();
  for (const delivery of overdue) byConnection.set(delivery.connectionId, [...(byConnection.get(delivery.connectionId) ?? []), delivery]);

  await forEachWithConcurrency([...byConnection.values()], ports.config.fanoutConcurrency, async (deliveries) => {
    for (const delivery of deliveries) {
      const log = { connectionId: delivery.connectionId, userId: delivery.userId, msgId: delivery.msgId, attempts: delivery.attempts };
      const message = messages.get(messageKey(delivery.conversationId, delivery.msgId));
      if (delivery.attempts >= ports.config.maxDeliveryAttempts || !message) {
        await ports.pending.delete(delivery);
        stats.gaveUp++;
        if (message) givenUp.set(`${delivery.userId}\u0000${messageKey(message.conversationId, message.msgId)}`, { userId: delivery.userId, message });
        logger.warn('delivery given up; the message stays stored for catch-up', log);
        continue;
      }
      try {
        // Post first, count after: a crash in between redelivers once more rather than counting a try never made.
        const result = await ports.gateway.post(delivery.connectionId, msgDataFrame(message));
        if (result === 'gone') {
          stats.gone++;
          await dropGoneConnection(ports, { userId: delivery.userId, connectionId: delivery.connectionId });
          return;
        }
        await ports.pending.recordAttempt(delivery, delivery.attempts + 1, ports.clock.now() + ports.config.ackTimeoutMs);
        stats.redelivered++;
      } catch (error) {
        stats.deferred++;
        if (error instanceof GatewayUnavailableError) logger.warn('redelivery deferred to the next sweep', { ...log, error });
        else logger.error('redelivery failed', { ...log, error: error as Error });
      }
    }
  });
  // One push event per user and message, however many of its connections gave up.
  await Promise.all([...givenUp.values()].map(({ userId, message }) => announceUndelivered(ports, message, [userId], 'gave_up')));
  return stats;
}
