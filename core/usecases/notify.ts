/** Best-effort notices (read notify, read receipts, session removal, group changes) to every connection of some users. */
import { forEachWithConcurrency } from '../concurrency.js';
import type { ReplyFrame } from '../domain/frames.js';
import { logger } from '../observability.js';
import type { Gateway } from '../ports/gateway.js';
import type { PresenceStore } from '../ports/stores.js';

export interface NotifyPorts {
  readonly presence: PresenceStore;
  readonly gateway: Gateway;
  readonly config: { readonly fanoutConcurrency: number };
}

/**
 * Posts a notice to the users' connections except one: their presence (one BatchGetItem per 100 users), then one post
 * per connection. Not tracked for redelivery, as in TeamTalk: the state it announces is stored and a client reads it on
 * its next sync. A gone connection is left to the sweeper and TTL.
 */
export async function notifyUsers(
  ports: NotifyPorts,
  userIds: readonly string[],
  frame: ReplyFrame,
  exceptConnectionId?: string,
): Promise<number> {
  const presence = await ports.presence.connectionsOf(userIds);
  const targets = [...presence.values()].flat().filter((c) => c !== exceptConnectionId);
  let delivered = 0;
  await forEachWithConcurrency(targets, ports.config.fanoutConcurrency, async (connectionId) => {
    try {
      if ((await ports.gateway.post(connectionId, frame)) === 'delivered') delivered++;
    } catch (error) {
      logger.warn('notice not delivered', { connectionId, frameType: frame.type, error: error as Error });
    }
  });
  return delivered;
}
