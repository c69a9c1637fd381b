/** Best-effort notices (read notify, read receipts, session removal) to every connection of some users. */
import { forEachWithConcurrency } from '../concurrency.js';
import type { ReplyFrame } from '../domain/frames.js';
import { logger } from '../observability.js';
import type { Clock, ConnectionStore, Gateway } from '../ports.js';

const NOTIFY_CONCURRENCY = 16;

export interface NotifyPorts {
  readonly connections: ConnectionStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
}

/**
 * Posts a notice to the users' connections except one. Not tracked for redelivery, as in TeamTalk: the state it
 * announces is stored and a client reads it on its next sync. A gone connection is left to the sweeper and TTL.
 */
export async function notifyUsers(ports: NotifyPorts, userIds: readonly string[], frame: ReplyFrame, exceptConnectionId?: string): Promise<number> {
  const now = ports.clock.now();
  const targets = (await Promise.all(userIds.map((u) => ports.connections.listByUser(u, now))))
    .flat()
    .filter((c) => c.connectionId !== exceptConnectionId);
  let delivered = 0;
  await forEachWithConcurrency(targets, NOTIFY_CONCURRENCY, async (target) => {
    try {
      if ((await ports.gateway.post(target.connectionId, frame)) === 'delivered') delivered++;
    } catch (error) {
      logger.warn('notice not delivered', { connectionId: target.connectionId, frameType: frame.type, error: error as Error });
    }
  });
  return delivered;
}
