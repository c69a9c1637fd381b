/**
 * ChatStore over a real ChatClient and the fake server (FakeHistory answers the read side and stores sends as the
 * server would): pending → stored by client_msg_id, failed sends and their retry, msg_id order and de-duplication
 * across reconnects and history pages, paging, unread counts and read receipts, the live session list, groups, typed
 * content, display names, persistence across a restart, uploads, and the snapshot contract a UI binds to.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  ChatStore,
  group,
  peer,
  type ChatClientOptions,
  type ChatSnapshot,
  type ChatStoreOptions,
  type KeyValueStorage,
} from '../../client/index.js';
import { FakeHistory, tokenFor } from './fake-history.js';
import { FakeServer, type FakeConnection, type Frame } from './fake-server.js';

const GROUP = 'g:TeamTeamTeamTeamTeam__';
const servers: FakeServer[] = [];
const stores: ChatStore[] = [];
/** A local PUT target standing in for S3 (uploads); its handler is the test's. */
let s3: Server | undefined;
let s3Handler: (request: IncomingMessage, response: ServerResponse) => void = (_, response) => response.end();

async function startS3(): Promise<string> {
  s3 = createServer((request, response) => {
    request.resume();
    request.on('end', () => s3Handler(request, response));
  });
  await new Promise<void>((resolve) => s3!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s3.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise((resolve) => (s3 ? s3.close(resolve) : resolve(undefined)));
  s3 = undefined;
  for (const store of stores.splice(0)) {
    store.dispose();
    store.client.close();
  }
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface ServerOptions {
  /** Answers a msg_data with this error code instead of storing it (undefined: store and ack). */
  readonly refuse?: (frame: Frame) => string | undefined;
  /** Holds the ack of a msg_data until the returned promise resolves. */
  readonly holdAck?: (frame: Frame) => Promise<void> | undefined;
}

/** The fake server of `history`'s user: the read side, sends stored and acked, groups. */
async function startServer(history: FakeHistory, options: ServerOptions = {}): Promise<FakeServer> {
  const server = await FakeServer.start({
    onFrame: (connection, frame) => {
      history.onFrame(connection, frame);
      answerOthers(history, connection, frame, options);
    },
  });
  servers.push(server);
  return server;
}

function answerOthers(history: FakeHistory, connection: FakeConnection, frame: Frame, options: ServerOptions): void {
  const seq = frame['seq'];
  if (frame['action'] === 'msg_data') {
    const refused = options.refuse?.(frame);
    if (refused) return connection.send({ type: 'error', seq, code: refused, message: 'refused by the test' });
    const ack = () => connection.send(history.storeSent(frame));
    const held = options.holdAck?.(frame);
    if (held) void held.then(ack);
    else ack();
  }
  if (frame['action'] === 'group_list')
    connection.send({ type: 'group_list', seq, group_list: [{ group_id: GROUP, group_name: 'team' }] });
  if (frame['action'] === 'group_info')
    connection.send({
      type: 'group_info',
      seq,
      group_id: GROUP,
      group_name: 'team',
      owner_id: 'carol',
      member_count: 3,
      cur_user_id_list: ['bob', 'carol', history.userId],
    });
}

function makeStore(
  server: FakeServer,
  history: FakeHistory,
  options: ChatStoreOptions = {},
  client: Partial<ChatClientOptions> = {},
): ChatStore {
  const chat = new ChatClient({
    url: server.url,
    token: tokenFor(history.userId),
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
    ackBatchMs: 0,
    ...client,
  });
  const store = new ChatStore(chat, options);
  stores.push(store);
  return store;
}

/** Resolves with the first snapshot (now or after a change) that passes `test`. */
function until(store: ChatStore, test: (snapshot: ChatSnapshot) => boolean): Promise<ChatSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      const snapshot = store.getSnapshot();
      if (!test(snapshot)) return false;
      off();
      resolve(snapshot);
      return true;
    };
    const off = store.subscribe(() => void check());
    check();
  });
}

