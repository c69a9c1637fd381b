/**
 * The delivering half of send (TeamTalk's BroadcastClientMsgData + AddToSendList): post msg_data to every
 * connection of both users but the sending one, recording each delivery as pending before posting it, so a crash
 * between the two leaves a row for the sweeper rather than a silent loss.
 */
import { forEachWithConcurrency } from '../concurrency.js';
import { msgDataFrame } from '../domain/frames.js';
import type { StoredMessage } from '../domain/message.js';
import { GatewayUnavailableError } from '../gateway/connections-api.js';
import { logger } from '../observability.js';
import type { Clock, ConnectionStore, Gateway, PendingStore } from '../ports.js';
import { dropConnection } from './connections.js';

export interface DeliverMessagePorts {
  readonly connections: ConnectionStore;
  readonly pending: PendingStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: { readonly ackTimeoutMs: number; readonly fanoutConcurrency: number };
}

export interface DeliveryStats {
  /** Connections posted to successfully. */
  delivered: number;
  /** Connections found gone (410) and removed. */
  gone: number;
  /** Posts that failed after retries (throttled, timed out): left pending for the sweeper. */
  deferred: number;
}

export async function deliverMessage(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  options: { exceptConnectionId?: string },
): Promise<DeliveryStats> {
  const now = ports.clock.now();
  const [senderConnections, receiverConnections] = await Promise.all([
    ports.connections.listByUser(message.fromUserId, now),
    ports.connections.listByUser(message.toSessionId, now),
  ]);
  const targets = [...senderConnections, ...receiverConnections].filter((c) => c.connectionId !== options.exceptConnectionId);
  const frame = msgDataFrame(message);
  const stats: DeliveryStats = { delivered: 0, gone: 0, deferred: 0 };

  await forEachWithConcurrency(targets, ports.config.fanoutConcurrency, async (target) => {
    const log = { connectionId: target.connectionId, userId: target.userId, msgId: message.msgId };
    try {
      await ports.pending.put({
        connectionId: target.connectionId,
        userId: target.userId,
        conversationId: message.conversationId,
        msgId: message.msgId,
        createTime: message.createTime,
        attempts: 1,
        nextDueAt: ports.clock.now() + ports.config.ackTimeoutMs,
      });
    } catch (error) {
      // Deliver anyway: without the row there is no redelivery, but the message is stored and catch-up finds it.
      logger.error('pending row not recorded', { ...log, error: error as Error });
    }
    let result;
    try {
      result = await ports.gateway.post(target.connectionId, frame);
    } catch (error) {
      stats.deferred++;
      if (error instanceof GatewayUnavailableError) logger.warn('delivery deferred to the sweeper', { ...log, error });
      else logger.error('delivery failed', { ...log, error: error as Error });
      return;
    }
    if (result === 'delivered') {
      stats.delivered++;
      return;
    }
    stats.gone++;
    try {
      await dropConnection(ports, { userId: target.userId, connectionId: target.connectionId });
    } catch (error) {
      // Its rows stay until the sweeper meets the same 410 or TTL removes them.
      logger.error('gone connection not removed', { ...log, error: error as Error });
    }
  });
  return stats;
}
