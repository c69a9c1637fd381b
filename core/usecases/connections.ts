/**
 * Connection lifecycle: $connect stores the row, adds the id to the user's presence (at most maxConnectionsPerUser:
 * past it the oldest connection is kicked, TeamTalk's KickUser) and schedules the token's expiry; $disconnect and a
 * 410 remove the row, the presence and the pending deliveries; the sweeper kicks a connection whose token expired.
 */
import type { KickReason } from '../../protocol/frames.js';
import { logger } from '../observability.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionStore, PendingStore, PresenceStore } from '../ports/stores.js';
import type { Gateway } from '../ports/gateway.js';
import type { TokenExpiry } from '../domain/pending-delivery.js';
import type { PresenceState } from '../domain/presence.js';

export interface ConnectionPorts {
  readonly connections: ConnectionStore;
  readonly presence: PresenceStore;
  readonly pending: PendingStore;
  readonly clock: Clock;
}

export interface GoneConnectionPorts extends ConnectionPorts {
  readonly config: { readonly connectingGraceMs: number };
}

export interface RegisterConnectionPorts extends ConnectionPorts {
  readonly gateway: Gateway;
  readonly config: { readonly maxConnectionsPerUser: number };
}

export interface ConnectionInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly clientType?: number;
  /** Unix seconds when the connection's token expires. */
  readonly tokenExpiresAt?: number;
}

/**
 * Stores the connection and joins it to the user's presence; returns the connections kicked and the Presence item as
 * the join left it (undefined when the connection stayed out of it), from which $connect decides on a presence check.
 */
export async function registerConnection(
  ports: RegisterConnectionPorts,
  input: ConnectionInput,
): Promise<{ kicked: string[]; presence: PresenceState | undefined }> {
  await ports.connections.put({ ...input, connectedAt: ports.clock.now() });
  const { kicked, presence } = await joinPresence(ports, input);
  if (input.tokenExpiresAt !== undefined) await ports.pending.putExpiry(tokenExpiry(input, input.tokenExpiresAt));
  return { kicked, presence };
}

/**
 * Adds the connection to the user's presence; when the user is at the cap, clears presence entries of connections
 * that are gone, else kicks the oldest connection, and tries again. Bounded by the cap.
 */
async function joinPresence(
  ports: RegisterConnectionPorts,
  input: ConnectionInput,
): Promise<{ kicked: string[]; presence: PresenceState | undefined }> {
  const { userId, connectionId } = input;
  const max = ports.config.maxConnectionsPerUser;
  const kicked: string[] = [];
  for (let round = 0; round <= max; round++) {
    const presence = await ports.presence.add(userId, connectionId, max);
    if (presence) return { kicked, presence };
    const live = (await ports.connections.listByUser(userId, ports.clock.now())).filter(
      (c) => c.connectionId !== connectionId,
    );
    const liveIds = new Set(live.map((c) => c.connectionId));
    const listed = (await ports.presence.connectionsOf([userId])).get(userId) ?? [];
    const stale = listed.filter((id) => id !== connectionId && !liveIds.has(id));
    if (stale.length > 0) {
      await Promise.all(stale.map((id) => ports.presence.remove(userId, id)));
      continue;
    }
    const oldest = live.sort((a, b) => a.connectedAt - b.connectedAt)[0];
    if (!oldest) break;
    await kickConnection(ports, oldest, 'too_many_connections');
    kicked.push(oldest.connectionId);
  }
  logger.warn('presence cap not reached after kicking; connection left out of presence', { userId, connectionId });
  return { kicked, presence: undefined };
}

/**
 * Tells a connection why it is closed (`kick`), closes it (DELETE @connections) and forgets it. A connection that is
 * gone already only needs forgetting.
 */
export async function kickConnection(
  ports: ConnectionPorts & { readonly gateway: Gateway },
  target: { userId: string; connectionId: string; tokenExpiresAt?: number },
  reason: KickReason,
): Promise<void> {
  try {
    await ports.gateway.post(target.connectionId, { type: 'kick', reason });
    await ports.gateway.disconnect(target.connectionId);
  } catch (error) {
    logger.warn('kick not delivered; the connection is forgotten anyway', {
      connectionId: target.connectionId,
      reason,
      error: error as Error,
    });
  }
  await dropConnection(ports, target);
}

/**
 * Forgets a connection that is gone: its row and presence, every delivery still waiting for its ack, its expiry.
 * Returns the deliveries dropped and the Presence item as the removal left it.
 */
export async function dropConnection(
  ports: ConnectionPorts,
  input: { userId: string; connectionId: string; tokenExpiresAt?: number },
): Promise<{ pendingDropped: number; presence: PresenceState }> {
  const [, presence] = await Promise.all([
    ports.connections.delete(input.userId, input.connectionId),
    ports.presence.remove(input.userId, input.connectionId),
    input.tokenExpiresAt === undefined ? undefined : ports.pending.remove(tokenExpiry(input, input.tokenExpiresAt)),
  ]);
  const pendingDropped = await ports.pending.deleteByConnection(input.connectionId, ports.clock.now());
  return { pendingDropped, presence };
}

/**
 * A post answered 410: forgets the connection like dropConnection, unless it started within the connecting grace
 * (CONNECTING_GRACE_MS, 10 s): a connection accepted by $connect answers 410 until API Gateway has finished the
 * upgrade (aws-facts.md), so it is still opening — its row and pending deliveries stay, and the sweeper redelivers
 * once it is open. Returns whether the connection was dropped.
 */
export async function dropGoneConnection(
  ports: GoneConnectionPorts,
  input: { userId: string; connectionId: string },
): Promise<boolean> {
  const startedBefore = ports.clock.now() - ports.config.connectingGraceMs;
  if (!(await ports.connections.deleteIfStartedBefore(input.userId, input.connectionId, startedBefore))) return false;
  await ports.presence.remove(input.userId, input.connectionId);
  await ports.pending.deleteByConnection(input.connectionId, ports.clock.now());
  return true;
}

function tokenExpiry(connection: { userId: string; connectionId: string }, expiresAt: number): TokenExpiry {
  return {
    kind: 'expiry',
    connectionId: connection.connectionId,
    userId: connection.userId,
    slotTime: expiresAt,
    nextDueAt: expiresAt * 1000,
  };
}
