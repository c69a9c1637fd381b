/**
 * Shared set-up of the SDK tests: a fake server per test, clients that are closed after it, and small recorders.
 * Register `cleanUp` with afterEach in every file that uses them.
 */
import { WebSocket } from 'ws';
import { ChatClient, type ChatClientOptions, type ConnectionState } from '../../client/index.js';
import { FakeServer, type FakeServerOptions } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];

export async function cleanUp(): Promise<void> {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
}

export async function startServer(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await FakeServer.start(options);
  servers.push(server);
  return server;
}

/** A client of `server` with a fixed token, Node's `ws`, fast deterministic reconnects and no catch-up. */
export function makeClient(server: FakeServer | { url: string }, options: Partial<ChatClientOptions> = {}): ChatClient {
  const client = new ChatClient({
    url: server.url,
    token: 'token-alice',
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 0 },
    catchUp: false,
    ...options,
  } as ChatClientOptions);
  clients.push(client);
  return client;
}

/** Records every state a client goes through. */
export function recordStates(client: ChatClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.on('state', (state) => states.push(state));
  return states;
}

/** 'resolved', 'rejected' or 'pending' once the microtasks queued now have run: "settles at once" without a clock. */
export function settledNow(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending'))),
  ]);
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Resolves once the client is open (at once when it is). */
export async function isOpen(client: ChatClient): Promise<void> {
  if (client.state !== 'open') await client.waitFor('state', (state) => state === 'open');
}