const messagesOf = (snapshot: ChatSnapshot, key: string) => snapshot.conversations[key]?.messages ?? [];
const describeMessages = (snapshot: ChatSnapshot, key: string) =>
  messagesOf(snapshot, key).map((m) => `${m.msgId ?? '-'}:${m.status}:${m.text ?? m.kind}`);

describe('ChatStore: sending', () => {
  it('shows a send at once as pending, then stored with its msg_id, after the stored messages, in one key', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 2);
    let release!: () => void;
    const server = await startServer(history, { holdAck: () => new Promise<void>((resolve) => (release = resolve)) });
    const store = makeStore(server, history);
    await store.start();
    await store.open(peer('bob'));
    const sent = store.send(peer('bob'), 'hi bob');
    expect(sent).toMatchObject({ status: 'pending', msgId: undefined, fromMe: true, text: 'hi bob', source: 'sent' });
    expect(describeMessages(store.getSnapshot(), '1:bob')).toEqual([
      '1:stored:bob #1',
      '2:stored:bob #2',
      '-:pending:hi bob',
    ]);
    await server.connections[0]!.nextAction('msg_data');
    release();
    const snapshot = await until(store, (s) => messagesOf(s, '1:bob').at(-1)?.status === 'stored');
    expect(describeMessages(snapshot, '1:bob')).toEqual(['1:stored:bob #1', '2:stored:bob #2', '3:stored:hi bob']);
    const stored = messagesOf(snapshot, '1:bob').at(-1)!;
    expect(stored).toMatchObject({
      key: sent.key,
      clientMsgId: sent.clientMsgId,
      msgId: 3,
      createTime: expect.any(Number),
    });
    expect(snapshot.sessions[0]).toMatchObject({
      key: '1:bob',
      latestMessage: { msgId: 3, fromMe: true, text: 'hi bob' },
    });
  });

  it('reconciles a pending send with its stored copy by client_msg_id when a history page brings it before the ack', async () => {
    const history = new FakeHistory('alice');
    let release!: () => void;
    const server = await startServer(history, {
      holdAck: (frame) => {
        history.storeSent(frame); // stored at once, acked later
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const store = makeStore(server, history);
    await store.start();
    const sent = store.send(peer('bob'), 'early');
    await server.connections[0]!.nextAction('msg_data');
    await store.open(peer('bob'));
    const snapshot = store.getSnapshot();
    expect(messagesOf(snapshot, '1:bob')).toEqual([
      expect.objectContaining({
        key: sent.key,
        msgId: 1,
        status: 'stored',
        clientMsgId: sent.clientMsgId,
        source: 'sent',
      }),
    ]);
    release();
    await until(store, () => store.client.pendingSends === 0);
    expect(messagesOf(store.getSnapshot(), '1:bob')).toHaveLength(1);
  });

  it('marks a refused send failed with the server’s code; retry sends it again with the same client_msg_id; cancel drops one', async () => {
    const history = new FakeHistory('alice');
    let refuse = true;
    const server = await startServer(history, { refuse: () => (refuse ? 'not_member' : undefined) });
    const store = makeStore(server, history);
    await store.start();
    const first = store.send(peer('bob'), 'one');
    const second = store.send(peer('bob'), 'two');
    let snapshot = await until(store, (s) => messagesOf(s, '1:bob').every((m) => m.status === 'failed'));
    expect(messagesOf(snapshot, '1:bob')[0]!.error).toEqual({ code: 'not_member', message: expect.any(String) });
    refuse = false;
    store.retry(peer('bob'), first.key);
    store.cancel(peer('bob'), second.key);
    snapshot = await until(store, (s) => messagesOf(s, '1:bob')[0]?.status === 'stored');
    expect(describeMessages(snapshot, '1:bob')).toEqual(['1:stored:one']);
    const frames = server.connections[0]!.frames.filter((f) => f['action'] === 'msg_data');
    expect(frames.map((f) => [f['msg_data'], f['client_msg_id']])).toEqual([
      ['one', first.clientMsgId],
      ['two', second.clientMsgId],
      ['one', first.clientMsgId],
    ]);
  });
});

describe('ChatStore: order, de-duplication and paging', () => {
  it('keeps msg_id order and each message once across live frames, a reconnect’s catch-up, redeliveries and history pages', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 3);
    const server = await startServer(history);
    const store = makeStore(server, history);
    await store.start();
    await until(store, (s) => messagesOf(s, '1:bob').length === 3); // the first catch-up
    const connection = server.connections[0]!;
    const [four] = history.add('bob', 1);
    connection.send(history.frameOf('bob', four!));
    connection.send(history.frameOf('bob', four!)); // redelivered: the server did not get the ack in time
    await until(store, (s) => messagesOf(s, '1:bob').length === 4);

    const synced = store.client.waitFor('synced');
    connection.drop();
    history.add('bob', 2); // 5, 6 while away
    await synced;
    await store.open(peer('bob')); // the newest page overlaps all of it
    const snapshot = await until(store, (s) => messagesOf(s, '1:bob').length === 6);
    expect(messagesOf(snapshot, '1:bob').map((m) => [m.msgId, m.source])).toEqual([
      [1, 'history'],
      [2, 'history'],
      [3, 'history'],
      [4, 'live'],
      [5, 'missed'],
      [6, 'missed'],
    ]);
  });

  it('open() loads the newest page, loadOlder() the older ones until hasMore is false', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 7);
    history.maxPerReply = 100;
    const server = await startServer(history);
    const store = makeStore(server, history, { pageSize: 3 }, { catchUp: false });
    await store.start();
    await store.open(peer('bob'));
    let conversation = store.getSnapshot().conversations['1:bob']!;
    expect(conversation.messages.map((m) => m.msgId)).toEqual([5, 6, 7]);
    expect(conversation.history).toEqual({ loading: false, hasMore: true, loadedNewest: true });
    await store.loadOlder(peer('bob'));
    await store.loadOlder(peer('bob'));
    conversation = store.getSnapshot().conversations['1:bob']!;
    expect(conversation.messages.map((m) => m.msgId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(conversation.history.hasMore).toBe(false);
    const asked = history.requestsOf('msg_list').length;
    await store.loadOlder(peer('bob'));
    expect(history.requestsOf('msg_list')).toHaveLength(asked);
  });
});

