/**
 * Catch-up on (re)connect against a fake server with a fake read side (fake-history.ts): paging, msg_id gaps,
 * de-duplication against live messages arriving meanwhile, the number of requests, resuming from a saved state, and
 * the typed read-side helpers and notices. The HeldMessages bookkeeping is tested on its own at the end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  ChatServerError,
  group,
  peer,
  type ChatClientOptions,
  type MsgDataFrame,
  type ReceivedMessage,
  type SyncResult,
} from '../../client/index.js';
import { HeldMessages } from '../../client/held.js';
import { FakeHistory, tokenFor } from './fake-history.js';
import { ackFor, FakeServer, type FakeConnection, type Frame } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Setup {
  readonly server: FakeServer;
  readonly history: FakeHistory;
  readonly client: ChatClient;
  /** Every `message` event, in order. */
  readonly messages: MsgDataFrame[];
  readonly errors: Error[];
}

async function setup(history: FakeHistory, options: Partial<ChatClientOptions> = {}): Promise<Setup> {
  const server = await FakeServer.start({ onFrame: history.onFrame });
  servers.push(server);
  const client = new ChatClient({
    url: server.url,
    token: tokenFor(history.userId),
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
    requestTimeoutMs: 5_000,
    // Each delivery acked on its own, so the tests can count them (bulk acks: acks.test.ts).
    ackBatchMs: 0,
    ...options,
  });
  clients.push(client);
  const messages: MsgDataFrame[] = [];
  const errors: Error[] = [];
  client.on('message', (m) => messages.push(m));
  client.on('error', (e) => errors.push(e));
  return { server, history, client, messages, errors };
}

/** Connects and resolves with the result of the automatic catch-up. */
async function connectAndSync(s: Setup): Promise<SyncResult> {
  const synced = s.client.waitFor('synced');
  await s.client.connect();
  return synced;
}

