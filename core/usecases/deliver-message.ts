/**
 * The delivering half of send (TeamTalk's BroadcastClientMsgData + AddToSendList): post msg_data to every
 * connection of both users but the sending one, recording each delivery as pending before posting it, so a crash
 * between the two leaves a row for the sweeper rather than a silent loss.
 */
import { forEachWithConcurrency } from '../concurrency.js';
import { msgDataFrame } from '../domain/frames.js';
import { SessionType } from '../domain/ids.js';
import { GROUP_MSG_TYPES, type StoredMessage } from '../domain/message.js';
import { GatewayUnavailableError } from '../gateway/connections-api.js';
import { logger } from '../observability.js';
import type { Clock, ConnectionStore, Gateway, GroupStore, PendingStore, PresenceStore, SessionStore } from '../ports.js';
import { dropGoneConnection } from './connections.js';
import { announceUndelivered, type UndeliveredPorts } from './undelivered.js';

export interface DeliverMessagePorts extends UndeliveredPorts {
  readonly connections: ConnectionStore;
  readonly presence: PresenceStore;
  readonly groups: GroupStore;
  readonly sessions: SessionStore;
  readonly pending: PendingStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: { readonly ackTimeoutMs: number; readonly fanoutConcurrency: number; readonly pushIncludesBody: boolean; readonly connectingGraceMs: number };
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
}

export async function deliverMessage(
  ports: DeliverMessagePorts,
  message: StoredMessage,
  options: { exceptConnectionId?: string },
): Promise<DeliveryStats> {
  const { targets: all, receivers } = await deliveryTargets(ports, message);
  const targets = all.filter((c) => c.connectionId !== options.exceptConnectionId);
  const online = new Set(all.map((t) => t.userId));
  const offline = receivers.filter((u) => !online.has(u));
  const frame = msgDataFrame(message);
  const stats: DeliveryStats = { delivered: 0, gone: 0, deferred: 0, offline: offline.length };
  if (offline.length > 0) await announceUndelivered(ports, message, offline, 'offline');

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
      await dropGoneConnection(ports, { userId: target.userId, connectionId: target.connectionId });
    } catch (error) {
      // Its rows stay until the sweeper meets the same 410 or TTL removes them.
      logger.error('gone connection not removed', { ...log, error: error as Error });
    }
  });
  return stats;
}

interface Target {
  readonly userId: string;
  readonly connectionId: string;
}

/**
 * Every connection of both users of a single chat (two strongly consistent Queries), or of every member of a group
 * (one Query of the members, one BatchGetItem of presence per 100 members); and who the receivers are.
 */
async function deliveryTargets(ports: DeliverMessagePorts, message: StoredMessage): Promise<{ targets: Target[]; receivers: string[] }> {
  if (!GROUP_MSG_TYPES.includes(message.msgType)) {
    const now = ports.clock.now();
    const [sender, receiver] = await Promise.all([
      ports.connections.listByUser(message.fromUserId, now),
      ports.connections.listByUser(message.toSessionId, now),
    ]);
    return { targets: [...sender, ...receiver], receivers: [message.toSessionId] };
  }
  const groupId = message.toSessionId;
  const [members] = await Promise.all([
    ports.groups.members(groupId),
    // The sender has read up to its own message: its group unread does not count it. Best effort.
    ports.sessions
      .markRead({ userId: message.fromUserId, sessionType: SessionType.Group, sessionId: groupId }, message.msgId, 0)
      .catch((error: unknown) => logger.warn('sender read mark not moved', { msgId: message.msgId, error: error as Error })),
  ]);
  const presence = await ports.presence.connectionsOf(members);
  return {
    targets: [...presence].flatMap(([userId, connectionIds]) => connectionIds.map((connectionId) => ({ userId, connectionId }))),
    receivers: members.filter((m) => m !== message.fromUserId),
  };
}
