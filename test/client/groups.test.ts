/**
 * The SDK's group support against a fake server: the typed group requests send the contract's fields, the
 * group_change_member_notify event, and catch-up of group sessions (session_type 2, keyed by group id) with live group
 * messages arriving meanwhile, then resuming from the saved mark.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  MsgType,
  group,
  type ChatClientOptions,
  type GroupChangeMemberNotifyFrame,
  type MsgDataFrame,
  type ServerFrame,
} from '../../client/index.js';
import { FakeHistory, tokenFor } from './fake-history.js';
import { FakeServer, type FakeConnection, type Frame } from './fake-server.js';

const clients: ChatClient[] = [];
const servers: FakeServer[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: { history?: FakeHistory; client?: Partial<ChatClientOptions> } = {}) {
  const server = await FakeServer.start(options.history ? { onFrame: options.history.onFrame } : {});
  servers.push(server);
  const client = new ChatClient({
    url: server.url,
    token: tokenFor(options.history?.userId ?? 'bob'),
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
    requestTimeoutMs: 5_000,
    ackBatchMs: 0, // each delivery acked on its own, so the test can count them
    ...options.client,
  });
  clients.push(client);
  const messages: MsgDataFrame[] = [];
  client.on('message', (m) => messages.push(m));
  return { server, client, messages };
}

/** Answers the next request frame with `reply` and returns it without its seq. */
async function answer(connection: FakeConnection, action: string, reply: Frame): Promise<Frame> {
  const { seq, ...frame } = await connection.nextAction(action);
  connection.send({ type: action, seq, ...reply });
  return frame;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('group requests', () => {
  it('createGroup, changeGroupMembers, leaveGroup, listGroups and groupInfo send the contract fields', async () => {
    const { server, client } = await start({ client: { catchUp: false } });
    await client.connect();
    const connection = await server.nextConnection();

    const created = client.createGroup({ groupName: 'team', memberIds: ['alice', 'carol'] });
    expect(await answer(connection, 'group_create', { group_id: 'g:GroupOne______________' })).toEqual({
      action: 'group_create',
      group_name: 'team',
      member_ids: ['alice', 'carol'],
    });
    expect((await created).group_id).toBe('g:GroupOne______________');

    const added = client.changeGroupMembers({
      groupId: 'g:GroupOne______________',
      changeType: 'add',
      memberIds: ['dave'],
    });
    expect(
      await answer(connection, 'group_change_member', {
        group_id: 'g:GroupOne______________',
        cur_user_id_list: ['bob', 'alice', 'carol', 'dave'],
      }),
    ).toEqual({
      action: 'group_change_member',
      group_id: 'g:GroupOne______________',
      change_type: 'add',
      member_ids: ['dave'],
    });
    expect((await added).cur_user_id_list).toContain('dave');

    const left = client.leaveGroup('g-2');
    expect(await answer(connection, 'group_change_member', { group_id: 'g-2', cur_user_id_list: ['alice'] })).toEqual({
      action: 'group_change_member',
      group_id: 'g-2',
      change_type: 'del',
      member_ids: ['bob'], // the token's sub
    });
    await expect(left).resolves.toMatchObject({ group_id: 'g-2' });

    const muted = client.muteGroup('g:GroupOne______________');
    expect(
      await answer(connection, 'session_mute', { session_id: 'g:GroupOne______________', session_type: 2, mute: true }),
    ).toEqual({
      action: 'session_mute',
      session_id: 'g:GroupOne______________',
      session_type: 2,
      mute: true,
    });
    await expect(muted).resolves.toMatchObject({ session_id: 'g:GroupOne______________', mute: true });

    const listed = client.listGroups();
    expect(
      await answer(connection, 'group_list', {
        group_list: [{ group_id: 'g:GroupOne______________', group_name: 'team' }],
      }),
    ).toEqual({
      action: 'group_list',
    });
    expect((await listed).group_list).toEqual([{ group_id: 'g:GroupOne______________', group_name: 'team' }]);

    // group_info pages a large group's members: the client asks on with the reply's next_page_token.
    const info = client.groupInfo('g:GroupOne______________');
    const page = { group_id: 'g:GroupOne______________', group_name: 'team', owner_id: 'bob', member_count: 3 };
    expect(
      await answer(connection, 'group_info', { ...page, cur_user_id_list: ['alice', 'bob'], next_page_token: 'p2' }),
    ).toEqual({ action: 'group_info', group_id: 'g:GroupOne______________' });
    expect(await answer(connection, 'group_info', { ...page, cur_user_id_list: ['carol'] })).toEqual({
      action: 'group_info',
      group_id: 'g:GroupOne______________',
      page_token: 'p2',
    });
    expect(await info).toEqual({ ...page, cur_user_id_list: ['alice', 'bob', 'carol'] });

    const refused = client.groupInfo('g:GroupNine_____________');
    const frame = await connection.nextAction('group_info');
    connection.send({ type: 'error', seq: frame['seq'], code: 'not_member', message: 'no' });
    await expect(refused).rejects.toMatchObject({ name: 'ChatServerError', code: 'not_member' });
  });

  it('emits group_change_member_notify as a typed event; a malformed one goes to the frame event', async () => {
    const { server, client } = await start({ client: { catchUp: false } });
    await client.connect();
    const connection = await server.nextConnection();
    const notices: GroupChangeMemberNotifyFrame[] = [];
    const other: ServerFrame[] = [];
    client.on('group_change_member_notify', (n) => notices.push(n));
    client.on('frame', (f) => other.push(f));
    const notice = {
      type: 'group_change_member_notify',
      group_id: 'g:GroupOne______________',
      change_type: 'del',
      user_ids: ['carol'],
      cur_user_id_list: ['alice', 'bob'],
    };
    connection.send(notice);
    connection.send({ ...notice, change_type: 'move' });
    await client.waitFor('frame');
    expect(notices).toEqual([notice]);
    expect(other).toEqual([{ ...notice, change_type: 'move' }]);
  });
});

describe('catch-up of group sessions', () => {
  it('fetches a group’s missed messages with session_type 2, merges live ones once, in msg_id order, and resumes from the mark', async () => {
    const history = new FakeHistory('bob');
    history.add('g:GroupOne______________', 40, { sessionType: 2, from: 'alice' });
    history.add('alice', 3); // a single chat with the same peer keeps its own msg_ids
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const requested = new Promise<void>((resolve) => (asked = resolve));
    history.gate = (frame) => {
      if (frame['action'] !== 'msg_list' || frame['session_type'] !== 2) return undefined;
      asked();
      return held;
    };
    const { server, client, messages } = await start({ history });
    const synced = client.waitFor('synced');
    await client.connect();
    const connection = await server.nextConnection();
    await requested;

    // While the group's page is on its way: 41 live from carol, and a live copy of 40 (also in the page).
    const [fortyOne] = history.add('g:GroupOne______________', 1, { sessionType: 2, from: 'carol' });
    connection.send(history.frameOf('g:GroupOne______________', fortyOne!, 2));
    connection.send(
      history.frameOf(
        'g:GroupOne______________',
        history.conversations.get('2:g:GroupOne______________')!.messages[39]!,
        2,
      ),
    );
    await connection.nextFrame((f) => f['action'] === 'msg_data_ack' && f['msg_id'] === 40);
    const groupIds = () => messages.filter((m) => m.msg_type === MsgType.GroupText).map((m) => m.msg_id);
    expect(groupIds()).toEqual([]); // held back until the group is caught up

    release();
    expect(await synced).toMatchObject({ sessions: 2, sessionsCaughtUp: 2, messages: 39 + 3, complete: true });
    expect(groupIds()).toEqual(range(1, 41));
    expect(messages.find((m) => m.msg_id === 41 && m.msg_type === MsgType.GroupText)).toMatchObject({
      from_user_id: 'carol',
      to_session_id: 'g:GroupOne______________',
    });
    expect(messages.find((m) => m.msg_id === 7 && m.msg_type === MsgType.GroupText)).toEqual({
      type: 'msg_data',
      from_user_id: 'alice',
      to_session_id: 'g:GroupOne______________',
      msg_id: 7,
      create_time: expect.any(Number),
      msg_type: 17,
      msg_data: 'g:GroupOne______________ #7',
      conversation: group('g:GroupOne______________'),
      live: false,
      source: 'history', // a new device's first sync: nothing to notify
      own: false,
    });
    expect(
      history
        .requestsOf('msg_list')
        .filter((f) => f['session_id'] === 'g:GroupOne______________')
        .map((f) => [f['session_type'], f['msg_id_begin'], f['msg_cnt']]),
    ).toEqual([[2, 40, 40]]);
    // Live group deliveries are acked with the group id and session_type 2; caught-up ones are not acked.
    const acks = connection.frames.filter((f) => f['action'] === 'msg_data_ack');
    expect(acks).toEqual([
      { action: 'msg_data_ack', msg_id: 41, session_id: 'g:GroupOne______________', session_type: 2 },
      { action: 'msg_data_ack', msg_id: 40, session_id: 'g:GroupOne______________', session_type: 2 },
    ]);
    const state = client.getSyncState();
    expect(state.latestMsgIds).toEqual({ '2:g:GroupOne______________': 41, '1:alice': 3 });

    // A later client resuming from the saved state fetches only what is newer.
    client.close();
    history.add('g:GroupOne______________', 5, { sessionType: 2, from: 'dave' });
    history.requests.length = 0;
    history.gate = undefined;
    const again = await start({ history, client: { syncState: state } });
    const resynced = again.client.waitFor('synced');
    await again.client.connect();
    expect(await resynced).toMatchObject({ messages: 5, requests: 2 });
    expect(again.messages.map((m) => m.msg_id)).toEqual(range(42, 46));
    expect(
      history.requestsOf('msg_list').map((f) => [f['session_id'], f['session_type'], f['msg_id_begin'], f['msg_cnt']]),
    ).toEqual([['g:GroupOne______________', 2, 46, 5]]);
  });
});
