/**
 * Recall and edit in the SDK against the fake server: recall() and edit() send the contract's fields and resolve with
 * the reply (edited_at), MessageChangeNotAllowedError for `not_allowed`, bad arguments refused before any frame;
 * `msg_recalled` / `msg_edited` become events; ChatStore applies them (and its own recall/edit) to the held message and
 * the session preview, never lets a stale copy undo them, and after a reconnect re-reads the open conversation's
 * newest page and the session list, so a change made while offline shows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  ChatStore,
  MessageChangeNotAllowedError,
  peer,
  type ChatSnapshot,
  type MsgEditedFrame,
  type MsgRecalledFrame,
} from '../../client/index.js';
import { FakeHistory, tokenFor } from './fake-history.js';
import { FakeServer, type FakeConnection, type Frame } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function answer(connection: FakeConnection, action: string, reply: Frame): Promise<Frame> {
  const { seq, ...frame } = await connection.nextAction(action);
  connection.send({ type: reply['code'] === undefined ? action : 'error', seq, ...reply });
  return frame;
}

async function startClient() {
  const server = await FakeServer.start();
  servers.push(server);
  const client = new ChatClient({ url: server.url, token: tokenFor('alice'), WebSocket, catchUp: false });
  clients.push(client);
  await client.connect();
  return { client, connection: await server.nextConnection() };
}

describe('recall and edit in ChatClient', () => {
  it('recall sends session and msg_id; not_allowed is MessageChangeNotAllowedError', async () => {
    const { client, connection } = await startClient();
    const recalled = client.recall(peer('bob'), 7);
    expect(await answer(connection, 'msg_recall', { session_id: 'bob', session_type: 1, msg_id: 7 })).toEqual({
      action: 'msg_recall',
      session_id: 'bob',
      session_type: 1,
      msg_id: 7,
    });
    await recalled;
    const refused = client.recall(peer('bob'), 6);
    await answer(connection, 'msg_recall', { code: 'not_allowed', message: 'older than the recall window' });
    await expect(refused).rejects.toBeInstanceOf(MessageChangeNotAllowedError);
  });

  it('edit sends the text and resolves with edited_at; bad arguments throw before any frame', async () => {
    const { client, connection } = await startClient();
    const edited = client.edit(peer('bob'), 3, 'fixed typo');
    expect(
      await answer(connection, 'msg_edit', { session_id: 'bob', session_type: 1, msg_id: 3, edited_at: 1_800_000_000 }),
    ).toEqual({ action: 'msg_edit', session_id: 'bob', session_type: 1, msg_id: 3, msg_data: 'fixed typo' });
    expect(await edited).toBe(1_800_000_000);
    await expect(client.edit(peer('bob'), 3, '')).rejects.toBeInstanceOf(TypeError);
    await expect(client.recall(peer('bob'), 0)).rejects.toBeInstanceOf(TypeError);
    expect(connection.frames.filter((f) => f['action'] === 'msg_edit')).toHaveLength(1);
  });

  it('emits msg_recalled and msg_edited', async () => {
    const { client, connection } = await startClient();
    const seen: (MsgRecalledFrame | MsgEditedFrame)[] = [];
    client.on('msg_recalled', (f) => seen.push(f));
    client.on('msg_edited', (f) => seen.push(f));
    const edited = { type: 'msg_edited', session_id: 'bob', session_type: 1, msg_id: 2, msg_data: 'v2', edited_at: 5 };
    connection.send({ type: 'msg_recalled', session_id: 'bob', session_type: 1, msg_id: 1 });
    connection.send(edited);
    await new Promise<void>((resolve) => client.on('msg_edited', () => resolve()));
    expect(seen).toEqual([{ type: 'msg_recalled', session_id: 'bob', session_type: 1, msg_id: 1 }, edited]);
  });
});

describe('recall and edit in ChatStore', () => {
  async function startStore() {
    const history = new FakeHistory('alice');
    history.add('bob', 2);
    const server = await FakeServer.start({
      onFrame: (connection, frame) => {
        history.onFrame(connection, frame);
        if (frame['action'] === 'msg_data') connection.send(history.storeSent(frame));
      },
    });
    servers.push(server);
    const client = new ChatClient({
      url: server.url,
      token: tokenFor('alice'),
      WebSocket,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
      ackBatchMs: 0,
    });
    clients.push(client);
    const store = new ChatStore(client);
    await store.start();
    await store.open(peer('bob'));
    return { history, server, store, connection: await server.nextConnection() };
  }

  const until = (store: ChatStore, test: (s: ChatSnapshot) => boolean) =>
    new Promise<ChatSnapshot>((resolve) => {
      const check = () => test(store.getSnapshot()) && (off(), resolve(store.getSnapshot()));
      const off = store.subscribe(() => void check());
      check();
    });
  const bobMessages = (s: ChatSnapshot) => s.conversations['1:bob']?.messages ?? [];
  const latestOfBob = (s: ChatSnapshot) => s.sessions.find((e) => e.key === '1:bob')?.latestMessage;

  it('applies msg_recalled and msg_edited to the message and the preview; a stale copy undoes neither', async () => {
    const { store, connection, history } = await startStore();
    await until(store, (s) => bobMessages(s).length === 2);
    connection.send({
      type: 'msg_edited',
      session_id: 'bob',
      session_type: 1,
      msg_id: 2,
      msg_data: 'v2',
      edited_at: 9,
    });
    connection.send({ type: 'msg_recalled', session_id: 'bob', session_type: 1, msg_id: 1 });
    const after = await until(store, (s) => bobMessages(s)[0]?.recalled === true);
    expect(bobMessages(after).map((m) => [m.msgId, m.text, m.recalled, m.editedAt])).toEqual([
      [1, undefined, true, undefined],
      [2, 'v2', false, 9],
    ]);
    expect(latestOfBob(after)).toMatchObject({ msgId: 2, text: 'v2', editedAt: 9 });
    // A redelivery read before the changes carries the old content: the store keeps what it knows.
    const [first, second] = history.conversations.get('1:bob')!.messages;
    connection.send(history.frameOf('bob', first!));
    connection.send(history.frameOf('bob', second!));
    connection.send({ type: 'msg_recalled', session_id: 'bob', session_type: 1, msg_id: 2 });
    const final = await until(store, (s) => bobMessages(s)[1]?.recalled === true);
    expect(bobMessages(final).map((m) => [m.msgId, m.text, m.recalled])).toEqual([
      [1, undefined, true],
      [2, undefined, true],
    ]);
    expect(latestOfBob(final)).toMatchObject({ msgId: 2, recalled: true, text: undefined });
  });

  it('store.edit and store.recall show the change at once on the asking device', async () => {
    const { store, connection } = await startStore();
    const sent = store.send(peer('bob'), 'teh typo');
    await until(store, (s) => bobMessages(s).at(-1)?.msgId === 3);
    const editing = store.edit(peer('bob'), 3, 'the typo');
    await answer(connection, 'msg_edit', { session_id: 'bob', session_type: 1, msg_id: 3, edited_at: 42 });
    await editing;
    expect(bobMessages(store.getSnapshot()).at(-1)).toMatchObject({ key: sent.key, text: 'the typo', editedAt: 42 });
    const recalling = store.recall(peer('bob'), 3);
    await answer(connection, 'msg_recall', { session_id: 'bob', session_type: 1, msg_id: 3 });
    await recalling;
    expect(bobMessages(store.getSnapshot()).at(-1)).toMatchObject({ key: sent.key, recalled: true, data: '' });
  });

  it('after a reconnect, a recall and an edit made while offline show in the open conversation and the list', async () => {
    const { store, connection, history, server } = await startStore();
    await until(store, (s) => bobMessages(s).length === 2 && latestOfBob(s) !== undefined);
    history.change('bob', 1, { edited_at: history.tick(), msg_data: 'edited offline' });
    history.change('bob', 2, { recalled: true });
    connection.drop();
    await server.nextConnection();
    const after = await until(store, (s) => bobMessages(s)[1]?.recalled === true && latestOfBob(s)?.recalled === true);
    expect(bobMessages(after).map((m) => [m.msgId, m.text, m.recalled, m.editedAt !== undefined])).toEqual([
      [1, 'edited offline', false, true],
      [2, undefined, true, false],
    ]);
  });
});
