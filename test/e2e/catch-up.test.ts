/**
 * Catch-up through the real local stack (emulator, handlers, DynamoDB Local) with the client SDK on Node's `ws`:
 * bob is offline while alice sends, then bob's SDK catches up on connect; unread counts, the read ack and alice's
 * read receipt; and messages arriving live while bob's catch-up runs are delivered once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  peer,
  type ChatClientOptions,
  type MsgDataFrame,
  type MsgReadNotifyFrame,
  type SyncResult,
  type WebSocketLike,
} from '../../client/index.js';
import { startTestStack, type TestStack } from './harness.js';

let t: TestStack | undefined;
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await t?.stop();
  t = undefined;
});

async function sdkClient(
  stack: TestStack,
  userId: string,
  options: Partial<ChatClientOptions> = {},
): Promise<ChatClient> {
  const client = new ChatClient({
    url: stack.stack.url,
    token: await stack.stack.mintToken(userId),
    WebSocket,
    reconnect: false,
    ...options,
  });
  clients.push(client);
  return client;
}

/** Sends n messages one after the other (the SDK paces them under the per-user rate); returns the acks. */
async function sendMany(client: ChatClient, to: string, n: number, text = (i: number) => `hello ${i + 1}`) {
  const acks = [];
  for (let i = 0; i < n; i++) acks.push(await client.send({ to: peer(to), msgData: text(i) }));
  return acks;
}

/** A WebSocket for the SDK whose outgoing frames can be held back and whose incoming frames are seen first. */
function interceptedWebSocket(hooks: {
  beforeSend?: (frame: Record<string, unknown>) => Promise<void> | undefined;
  onReceive?: (frame: Record<string, unknown>) => void;
}) {
  return class InterceptedWebSocket implements WebSocketLike {
    readonly #inner: WebSocket;
    constructor(url: string) {
      this.#inner = new WebSocket(url);
    }
    get readyState() {
      return this.#inner.readyState;
    }
    send(data: string): void {
      const gate = hooks.beforeSend?.(JSON.parse(data) as Record<string, unknown>);
      if (!gate) return this.#inner.send(data);
      void gate.then(() => this.#inner.readyState === WebSocket.OPEN && this.#inner.send(data));
    }
    close(code?: number, reason?: string): void {
      this.#inner.close(code, reason);
    }
    set onopen(handler: ((event: never) => void) | null) {
      this.#inner.onopen = handler as WebSocket['onopen'];
    }
    get onopen() {
      return this.#inner.onopen as ((event: never) => void) | null;
    }
    set onmessage(handler: ((event: never) => void) | null) {
      this.#inner.onmessage = (event) => {
        hooks.onReceive?.(JSON.parse(String(event.data)) as Record<string, unknown>);
        (handler as ((event: unknown) => void) | null)?.(event);
      };
    }
    get onmessage() {
      return null;
    }
    set onclose(handler: ((event: never) => void) | null) {
      this.#inner.onclose = handler as WebSocket['onclose'];
    }
    get onclose() {
      return this.#inner.onclose as ((event: never) => void) | null;
    }
    set onerror(handler: ((event: never) => void) | null) {
      this.#inner.onerror = handler as WebSocket['onerror'];
    }
    get onerror() {
      return this.#inner.onerror as ((event: never) => void) | null;
    }
  };
}

/** msg_data_ack invocations sent by the user's connections. */
function deliveryAcksBy(stack: TestStack, userId: string): number[] {
  return stack.invocations.all
    .filter((r) => r.routeKey === 'msg_data_ack' && r.event.requestContext.authorizer?.['userId'] === userId)
    .flatMap((r) => {
      // One msg_id, or several in a bulk ack.
      const ack = JSON.parse(r.event.body ?? '{}') as { msg_id?: number; msg_ids?: number[] };
      return ack.msg_ids ?? (ack.msg_id === undefined ? [] : [ack.msg_id]);
    });
}