describe('ChatStore: unread counts, read receipts and the session list', () => {
  it('takes unread counts from the server, adds live messages, and markRead() clears them and tells the server', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 2);
    history.add('carol', 1);
    const server = await startServer(history);
    const store = makeStore(server, history);
    await store.start();
    let snapshot = await until(store, (s) => s.unreadTotal === 3);
    expect(snapshot.sessions.map((s) => [s.key, s.unreadCount, s.sessionType])).toEqual([
      ['1:carol', 1, 'single'],
      ['1:bob', 2, 'single'],
      [`2:${GROUP}`, 0, 'group'], // a group of group_list without messages yet
    ]);
    const [live] = history.add('bob', 1);
    server.connections[0]!.send(history.frameOf('bob', live!));
    snapshot = await until(store, (s) => s.unreadTotal === 4);
    expect(snapshot.sessions[0]).toMatchObject({
      key: '1:bob',
      unreadCount: 3,
      latestMessage: { msgId: 3, text: 'bob #3' },
    });

    await store.markRead(peer('bob'));
    snapshot = store.getSnapshot();
    expect(snapshot.unreadTotal).toBe(1);
    expect(snapshot.conversations['1:bob']!.readUpTo).toBe(3);
    expect(history.requestsOf('msg_read_ack').at(-1)).toMatchObject({ session_id: 'bob', session_type: 1, msg_id: 3 });

    // Read on another device: that device's notice clears carol.
    server.connections[0]!.send({
      type: 'msg_read_notify',
      user_id: 'alice',
      session_id: 'carol',
      session_type: 1,
      msg_id: 1,
    });
    await until(store, (s) => s.unreadTotal === 0);
  });

  it('keeps read receipts per single chat, and the list live: a message moves its session up, a removal on another device takes it off', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 1);
    history.add('carol', 1);
    const server = await startServer(history);
    const store = makeStore(server, history);
    await store.start();
    await until(store, (s) => s.sessions.length === 3); // bob, carol and the group from group_list
    const connection = server.connections[0]!;
    connection.send({ type: 'msg_read_receipt', user_id: 'bob', session_id: 'alice', session_type: 1, msg_id: 1 });
    let snapshot = await until(store, (s) => s.conversations['1:bob']?.peerReadUpTo === 1);

    const [again] = history.add('bob', 1);
    connection.send(history.frameOf('bob', again!));
    snapshot = await until(store, (s) => s.sessions[0]?.key === '1:bob');
    connection.send({ type: 'remove_session_notify', user_id: 'alice', session_id: 'carol', session_type: 1 });
    snapshot = await until(store, (s) => !s.sessions.some((x) => x.key === '1:carol'));
    expect(snapshot.sessions.map((s) => s.key)).toEqual(['1:bob', `2:${GROUP}`]);
    expect(snapshot.sessions[1]).toMatchObject({ title: 'team', sessionType: 'group', conversation: group(GROUP) });
  });

  it('lists a group this user is added to, with its name and members, and forgets one it is removed from', async () => {
    const history = new FakeHistory('alice');
    const server = await startServer(history);
    const store = makeStore(server, history, {}, { catchUp: false });
    await store.start();
    server.connections[0]!.send({
      type: 'group_change_member_notify',
      group_id: GROUP,
      change_type: 'add',
      user_ids: ['alice'],
      cur_user_id_list: ['alice', 'bob', 'carol'],
      member_count: 3,
    });
    let snapshot = await until(store, (s) => s.groups[GROUP]?.name === 'team');
    expect(snapshot.groups[GROUP]).toMatchObject({ ownerId: 'carol', memberIds: ['bob', 'carol', 'alice'] });
    expect(snapshot.sessions.map((s) => [s.key, s.title])).toEqual([[`2:${GROUP}`, 'team']]);
    server.connections[0]!.send({
      type: 'group_change_member_notify',
      group_id: GROUP,
      change_type: 'del',
      user_ids: ['alice'],
      cur_user_id_list: ['bob', 'carol'],
      member_count: 2,
    });
    snapshot = await until(store, (s) => s.sessions.length === 0);
    expect(snapshot.groups[GROUP]).toBeUndefined();
  });
});