const ids = (messages: readonly MsgDataFrame[], peer?: string) =>
  messages
    .filter((m) => peer === undefined || m.from_user_id === peer || m.to_session_id === peer)
    .map((m) => m.msg_id);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('catch-up on connect', () => {
  it('fetches every page of sessions and of each conversation, delivers msg_data-shaped frames in msg_id order, acks none', async () => {
    const history = new FakeHistory('bob', 2);
    history.add('alice', 250);
    history.add('carol', 3);
    history.add('carol', 2, { from: 'bob' }); // Sent by bob from another device.
    history.add('g:GroupOne______________', 2, { sessionType: 2 });
    const s = await setup(history, { catchUp: { initialMessagesPerSession: 1_000 } });

    const result = await connectAndSync(s);
    expect(ids(s.messages, 'alice')).toEqual(range(1, 250));
    expect(ids(s.messages, 'carol')).toEqual(range(1, 5));
    expect(ids(s.messages, 'g:GroupOne______________')).toEqual([1, 2]);
    expect(s.messages.find((m) => m.from_user_id === 'alice' && m.msg_id === 7)).toEqual({
      type: 'msg_data',
      from_user_id: 'alice',
      to_session_id: 'bob',
      msg_id: 7,
      create_time: expect.any(Number),
      msg_type: 1,
      msg_data: 'alice #7',
      conversation: peer('alice'),
      live: false,
      source: 'history', // a new device's first sync: nothing to notify
      own: false,
    });
    expect(s.messages.find((m) => m.from_user_id === 'bob')).toMatchObject({ to_session_id: 'carol', msg_id: 4 });
    expect(s.messages.find((m) => m.to_session_id === 'g:GroupOne______________')).toMatchObject({
      from_user_id: 'someone',
      msg_type: 17,
      conversation: group('g:GroupOne______________'),
    });

    // 2 pages of sessions (page size 2, 3 sessions), alice 100 + 100 + 50, carol 5, g1 2.
    expect(history.requestsOf('recent_sessions').map((f) => [f['latest_update_time'], f['page_token']])).toEqual([
      [0, undefined],
      [0, '2'],
    ]);
    expect(
      history
        .requestsOf('msg_list')
        .filter((f) => f['session_id'] === 'alice')
        .map((f) => [f['msg_id_begin'], f['msg_cnt']]),
    ).toEqual([
      [250, 100],
      [150, 100],
      [50, 50],
    ]);
    expect(result).toMatchObject({
      sessions: 3,
      sessionsCaughtUp: 3,
      messages: 257,
      requests: 7,
      complete: true,
      lastSyncTime: history.now,
    });
    expect(s.client.lastSyncTime).toBe(history.now);

    const connection = await s.server.nextConnection();
    expect(connection.frames.filter((f) => f['action'] === 'msg_data_ack')).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('does not loop on msg_id gaps: each range is scanned once, then the mark passes the gap', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 3);
    history.skip('alice'); // 4 was taken by a send that failed
    history.add('alice', 2);
    history.skip('alice'); // 7
    history.add('alice', 3); // 8, 9, 10
    const s = await setup(history, { syncState: { lastSyncTime: 0, latestMsgIds: { '1:alice': 2 } } });

    const first = await connectAndSync(s);
    expect(ids(s.messages)).toEqual([3, 5, 6, 8, 9, 10]);
    // One page: 8 asked for (10 − 2); the gaps make the Query reach down to msg_id 1, which is below the mark.
    expect(history.requestsOf('msg_list').map((f) => [f['msg_id_begin'], f['msg_cnt']])).toEqual([[10, 8]]);
    expect(first).toMatchObject({ messages: 6, requests: 2 });
    expect(s.client.getSyncState().latestMsgIds).toEqual({ '1:alice': 10 });

    // A gap at the top, seen live: 11 failed, 12 arrives. The next catch-up scans (10, 12] once and is done.
    const connection = await s.server.nextConnection();
    history.skip('alice');
    const [twelve] = history.add('alice', 1);
    connection.send(history.frameOf('alice', twelve!));
    await s.client.waitFor('message', (m) => m.msg_id === 12);
    expect(s.client.getSyncState()).toMatchObject({ latestMsgIds: { '1:alice': 10 }, heldAbove: { '1:alice': [12] } });

    const second = await s.client.sync();
    // The page [12, 10] reaches the mark: 11 does not exist, no second page. The holes are not due yet (holes.test.ts).
    expect(second).toMatchObject({ messages: 0, requests: 2 });
    expect(
      history
        .requestsOf('msg_list')
        .slice(1)
        .map((f) => [f['msg_id_begin'], f['msg_cnt']]),
    ).toEqual([[12, 2]]);
    expect(history.requestsOf('msg_by_ids')).toEqual([]);
    expect(s.client.getSyncState()).toMatchObject({ lastSyncTime: history.now, latestMsgIds: { '1:alice': 12 } });
    expect(s.client.getSyncState().holes?.['1:alice']?.map((h) => h.msgId)).toEqual([4, 7, 11]);
    expect(await s.client.sync()).toMatchObject({ messages: 0, requests: 1, sessionsCaughtUp: 0 });
    expect(ids(s.messages)).toEqual([3, 5, 6, 8, 9, 10, 12]);
  });

  it('takes the live frame of a msg_id that a catch-up passed as a hole (numbered before, stored after a later one)', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 3);
    history.skip('alice'); // 4: numbered, still being stored when bob catches up
    history.add('alice', 1);
    const s = await setup(history);
    await connectAndSync(s);
    expect(ids(s.messages)).toEqual([1, 2, 3, 5]);
    const connection = await s.server.nextConnection();
    // Another catch-up while 4 is still not stored (its resend may come much later): 4 is still expected.
    expect(await s.client.sync()).toMatchObject({ messages: 0 });
    connection.send({
      type: 'msg_data',
      from_user_id: 'alice',
      to_session_id: 'bob',
      msg_id: 4,
      create_time: history.now,
      msg_type: 1,
      msg_data: 'late',
    });
    await s.client.waitFor('message', (m) => m.msg_id === 4);
    expect(ids(s.messages)).toEqual([1, 2, 3, 5, 4]);
  });

  it('delivers a message arriving live during catch-up once, after the missed ones, and acks only the live copy', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 10);
    history.add('carol', 1);
    let releaseAlice!: () => void;
    const aliceHeld = new Promise<void>((resolve) => (releaseAlice = resolve));
    let aliceAsked!: () => void;
    const aliceRequested = new Promise<void>((resolve) => (aliceAsked = resolve));
    history.gate = (frame) => {
      if (frame['action'] !== 'msg_list' || frame['session_id'] !== 'alice') return undefined;
      aliceAsked();
      return aliceHeld;
    };
    const s = await setup(history);
    const synced = s.client.waitFor('synced');
    await s.client.connect();
    const connection = await s.server.nextConnection();
    await aliceRequested;

    // While alice's page is on its way: a new message 11, a live copy of 10 (also in the page), and one from dave.
    const [eleven] = history.add('alice', 1);
    connection.send(history.frameOf('alice', eleven!));
    connection.send(history.frameOf('alice', history.conversations.get('1:alice')!.messages[9]!));
    const [fromDave] = history.add('dave', 1);
    connection.send(history.frameOf('dave', fromDave!));
    await s.client.waitFor('message', (m) => m.from_user_id === 'dave');
    expect(ids(s.messages, 'alice')).toEqual([]); // alice's live ones wait for her catch-up.

    releaseAlice();
    const result = await synced;
    expect(ids(s.messages, 'alice')).toEqual(range(1, 11));
    expect(result.messages).toBe(9 + 1); // alice's 1–9 from the page (10 came live first), and carol's 1.
    const acks = () =>
      connection.frames
        .filter((f) => f['action'] === 'msg_data_ack')
        .map((f) => `${String(f['session_id'])}:${String(f['msg_id'])}`)
        .sort();
    await expect.poll(acks).toEqual(['alice:10', 'alice:11', 'dave:1']);

    // A redelivery afterwards is acked again and not delivered again.
    connection.send(history.frameOf('alice', eleven!));
    await expect
      .poll(() => connection.frames.filter((f) => f['action'] === 'msg_data_ack' && f['msg_id'] === 11).length)
      .toBe(2);
    expect(ids(s.messages, 'alice')).toEqual(range(1, 11));
  });

  it('makes a bounded number of requests: unchanged sessions cost nothing, a long history is capped', async () => {
    const history = new FakeHistory('bob');
    const latestMsgIds: Record<string, number> = {};
    for (let i = 0; i < 250; i++) {
      const peer = `p${i}`;
      history.add(peer, 1);
      latestMsgIds[`1:${peer}`] = 1;
    }
    history.add('p7', 2); // 2 and 3 are new
    history.add('big', 5_000);
    const s = await setup(history, {
      syncState: { lastSyncTime: 0, latestMsgIds },
      catchUp: { maxMessagesPerSession: 1_000 },
    });

    const result = await connectAndSync(s);
    // 3 pages of sessions + 1 page for p7 + 10 pages (the cap) for big.
    expect(result).toMatchObject({ sessions: 251, sessionsCaughtUp: 2, requests: 3 + 1 + 10, messages: 2 + 1_000 });
    expect(ids(s.messages, 'p7')).toEqual([2, 3]);
    expect(ids(s.messages, 'big')).toEqual(range(4_001, 5_000));
    expect(s.client.getSyncState().latestMsgIds['1:big']).toBe(5_000);

    // Nothing changed: one request.
    expect(await s.client.sync()).toMatchObject({ requests: 1, messages: 0 });
  });

  it('fetches at most maxNewSessionMessages of a conversation it holds nothing of, and everything missed of one it holds', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 80);
    history.add('carol', 80);
    const s = await setup(history, {
      syncState: { lastSyncTime: 0, latestMsgIds: { '1:carol': 5 } },
      catchUp: { maxNewSessionMessages: 30 },
    });
    const result = await connectAndSync(s);
    expect(ids(s.messages, 'alice')).toEqual(range(51, 80));
    expect(ids(s.messages, 'carol')).toEqual(range(6, 80));
    expect(result).toMatchObject({ messages: 30 + 75, requests: 1 + 1 + 1 });
    expect(s.client.getSyncState().latestMsgIds).toEqual({ '1:alice': 80, '1:carol': 80 });

    // 0: a new conversation starts at its latest message, without a request.
    const fresh = await setup(new FakeHistory('bob'), { catchUp: { maxNewSessionMessages: 0 } });
    fresh.history.add('dave', 10);
    expect(await connectAndSync(fresh)).toMatchObject({ messages: 0, requests: 1, sessionsCaughtUp: 1 });
    expect(fresh.client.getSyncState().latestMsgIds).toEqual({ '1:dave': 10 });
    fresh.history.add('dave', 2);
    expect(await fresh.client.sync()).toMatchObject({ messages: 2, requests: 2 });
    expect(ids(fresh.messages)).toEqual([11, 12]);
  });

  it('tells what was sent while the client was away (missed: notify) from older history (a new device: do not)', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    const s = await setup(history);
    const received: ReceivedMessage[] = [];
    s.client.on('message', (m) => received.push(m));
    await connectAndSync(s);
    expect(received.map((m) => [m.msg_id, m.source, m.own])).toEqual([
      [1, 'history', false],
      [2, 'history', false],
    ]);

    // A blip: the connection drops; meanwhile alice writes, and bob writes from his phone.
    const synced = s.client.waitFor('synced');
    s.server.connections[0]!.drop();
    history.add('alice', 1);
    history.add('alice', 1, { from: 'bob' });
    await synced;
    expect(received.slice(2).map((m) => [m.msg_id, m.source, m.live, m.own])).toEqual([
      [3, 'missed', false, false],
      [4, 'missed', false, true],
    ]);
  });

  it('resumes from a saved state: only newer sessions are listed (with a 60 s margin) and only new messages fetched', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 5);
    history.add('carol', 2);
    const first = await setup(history);
    await connectAndSync(first);
    const saved = JSON.parse(JSON.stringify(first.client.getSyncState())) as ReturnType<ChatClient['getSyncState']>;
    expect(saved).toEqual({
      lastSyncTime: history.now,
      onlineUntil: expect.any(Number),
      latestMsgIds: { '1:alice': 5, '1:carol': 2 },
      deviceId: expect.any(String),
    });
    first.client.close();

    history.tick(120);
    history.add('alice', 3); // 6, 7, 8
    history.add('erin', 1);
    const second = await setup(history, { syncState: saved });
    const result = await connectAndSync(second);
    expect(second.messages.map((m) => `${m.from_user_id}:${m.msg_id}`).sort()).toEqual([
      'alice:6',
      'alice:7',
      'alice:8',
      'erin:1',
    ]);
    const listed = history.requestsOf('recent_sessions').at(-1)!;
    expect(listed['latest_update_time']).toBe(saved.lastSyncTime - 60);
    expect(
      history
        .requestsOf('msg_list')
        .slice(-2)
        .map((f) => [f['session_id'], f['msg_id_begin'], f['msg_cnt']])
        .sort(),
    ).toEqual([
      ['alice', 8, 3],
      ['erin', 1, 1],
    ]);
    // carol is listed too (updated within the margin) but costs no msg_list: nothing above her mark.
    expect(result).toMatchObject({ sessions: 3, sessionsCaughtUp: 2, requests: 3, messages: 4 });
  });

  it('catches up again after a reconnect, counting its own sends as held', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    const s = await setup(history);
    await connectAndSync(s);
    const first = await s.server.nextConnection();

    // bob sends 3 (acked); then, offline, misses 4 and 5.
    const sent = s.client.send({ to: peer('alice'), msgData: 'mine' });
    const frame = await first.nextAction('msg_data');
    history.add('alice', 1, { from: 'bob' });
    first.send({ ...ackFor(frame, 3, 'bob') });
    await sent;
    first.drop();
    history.add('alice', 2);

    const synced = await s.client.waitFor('synced');
    expect(ids(s.messages)).toEqual([1, 2, 4, 5]);
    expect(synced).toMatchObject({ messages: 2, requests: 2 });
    expect(history.requestsOf('msg_list').at(-1)).toMatchObject({ msg_id_begin: 5, msg_cnt: 2 });
  });

  it('a connection lost during catch-up delivers what arrived live, and the next connection finishes the job', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 30);
    let calls = 0;
    let dropped!: () => void;
    const wasDropped = new Promise<void>((resolve) => (dropped = resolve));
    history.gate = (frame) => (frame['action'] === 'msg_list' && ++calls === 1 ? wasDropped : undefined);
    const s = await setup(history);
    const syncs: SyncResult[] = [];
    s.client.on('synced', (r) => syncs.push(r));
    await s.client.connect();
    const first = await s.server.nextConnection();
    await first.nextAction('msg_list');
    const [live] = history.add('alice', 1);
    first.send(history.frameOf('alice', live!));
    await first.nextAction('msg_data_ack');
    first.drop();
    dropped();

    await s.client.waitFor('synced');
    expect(syncs).toHaveLength(1);
    // 31 came first (the interrupted catch-up let it through); then 1–30.
    expect(ids(s.messages)).toEqual([31, ...range(1, 30)]);
    expect(s.errors).toEqual([]);
  });

  it('reports a refused conversation, delivers the others, and keeps the sync time so the next catch-up retries', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    history.add('g9', 2, { sessionType: 2 });
    history.refuse.set('2:g9', 'not_member');
    const s = await setup(history);
    const result = await connectAndSync(s);
    expect(result).toMatchObject({ complete: false, lastSyncTime: 0, messages: 2 });
    expect(ids(s.messages, 'alice')).toEqual([1, 2]);
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toBeInstanceOf(ChatServerError);

    history.refuse.clear();
    expect(await s.client.sync()).toMatchObject({ complete: true, messages: 2, lastSyncTime: history.now });
    expect(ids(s.messages, 'g9')).toEqual([1, 2]);
  });

  it('runs no catch-up with catchUp: false, but sync() still does', async () => {
    const history = new FakeHistory('bob');
    history.add('alice', 2);
    const s = await setup(history, { catchUp: false });
    await s.client.connect();
    const connection = await s.server.nextConnection();
    // An automatic catch-up starts within the microtasks after `open` and runs until its replies came: once those
    // microtasks have run (setImmediate comes after them), `syncing` would be true.
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.client.syncing).toBe(false);
    expect(await s.client.sync()).toMatchObject({ messages: 2 });
    expect(connection.frames.map((f) => f['action'])).toEqual(['recent_sessions', 'msg_list']);
  });
});