describe('catch-up after being offline, through the local stack', () => {
  it('bob gets exactly the 30 messages alice sent while he was offline, unread 30 → 0, and alice gets the read receipt', async () => {
    t = await startTestStack();
    const alice = await sdkClient(t, 'alice');
    await alice.connect();
    const acks = await sendMany(alice, 'bob', 30);
    expect(acks.map((a) => a.msg_id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    const bob = await sdkClient(t, 'bob');
    const received: MsgDataFrame[] = [];
    bob.on('message', (m) => received.push(m));
    const synced = bob.waitFor('synced');
    await bob.connect();
    const result: SyncResult = await synced;

    expect(received.map((m) => m.msg_id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(received.map((m) => m.msg_data)).toEqual(Array.from({ length: 30 }, (_, i) => `hello ${i + 1}`));
    expect(received[0]).toEqual({
      type: 'msg_data',
      from_user_id: 'alice',
      to_session_id: 'bob',
      msg_id: 1,
      create_time: acks[0]!.create_time,
      msg_type: 1,
      msg_data: 'hello 1',
      client_msg_id: expect.any(String), // history carries the sender's client_msg_id
      conversation: peer('alice'),
      live: false,
      source: 'history', // a new device's first sync: an app does not notify for it
      own: false,
    });
    expect(result).toMatchObject({ sessions: 1, sessionsCaughtUp: 1, messages: 30, requests: 2, complete: true });
    expect(bob.lastSyncTime).toBeGreaterThanOrEqual(acks[29]!.create_time);
    expect(bob.getSyncState().latestMsgIds).toEqual({ '1:alice': 30 });
    // Caught-up messages were not live deliveries: nothing to acknowledge.
    expect(deliveryAcksBy(t, 'bob')).toEqual([]);

    const unread = await bob.unreadCounts();
    expect(unread.total_cnt).toBe(30);
    expect(unread.unreadinfo_list).toEqual([
      {
        session_id: 'alice',
        session_type: 1,
        unread_cnt: 30,
        latest_msg_id: 30,
        latest_msg_data: 'hello 30',
        latest_msg_type: 1,
        latest_msg_from_user_id: 'alice',
      },
    ]);

    const receipt = alice.waitFor('msg_read_receipt');
    await expect(bob.markRead({ conversation: peer('alice'), msgId: 30 })).resolves.toMatchObject({
      type: 'msg_read_ack',
    });
    expect(await bob.unreadCounts()).toMatchObject({ total_cnt: 0, unreadinfo_list: [] });
    const expected: MsgReadNotifyFrame = {
      type: 'msg_read_receipt',
      user_id: 'bob',
      session_id: 'alice',
      session_type: 1,
      msg_id: 30,
    };
    expect(await receipt).toEqual(expected);

    // Reconnecting with nothing new costs one request and delivers nothing again.
    bob.close();
    const again = await sdkClient(t, 'bob', { syncState: bob.getSyncState() });
    const count = received.length;
    again.on('message', (m) => received.push(m));
    const resynced = again.waitFor('synced');
    await again.connect();
    expect(await resynced).toMatchObject({ messages: 0, requests: 1 });
    expect(received).toHaveLength(count);
  });

  it('messages arriving live while catch-up runs are delivered once, in msg_id order', async () => {
    t = await startTestStack();
    const alice = await sdkClient(t, 'alice');
    await alice.connect();
    await sendMany(alice, 'bob', 30);

    // Hold bob's recent_sessions until alice's 31 has reached bob's socket live (so the listing includes 31 and the
    // catch-up fetches it too), and bob's msg_list until 32 has (so it arrives while the conversation is caught up).
    const seen = new Set<number>();
    const waiters: { id: number; resolve: () => void }[] = [];
    const arrived = (id: number) =>
      seen.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ id, resolve }));
    const heldUntil = async (id: number) => {
      await alice.send({ to: peer('bob'), msgData: `live ${id}` });
      await arrived(id);
    };
    const bob = await sdkClient(t, 'bob', {
      ackBatchMs: 0, // each ack at once, so the poll below need not outwait the SDK's ack window
      WebSocket: interceptedWebSocket({
        beforeSend: (frame) =>
          frame['action'] === 'recent_sessions'
            ? heldUntil(31)
            : frame['action'] === 'msg_list'
              ? heldUntil(32)
              : undefined,
        onReceive: (frame) => {
          if (frame['type'] !== 'msg_data') return;
          const id = frame['msg_id'] as number;
          seen.add(id);
          for (const w of waiters.filter((x) => x.id === id)) w.resolve();
        },
      }),
    });
    const received: MsgDataFrame[] = [];
    bob.on('message', (m) => received.push(m));
    const synced = bob.waitFor('synced');
    await bob.connect();
    const result = await synced;

    expect(received.map((m) => m.msg_id)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(received.at(-1)).toMatchObject({ msg_data: 'live 32', from_user_id: 'alice', to_session_id: 'bob' });
    // 31 came live and in the listing; the catch-up page (1–31) delivered 1–30 only.
    expect(result).toMatchObject({ messages: 30, requests: 2 });
    // Exactly the live deliveries were acknowledged.
    await expect.poll(() => deliveryAcksBy(t!, 'bob').sort((a, b) => a - b)).toEqual([31, 32]);
    expect(await bob.latestMsgId(peer('alice'))).toMatchObject({ latest_msg_id: 32 });
  });
});
