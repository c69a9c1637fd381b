/**
 * SDK devices for the bench's realistic workloads: each user one ChatClient (client/, the SDK applications use) over
 * a `ws` socket that counts the frames it sends and receives (API Gateway messages, into the stack's FrameCounter) and
 * whose network can be cut: offline, the socket is terminated (the emulator runs $disconnect) and the SDK's reconnect
 * attempts go to a closed port until the network is back; sends made meanwhile wait in the SDK's outbox.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { ChatClient, type ReceivedMessage } from '../client/index.js';
import type { BenchStack } from './stack.js';
import { pool } from './stats.js';

/** Nothing listens on port 1: a connection attempt while offline is refused at once, without reaching the stack. */
const UNREACHABLE = 'ws://127.0.0.1:1';

/** Frames the fleet's sockets sent, by action, and how many msg_ids their delivery acks carried. */
export class FrameTally {
  readonly sent = new Map<string, number>();
  ackedIds = 0;

  count(data: unknown): void {
    let frame: { action?: unknown; msg_ids?: unknown };
    try {
      frame = JSON.parse(String(data)) as typeof frame;
    } catch {
      return;
    }
    const action = String(frame.action);
    this.sent.set(action, (this.sent.get(action) ?? 0) + 1);
    if (action === 'msg_data_ack') this.ackedIds += Array.isArray(frame.msg_ids) ? frame.msg_ids.length : 1;
  }

  reset(): void {
    this.sent.clear();
    this.ackedIds = 0;
  }
}

export class Device {
  online = true;
  socket: WebSocket | undefined;
  /** Messages this device got (live or caught up), each with when (performance.now()). */
  readonly received: { readonly message: ReceivedMessage; readonly at: number }[] = [];
  readonly client: ChatClient;

  constructor(
    bs: BenchStack,
    readonly userId: string,
    token: string,
    tally: FrameTally,
    ackBatchMs: number,
  ) {
    const device = this;
    class CountingSocket extends WebSocket {
      constructor(url: string) {
        super(device.online ? url : UNREACHABLE, { perMessageDeflate: false });
        device.socket = this;
        this.on('message', () => void bs.frames.out++);
      }
      override send(data: unknown, ...rest: unknown[]): void {
        bs.frames.in++;
        tally.count(data);
        (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    }
    this.client = new ChatClient({
      url: bs.stack.url,
      token,
      WebSocket: CountingSocket,
      ackBatchMs,
      networkEvents: false,
      // Two cores run every client, the emulator, the handlers and DynamoDB Local: a reply can lag seconds behind
      // where it would on a network, and the SDK's 10 s checks would then reconnect healthy connections.
      ackTimeoutMs: 60_000,
      pingTimeoutMs: 30_000,
      requestTimeoutMs: 60_000,
    });
    this.client.on('message', (message) => this.received.push({ message, at: performance.now() }));
  }

  /** The network drops: the connection is gone (API Gateway sees it close); the SDK retries until `goOnline`. */
  goOffline(): void {
    this.online = false;
    this.socket?.terminate();
  }

  goOnline(): void {
    this.online = true;
    this.client.reconnectNow();
  }
}

/** One device per user, connected and through its first catch-up. */
export async function startFleet(
  bs: BenchStack,
  userIds: readonly string[],
  tally: FrameTally,
  ackBatchMs: number,
): Promise<Map<string, Device>> {
  const devices = new Map<string, Device>();
  await pool(userIds, 16, async (userId) => {
    const device = new Device(bs, userId, await bs.stack.mintToken(userId), tally, ackBatchMs);
    devices.set(userId, device);
    const synced = device.client.waitFor('synced');
    await device.client.connect();
    await synced;
  });
  return devices;
}

export function closeFleet(devices: Map<string, Device>): void {
  for (const device of devices.values()) device.client.close();
}