describe('read-side helpers and notices', () => {
  async function connected(): Promise<{ client: ChatClient; connection: FakeConnection }> {
    const server = await FakeServer.start();
    servers.push(server);
    const client = new ChatClient({ url: server.url, token: tokenFor('bob'), WebSocket, catchUp: false });
    clients.push(client);
    await client.connect();
    return { client, connection: await server.nextConnection() };
  }

  /** Answers the next request frame with `reply` and returns the frame. */
  async function answer(connection: FakeConnection, action: string, reply: Frame): Promise<Frame> {
    const frame = await connection.nextAction(action);
    connection.send({ type: action, seq: frame['seq'], ...reply });
    return frame;
  }

  it('send the contract fields and resolve with the replies', async () => {
    const { client, connection } = await connected();
    const strip = (f: Frame) => {
      const { seq: _seq, ...rest } = f;
      return rest;
    };

    const listed = client.listMessages({ conversation: peer('alice'), msgIdBegin: 40, msgCnt: 10 });
    expect(
      strip(
        await answer(connection, 'msg_list', { session_id: 'alice', session_type: 1, msg_id_begin: 40, msg_list: [] }),
      ),
    ).toEqual({
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 40,
      msg_cnt: 10,
    });
    expect((await listed).msg_list).toEqual([]);

    const all = client.allRecentSessions(5);
    const page1 = await answer(connection, 'recent_sessions', {
      contact_session_list: [{ session_id: 'a' }],
      next_page_token: 't1',
    });
    const page2 = await answer(connection, 'recent_sessions', { contact_session_list: [{ session_id: 'b' }] });
    expect([strip(page1), strip(page2)]).toEqual([
      { action: 'recent_sessions', latest_update_time: 5 },
      { action: 'recent_sessions', latest_update_time: 5, page_token: 't1' },
    ]);
    expect((await all).map((x) => x.session_id)).toEqual(['a', 'b']);

    const unread = client.unreadCounts();
    expect(strip(await answer(connection, 'unread_cnt', { total_cnt: 3, unreadinfo_list: [] }))).toEqual({
      action: 'unread_cnt',
    });
    expect((await unread).total_cnt).toBe(3);

    const read = client.markRead({ conversation: peer('alice'), msgId: 9 });
    expect(strip(await answer(connection, 'msg_read_ack', {}))).toEqual({
      action: 'msg_read_ack',
      session_id: 'alice',
      session_type: 1,
      msg_id: 9,
    });
    await expect(read).resolves.toMatchObject({ type: 'msg_read_ack' });

    const removed = client.removeSession(group('g:GroupOne______________'));
    expect(
      strip(await answer(connection, 'remove_session', { session_id: 'g:GroupOne______________', session_type: 2 })),
    ).toEqual({
      action: 'remove_session',
      session_id: 'g:GroupOne______________',
      session_type: 2,
    });
    await expect(removed).resolves.toMatchObject({ session_id: 'g:GroupOne______________', session_type: 2 });

    const latest = client.latestMsgId(peer('alice'));
    await answer(connection, 'latest_msg_id', { session_id: 'alice', session_type: 1, latest_msg_id: 12 });
    expect((await latest).latest_msg_id).toBe(12);
  });

  it('emit msg_read_notify, msg_read_receipt and remove_session_notify as typed events', async () => {
    const { client, connection } = await connected();
    const notify = client.waitFor('msg_read_notify');
    const receipt = client.waitFor('msg_read_receipt');
    const removed = client.waitFor('remove_session_notify');
    const other: Frame[] = [];
    client.on('frame', (f) => other.push(f));
    connection.send({ type: 'msg_read_notify', user_id: 'bob', session_id: 'alice', session_type: 1, msg_id: 4 });
    connection.send({ type: 'msg_read_receipt', user_id: 'alice', session_id: 'bob', session_type: 1, msg_id: 7 });
    connection.send({ type: 'remove_session_notify', user_id: 'bob', session_id: 'carol', session_type: 1 });
    expect(await notify).toEqual({
      type: 'msg_read_notify',
      user_id: 'bob',
      session_id: 'alice',
      session_type: 1,
      msg_id: 4,
    });
    expect(await receipt).toMatchObject({ user_id: 'alice', msg_id: 7 });
    expect(await removed).toMatchObject({ session_id: 'carol' });
    expect(other).toEqual([]);
  });
});

