/** Connection lifecycle: $connect stores the row; $disconnect and a 410 remove it with its pending deliveries. */
import type { Clock, ConnectionStore, PendingStore } from '../ports.js';

export interface ConnectionPorts {
  readonly connections: ConnectionStore;
  readonly pending: PendingStore;
  readonly clock: Clock;
}

export async function registerConnection(
  ports: Pick<ConnectionPorts, 'connections' | 'clock'>,
  input: { userId: string; connectionId: string; clientType?: number },
): Promise<void> {
  await ports.connections.put({ ...input, connectedAt: ports.clock.now() });
}

/** Forgets a connection that is gone: its row, then every delivery still waiting for its ack. */
export async function dropConnection(ports: ConnectionPorts, input: { userId: string; connectionId: string }): Promise<number> {
  await ports.connections.delete(input.userId, input.connectionId);
  return ports.pending.deleteByConnection(input.connectionId, ports.clock.now());
}
