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

export interface GoneConnectionPorts extends ConnectionPorts {
  readonly config: { readonly connectingGraceMs: number };
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
 * A post answered 410: forgets the connection like dropConnection, unless it started within the connecting grace
 * (CONNECTING_GRACE_MS, 10 s): a connection accepted by $connect answers 410 until API Gateway has finished the
 * upgrade (aws-facts.md), so it is still opening — its row and pending deliveries stay, and the sweeper redelivers
 * once it is open. Returns whether the connection was dropped.
 */
export async function dropGoneConnection(ports: GoneConnectionPorts, input: { userId: string; connectionId: string }): Promise<boolean> {
  const startedBefore = ports.clock.now() - ports.config.connectingGraceMs;
  if (!(await ports.connections.deleteIfStartedBefore(input.userId, input.connectionId, startedBefore))) return false;
  await ports.presence.remove(input.userId, input.connectionId);
  await ports.pending.deleteByConnection(input.connectionId, ports.clock.now());
  return true;
}
