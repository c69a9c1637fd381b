/**
 * Connection lifecycle: $connect stores the row and adds the id to the user's presence; $disconnect and a 410
 * remove both, with the connection's pending deliveries.
 */
import type { Clock, ConnectionStore, PendingStore, PresenceStore } from '../ports.js';

export interface ConnectionPorts {
  readonly connections: ConnectionStore;
  readonly presence: PresenceStore;
  readonly pending: PendingStore;
  readonly clock: Clock;
}

export async function registerConnection(
  ports: Pick<ConnectionPorts, 'connections' | 'presence' | 'clock'>,
  input: { userId: string; connectionId: string; clientType?: number },
): Promise<void> {
  await ports.connections.put({ ...input, connectedAt: ports.clock.now() });
  await ports.presence.add(input.userId, input.connectionId);
}

/** Forgets a connection that is gone: its row and presence, then every delivery still waiting for its ack. */
export async function dropConnection(ports: ConnectionPorts, input: { userId: string; connectionId: string }): Promise<number> {
  await Promise.all([ports.connections.delete(input.userId, input.connectionId), ports.presence.remove(input.userId, input.connectionId)]);
  return ports.pending.deleteByConnection(input.connectionId, ports.clock.now());
}

/**
 * A connection accepted by $connect answers 410 until API Gateway has finished the upgrade (aws-facts.md: posting
 * from inside $connect answers 410). A 410 within this long of the connection's start is not taken as gone.
 */
export const CONNECTING_GRACE_MS = 10_000;

/**
 * A post answered 410: forgets the connection like dropConnection, unless it started within CONNECTING_GRACE_MS —
 * then it is still opening, and its row and pending deliveries stay (the sweeper redelivers once it is open).
 * Returns whether the connection was dropped.
 */
export async function dropGoneConnection(ports: ConnectionPorts, input: { userId: string; connectionId: string }): Promise<boolean> {
  const startedBefore = ports.clock.now() - CONNECTING_GRACE_MS;
  if (!(await ports.connections.deleteIfStartedBefore(input.userId, input.connectionId, startedBefore))) return false;
  await ports.presence.remove(input.userId, input.connectionId);
  await ports.pending.deleteByConnection(input.connectionId, ports.clock.now());
  return true;
}