describe('ChatStore: what a UI reads', () => {
  it('gives typed attachments and camelCase fields, never JSON as text, and clientMsgId on history', async () => {
    const history = new FakeHistory('alice');
    const key = `uploads/626f62/${'P'.repeat(22)}`;
    history.add('bob', 1, {
      text: () =>
        JSON.stringify({ attachment: 'picture', key, content_type: 'image/png', size: 5, width: 4, height: 3 }),
    });
    history.storeSent({
      action: 'msg_data',
      seq: 1,
      to_session_id: 'bob',
      msg_type: 1,
      msg_data: 'mine',
      client_msg_id: 'c-9',
    });
    const server = await startServer(history);
    const store = makeStore(server, history);
    await store.start();
    await store.open(peer('bob'));
    const [picture, mine] = messagesOf(store.getSnapshot(), '1:bob');
    expect(picture).toMatchObject({
      kind: 'picture',
      text: undefined,
      attachment: { kind: 'picture', key, contentType: 'image/png', size: 5, width: 4, height: 3 },
      fromUserId: 'bob',
      fromMe: false,
    });
    expect(mine).toMatchObject({ clientMsgId: 'c-9', key: 'c:c-9', fromMe: true, text: 'mine' });
    const session = store.getSnapshot().sessions.find((s) => s.key === '1:bob')!;
    expect(session.latestMessage).toMatchObject({ msgId: 2, kind: 'text', text: 'mine' });
  });

  it('asks the app’s displayName hook once per user or group, and shows the id until it answers', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 1);
    const server = await startServer(history);
    const asked: string[] = [];
    let answer!: (name: string) => void;
    const store = makeStore(server, history, {
      displayName: (target) => {
        asked.push(`${target.type}:${target.id}`);
        return target.type === 'user' ? new Promise<string>((resolve) => (answer = resolve)) : undefined;
      },
    });
    await store.start();
    await until(store, (s) => s.sessions.some((x) => x.key === '1:bob'));
    expect(store.getSnapshot().sessions.find((s) => s.key === '1:bob')!.title).toBe('bob');
    answer('Bob Builder');
    const snapshot = await until(store, (s) => s.names['bob'] === 'Bob Builder');
    expect(snapshot.sessions.find((s) => s.key === '1:bob')!.title).toBe('Bob Builder');
    expect(asked.filter((a) => a === 'user:bob')).toHaveLength(1);
  });

  it('snapshots are frozen and stay the same object until a change; what did not change keeps its identity; one notice per burst', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 1);
    history.add('carol', 1);
    const server = await startServer(history);
    const store = makeStore(server, history);
    await store.start();
    await store.open(peer('bob'));
    await store.open(peer('carol'));
    const before = store.getSnapshot();
    expect(store.getSnapshot()).toBe(before);
    expect(Object.isFrozen(before)).toBe(true);
    expect(Object.isFrozen(before.conversations['1:bob']!.messages)).toBe(true);
    let notices = 0;
    store.subscribe(() => notices++);
    const burst = history.add('bob', 5);
    for (const message of burst) server.connections[0]!.send(history.frameOf('bob', message));
    const after = await until(store, (s) => messagesOf(s, '1:bob').length === 6);
    expect(after).not.toBe(before);
    expect(after.conversations['1:carol']).toBe(before.conversations['1:carol']);
    expect(messagesOf(after, '1:bob')[0]).toBe(messagesOf(before, '1:bob')[0]);
    expect(notices).toBeLessThan(5);
  });

  it('says online, connecting and offline', async () => {
    const history = new FakeHistory('alice');
    const server = await startServer(history);
    const store = makeStore(server, history, {}, { catchUp: false });
    expect(store.getSnapshot().connection.status).toBe('offline');
    await store.start();
    expect(store.getSnapshot().connection).toMatchObject({ status: 'online', state: 'open' });
    server.connections[0]!.drop();
    await until(store, (s) => s.connection.status === 'connecting');
    await until(store, (s) => s.connection.status === 'online');
    store.client.close();
    await until(store, (s) => s.connection.status === 'offline');
  });
});

