/**
 * The SDK's typing indicators against a fake server, on hand-moved timers: `typing()` sends `start` at most once per
 * interval + 500 ms and `stopTyping()` one `stop` after it; received `typing` frames make `typingUsers()` and the
 * `typing` event, which end on `stop`, on a message from the typist, or 6 s without a refresh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  ChatStore,
  group,
  peer,
  type ChatSnapshot,
  type TypingChange,
  type TypingTimers,
} from '../../client/index.js';
import { tokenFor } from './fake-history.js';
import { FakeServer, type Frame } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];
const GROUP = `g:${'t'.repeat(22)}`;

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A clock and timers moved by the test: advance() runs what came due, in order. */
class ManualTimers implements TypingTimers {
  ms = 1_000_000;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;
  now = () => this.ms;
  setTimeout = (callback: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.ms + ms, callback });
    return id;
  };
  clearTimeout = (handle: unknown) => void this.#timers.delete(handle as number);
  advance(ms: number): void {
    this.ms += ms;
    for (const [id, timer] of [...this.#timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.ms) break;
      this.#timers.delete(id);
      timer.callback();
    }
  }
}

async function start() {
  const timers = new ManualTimers();
  const server = await FakeServer.start();
  servers.push(server);
  const client = new ChatClient({
    url: server.url,
    token: tokenFor('alice'),
    WebSocket,
    catchUp: false,
    typing: { timers },
  });
  clients.push(client);
  const changes: TypingChange[] = [];
  client.on('typing', (change) => changes.push(change));
  await client.connect();
  return { client, connection: await server.nextConnection(), timers, changes };
}

const typingFrames = (frames: Frame[]) => frames.filter((f) => f['action'] === 'typing');

/** Resolves after the client's next `n` typing events (listen before the server sends). */
function nextEvents(client: ChatClient, n: number): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const off = client.on('typing', () => {
      if (--left === 0) {
        off();
        resolve();
      }
    });
  });
}

describe('typing in the SDK: sending', () => {
  it('sends start once per interval + 500 ms while typing, and one stop after it', async () => {
    const { client, connection, timers } = await start();
    client.typing(peer('bob'));
    client.typing(peer('bob'));
    timers.advance(3499);
    client.typing(peer('bob'));
    client.typing(group(GROUP)); // another conversation has its own interval
    timers.advance(1);
    client.typing(peer('bob'));
    client.stopTyping(peer('bob'));
    client.stopTyping(peer('bob')); // no start since the last stop: nothing
    client.stopTyping(group(GROUP));
    await connection.nextFrame((f) => f['state'] === 'stop' && f['session_type'] === 2);
    expect(typingFrames(connection.frames)).toEqual([
      { action: 'typing', session_id: 'bob', session_type: 1, state: 'start' },
      { action: 'typing', session_id: GROUP, session_type: 2, state: 'start' },
      { action: 'typing', session_id: 'bob', session_type: 1, state: 'start' },
      { action: 'typing', session_id: 'bob', session_type: 1, state: 'stop' },
      { action: 'typing', session_id: GROUP, session_type: 2, state: 'stop' },
    ]);
  });

  it('sends nothing while not connected, and owes no stop for it', async () => {
    const { client, connection } = await start();
    client.close();
    await connection.closed;
    client.typing(peer('bob'));
    client.stopTyping(peer('bob'));
    expect(typingFrames(connection.frames)).toEqual([]);
  });
});

describe('typing in the SDK: receiving', () => {
  const frame = (user: string, session: string, state: 'start' | 'stop') => ({
    type: 'typing',
    user_id: user,
    session_id: session,
    session_type: session === GROUP ? 2 : 1,
    state,
  });

  it('a start shows the typist for 6 s unless refreshed; events tell each change, not a refresh', async () => {
    const { client, connection, timers, changes } = await start();
    let seen = nextEvents(client, 1);
    connection.send(frame('bob', 'bob', 'start'));
    await seen;
    expect(client.typingUsers(peer('bob'))).toEqual(['bob']);
    timers.advance(5000);
    seen = nextEvents(client, 1);
    connection.send(frame('bob', 'bob', 'start')); // a refresh: no event…
    connection.send(frame('carol', GROUP, 'start')); // …so this one's event says both arrived
    await seen;
    timers.advance(5999);
    expect(client.typingUsers(peer('bob'))).toEqual(['bob']);
    expect(client.typingUsers(group(GROUP))).toEqual(['carol']);
    timers.advance(1);
    expect(client.typingUsers(peer('bob'))).toEqual([]);
    expect(client.typingUsers(group(GROUP))).toEqual([]);
    expect(changes).toEqual([
      { conversation: peer('bob'), userIds: ['bob'] },
      { conversation: group(GROUP), userIds: ['carol'] },
      { conversation: peer('bob'), userIds: [] },
      { conversation: group(GROUP), userIds: [] },
    ]);
  });

  it("ends on the typist's stop and on a message from the typist in that conversation", async () => {
    const { client, connection } = await start();
    let seen = nextEvents(client, 2);
    connection.send(frame('bob', GROUP, 'start'));
    connection.send(frame('carol', GROUP, 'start'));
    await seen;
    expect(client.typingUsers(group(GROUP))).toEqual(['bob', 'carol']);
    seen = nextEvents(client, 1);
    connection.send(frame('bob', GROUP, 'stop'));
    await seen;
    expect(client.typingUsers(group(GROUP))).toEqual(['carol']);
    const message = new Promise<void>((resolve) => client.once('message', () => resolve()));
    connection.send({
      type: 'msg_data',
      from_user_id: 'carol',
      to_session_id: GROUP,
      msg_id: 1,
      create_time: 1_790_000_000,
      msg_type: 17,
      msg_data: 'hi',
    });
    await message;
    expect(client.typingUsers(group(GROUP))).toEqual([]);
  });
});

describe('typing in the ChatStore', () => {
  it('the snapshot holds who is typing by conversation key, and listeners hear each change', async () => {
    const { client, connection, timers } = await start();
    const store = new ChatStore(client);
    const snapshots: ChatSnapshot[] = [];
    store.subscribe(() => snapshots.push(store.getSnapshot()));
    const started = nextEvents(client, 1);
    connection.send({ type: 'typing', user_id: 'bob', session_id: 'bob', session_type: 1, state: 'start' });
    await started;
    await Promise.resolve(); // listeners are told in a microtask, once per burst
    expect(store.getSnapshot().typing).toEqual({ '1:bob': ['bob'] });
    timers.advance(6000);
    await Promise.resolve();
    expect(store.getSnapshot().typing).toEqual({});
    expect(snapshots.map((s) => s.typing)).toEqual([{ '1:bob': ['bob'] }, {}]);
    store.dispose();
  });
});