describe('HeldMessages', () => {
  it('advances the mark over contiguous msg_ids and keeps the ones above a hole', () => {
    const held = new HeldMessages();
    expect(held.add('1:a', 1)).toBe(true);
    expect(held.add('1:a', 3)).toBe(true);
    expect(held.add('1:a', 3)).toBe(false);
    expect(held.mark('1:a')).toBe(1);
    expect(held.gaps()).toEqual(new Map([['1:a', 3]]));
    expect(held.add('1:a', 2)).toBe(true);
    expect(held.mark('1:a')).toBe(3);
    expect(held.gaps().size).toBe(0);
    expect(held.add('1:a', 2)).toBe(false);
  });

  it('completes a scanned range past gaps, and loads a saved state ignoring malformed entries', () => {
    const held = new HeldMessages();
    held.add('1:a', 9);
    held.complete('1:a', 7);
    expect(held.export()).toEqual({ latestMsgIds: { '1:a': 7 }, heldAbove: { '1:a': [9] } });
    held.complete('1:a', 8);
    expect(held.export()).toEqual({ latestMsgIds: { '1:a': 9 } });

    const loaded = new HeldMessages();
    loaded.load({
      latestMsgIds: { '1:a': 4, bad: 3, '1:b': -1, '2:g': 1.5 } as Record<string, number>,
      heldAbove: { '1:a': [6, 5, 'x' as unknown as number] },
    });
    expect(loaded.export()).toEqual({ latestMsgIds: { '1:a': 6 } });
  });
});