describe('ChatStore: persistence', () => {
  /** A key-value storage as AsyncStorage is: asynchronous. */
  class MemoryStorage implements KeyValueStorage {
    readonly values = new Map<string, string>();
    async getItem(key: string): Promise<string | null> {
      return this.values.get(key) ?? null;
    }
    async setItem(key: string, value: string): Promise<void> {
      this.values.set(key, value);
    }
  }

  it('a restarted store shows its sessions at once, sends its unsent messages again (stored once), and fetches only what is newer', async () => {
    const history = new FakeHistory('alice');
    history.add('bob', 3);
    const storage = new MemoryStorage();
    const server = await startServer(history, { holdAck: () => new Promise<void>(() => undefined) }); // never acked
    const first = makeStore(server, history, { storage, storageKey: 'chat:alice' });
    await first.start();
    await until(first, (s) => messagesOf(s, '1:bob').length === 3);
    await first.markRead(peer('bob'));
    const unsent = first.send(peer('bob'), 'sent before the restart');
    await server.connections[0]!.nextAction('msg_data'); // stored, never acked
    await first.save();
    first.dispose();
    first.client.close();

    const server2 = await startServer(history);
    const restarted = makeStore(server2, history, { storage, storageKey: 'chat:alice' });
    const starting = restarted.start();
    // Before any connection: the saved list and the unsent message show.
    expect(restarted.getSnapshot().sessions).toEqual([]);
    await Promise.resolve();
    await until(restarted, (s) => s.sessions.length > 0);
    expect(messagesOf(restarted.getSnapshot(), '1:bob')).toEqual([
      expect.objectContaining({ clientMsgId: unsent.clientMsgId, status: 'pending' }),
    ]);
    await starting;
    const snapshot = await until(restarted, (s) => messagesOf(s, '1:bob')[0]?.status === 'stored');
    expect(messagesOf(snapshot, '1:bob')).toEqual([
      expect.objectContaining({ clientMsgId: unsent.clientMsgId, msgId: 4, status: 'stored' }),
    ]);
    expect(history.conversations.get('1:bob')!.messages).toHaveLength(4); // stored once
    expect(snapshot.conversations['1:bob']!.readUpTo).toBe(4);
    // The catch-up asked for nothing it held: no msg_list of bob after the restart.
    expect(server2.connections[0]!.frames.filter((f) => f['action'] === 'msg_list')).toEqual([]);
  });
});

describe('ChatStore: uploads', () => {
  it('shows a picture at once with its upload, sends it when uploaded; a failed upload is retried; a cancelled one is dropped', async () => {
    let refuse = true;
    let held: (() => void) | undefined;
    const holdArrived = new Promise<void>((resolve) => {
      s3Handler = (request, response) => {
        if (refuse) {
          refuse = false;
          response.statusCode = 403;
          return response.end();
        }
        if (request.url !== '/hold') return response.end();
        held = () => response.end();
        resolve();
      };
    });
    const s3Url = await startS3();
    const history = new FakeHistory('alice');
    const key = `uploads/616c696365/${'U'.repeat(22)}`;
    const server = await startServer(history);
    const store = makeStore(server, history, {}, { catchUp: false });
    await store.start();
    const connection = server.connections[0]!;
    const answerUpload = async (path: string) => {
      const frame = await connection.nextAction('attachment_upload');
      connection.send({
        type: 'attachment_upload',
        seq: frame['seq'],
        key,
        url: `${s3Url}${path}`,
        method: 'PUT',
        headers: { 'Content-Type': String(frame['content_type']) },
        expires_in: 300,
      });
    };
    const photo = new Blob([new Uint8Array(300)], { type: 'image/png' });
    const sent = store.sendPicture(peer('bob'), photo, { width: 10, height: 5 });
    expect(sent).toMatchObject({
      status: 'pending',
      kind: 'picture',
      upload: { state: 'uploading', loaded: 0, total: 300 },
    });
    await answerUpload('/'); // S3 refuses this one
    let snapshot = await until(store, (s) => messagesOf(s, '1:bob')[0]?.status === 'failed');
    expect(messagesOf(snapshot, '1:bob')[0]).toMatchObject({
      upload: { state: 'failed' },
      error: { code: 'AttachmentUploadError' },
    });
    store.retry(peer('bob'), sent.key);
    await answerUpload('/');
    snapshot = await until(store, (s) => messagesOf(s, '1:bob')[0]?.status === 'stored');
    expect(messagesOf(snapshot, '1:bob')[0]).toMatchObject({
      key: sent.key,
      msgId: 1,
      kind: 'picture',
      upload: undefined,
      attachment: { kind: 'picture', key, contentType: 'image/png', size: 300, width: 10, height: 5 },
    });

    const cancelled = store.sendPicture(peer('bob'), photo);
    await answerUpload('/hold');
    await holdArrived;
    store.cancel(peer('bob'), cancelled.key);
    held!();
    snapshot = await until(store, (s) => messagesOf(s, '1:bob').length === 1);
    expect(connection.frames.filter((f) => f['action'] === 'msg_data')).toHaveLength(1);
  });
});
