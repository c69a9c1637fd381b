/**
 * The typed helpers over `request()`: every page of `unread_cnt` and `group_list` (page_token / next_page_token),
 * `msg_by_ids` asking again for `remaining_msg_ids`, `listMessages` telling `has_more` also from a server without it,
 * push tokens and sign-out, and the pacing of reading and writing requests and of messages to the server's per-user rates
 * (fake timers: what waits for the gate cannot go out before the test moves the clock).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectTimeoutError, peer } from '../../client/index.js';
import type { FakeConnection, Frame } from './fake-server.js';
import { AutoAck } from './fake-server.js';
import { cleanUp, makeClient, range, startServer } from './harness.js';

afterEach(() => {
  vi.useRealTimers();
  return cleanUp();
});

async function connected(onFrame?: (connection: FakeConnection, frame: Frame) => void) {
  const server = await startServer(onFrame ? { onFrame } : {});
  const client = makeClient(server);
  await client.connect();
  return { client, connection: await server.nextConnection() };
}

/** Answers the next request frame of `action` with `reply`; returns the frame without its seq. */
async function answer(connection: FakeConnection, action: string, reply: Frame): Promise<Frame> {
  const { seq, ...frame } = await connection.nextAction(action);
  connection.send({ type: action, seq, ...reply });
  return frame;
}

/** Waits, without a clock, until `check` holds (setImmediate is never faked here). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

const unread = (session_id: string, unread_cnt: number) => ({
  session_id,
  session_type: 1,
  unread_cnt,
  latest_msg_id: 1,
  latest_msg_data: '',
  latest_msg_type: 1,
  latest_msg_from_user_id: session_id,
});

describe('paged helpers', () => {
  it('unreadCounts() follows next_page_token and adds up the pages', async () => {
    const { client, connection } = await connected();
    const counts = client.unreadCounts();
    expect(
      await answer(connection, 'unread_cnt', {
        total_cnt: 5,
        unreadinfo_list: [unread('a', 5)],
        next_page_token: 'p2',
      }),
    ).toEqual({ action: 'unread_cnt' });
    expect(await answer(connection, 'unread_cnt', { total_cnt: 2, unreadinfo_list: [unread('b', 2)] })).toEqual({
      action: 'unread_cnt',
      page_token: 'p2',
    });
    expect(await counts).toEqual({ total_cnt: 7, unreadinfo_list: [unread('a', 5), unread('b', 2)] });
  });

  it('listGroups() follows next_page_token; a repeated token ends the walk', async () => {
    const { client, connection } = await connected();
    const groups = client.listGroups();
    await answer(connection, 'group_list', {
      group_list: [{ group_id: 'g:1', group_name: 'one' }],
      next_page_token: 't',
    });
    expect(
      await answer(connection, 'group_list', {
        group_list: [{ group_id: 'g:2', group_name: 'two' }],
        next_page_token: 't',
      }),
    ).toEqual({ action: 'group_list', page_token: 't' });
    expect((await groups).group_list.map((g) => g.group_id)).toEqual(['g:1', 'g:2']);
  });

  it('messagesByIds() asks again for remaining_msg_ids and returns all, newest first', async () => {
    const { client, connection } = await connected();
    const message = (msg_id: number) => ({
      msg_id,
      from_user_id: 'bob',
      create_time: 1,
      msg_type: 1,
      msg_data: `#${msg_id}`,
    });
    const found = client.messagesByIds({ conversation: peer('bob'), msgIds: [1, 2, 3, 4] });
    await answer(connection, 'msg_by_ids', {
      session_id: 'bob',
      session_type: 1,
      msg_list: [message(2), message(1)],
      remaining_msg_ids: [3, 4],
    });
    expect(
      await answer(connection, 'msg_by_ids', { session_id: 'bob', session_type: 1, msg_list: [message(4)] }),
    ).toMatchObject({ msg_ids: [3, 4] });
    expect((await found).msg_list.map((m) => m.msg_id)).toEqual([4, 2, 1]);
  });

  it('listMessages() passes has_more through, and derives it from a full page of a server without it', async () => {
    const { client, connection } = await connected();
    const message = (msg_id: number) => ({ msg_id, from_user_id: 'bob', create_time: 1, msg_type: 1, msg_data: '' });
    const short = client.listMessages({ conversation: peer('bob'), msgCnt: 3 });
    await answer(connection, 'msg_list', {
      session_id: 'bob',
      session_type: 1,
      msg_id_begin: 0,
      msg_list: [message(9)],
      has_more: true,
    });
    expect((await short).has_more).toBe(true);
    const full = client.listMessages({ conversation: peer('bob'), msgCnt: 2 });
    await answer(connection, 'msg_list', {
      session_id: 'bob',
      session_type: 1,
      msg_id_begin: 0,
      msg_list: [message(9), message(8)],
    });
    expect((await full).has_more).toBe(true);
    const last = client.listMessages({ conversation: peer('bob'), msgIdBegin: 2, msgCnt: 2 });
    await answer(connection, 'msg_list', {
      session_id: 'bob',
      session_type: 1,
      msg_id_begin: 2,
      msg_list: [message(2), message(1)],
    });
    expect((await last).has_more).toBe(false);
  });
});

describe('push tokens', () => {
  const answersDeviceTokens = (c: FakeConnection, f: Frame) =>
    typeof f['action'] === 'string' &&
    f['action'].startsWith('device_token') &&
    c.send({ type: f['action'], seq: f['seq'] });

  it('registerDeviceToken() sends device_token with the install’s device_id; signOut() removes that install’s tokens, then closes', async () => {
    const { client, connection } = await connected(answersDeviceTokens);
    await client.registerDeviceToken({ token: 'apns-1', platform: 'ios' });
    const registered = connection.frames.at(-1)!;
    expect(registered).toMatchObject({ action: 'device_token', token: 'apns-1', platform: 'ios' });
    expect(registered['device_id']).toBe(client.getSyncState().deviceId);
    await client.signOut();
    expect(connection.frames.at(-1)).toMatchObject({
      action: 'device_token_remove',
      device_id: registered['device_id'],
    });
    expect(client.connection).toMatchObject({ state: 'closed', reason: 'closed_by_client' });
  });

  it('a token registered in an earlier run is removed at sign-out: the restarted app connects to sign out', async () => {
    const server = await startServer({ onFrame: answersDeviceTokens });
    const firstRun = makeClient(server);
    await firstRun.connect();
    await firstRun.registerDeviceToken({ token: 'fcm-1', platform: 'android' });
    const saved = JSON.parse(JSON.stringify(firstRun.getSyncState()));
    firstRun.close();

    const restarted = makeClient(server, { syncState: saved }); // not connected: signOut connects to remove
    await restarted.signOut();
    const connection = server.connections.at(-1)!;
    expect(connection.frames.filter((f) => f['action'] === 'device_token_remove')).toEqual([
      { action: 'device_token_remove', seq: expect.any(Number), device_id: saved.deviceId },
    ]);
    expect(restarted.state).toBe('closed');
  });

  it('signing out while the server is unreachable rejects once its timeout passes, and closes the client', async () => {
    const server = await startServer({ refuse: () => 503 });
    const client = makeClient(server, { reconnect: { initialDelayMs: 600_000, maxDelayMs: 600_000 } });
    const error = await client.signOut({ timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(client.connection).toMatchObject({ state: 'closed', reason: 'closed_by_client' });
  });

  it('says when a token is pending; verifyDeviceToken() sends the pushed code, then registers the token with the device id', async () => {
    let held = true;
    const { client, connection } = await connected((c, f) => {
      if (f['action'] === 'device_token')
        c.send({ type: 'device_token', seq: f['seq'], ...(held ? { pending: true } : {}) });
      if (f['action'] === 'device_token_verify') {
        held = false;
        c.send({ type: 'device_token_verify', seq: f['seq'] });
      }
    });
    expect(await client.registerDeviceToken({ token: 'fcm-1', platform: 'android' })).toEqual({ pending: true });
    await client.verifyDeviceToken({ token: 'fcm-1', code: 'c0de' });
    expect(connection.frames.slice(-2)).toMatchObject([
      { action: 'device_token_verify', token: 'fcm-1', code: 'c0de' },
      { action: 'device_token', token: 'fcm-1', platform: 'android', device_id: client.getSyncState().deviceId },
    ]);
  });

  it('refuses a token over the limit or an unknown platform without sending', async () => {
    const { client, connection } = await connected();
    await expect(client.registerDeviceToken({ token: 'x'.repeat(1025), platform: 'android' })).rejects.toBeInstanceOf(
      TypeError,
    );
    // @ts-expect-error not a platform
    await expect(client.registerDeviceToken({ token: 'x', platform: 'pager' })).rejects.toBeInstanceOf(TypeError);
    expect(connection.frames).toEqual([]);
  });
});

describe('pacing to the per-user rates', () => {
  it('sends at most 20 msg_data in a window; the rest go out as the window moves', async () => {
    const path = new AutoAck();
    const server = await startServer({ onFrame: path.onFrame });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    // 25 conversations, so that order (one in flight per conversation) does not hold any back: only the rate does.
    const sends = range(1, 25).map((i) => client.send({ to: peer(`u${i}`), msgData: 'x' }));
    const sent = () => connection.frames.filter((f) => f['action'] === 'msg_data').length;
    await until(() => sent() === 20);
    await Promise.all(sends.slice(0, 20));
    expect(sent()).toBe(20); // the 21st waits for a timer that has not run
    vi.advanceTimersByTime(1_100);
    await Promise.all(sends);
    expect(sent()).toBe(25);
  });

  it('sends at most 10 writing requests in a window; reads are not held', async () => {
    const server = await startServer({
      onFrame: (c, f) =>
        c.send({
          type: String(f['action']),
          seq: f['seq'],
          ...(f['action'] === 'unread_cnt' ? { total_cnt: 0, unreadinfo_list: [] } : {}),
        }),
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const reads = range(1, 12).map((i) => client.markRead({ conversation: peer(`u${i}`), msgId: i }));
    const counted = client.unreadCounts();
    await counted;
    await Promise.all(reads.slice(0, 10));
    expect(connection.frames.filter((f) => f['action'] === 'msg_read_ack')).toHaveLength(10);
    vi.advanceTimersByTime(1_100);
    await Promise.all(reads);
    expect(connection.frames.filter((f) => f['action'] === 'msg_read_ack').map((f) => f['msg_id'])).toEqual(
      range(1, 12),
    );
  });

  it('asks a read refused rate_limited (another device spent the budget) again once the gate opens; a refused write rejects', async () => {
    let refusals = 0;
    const server = await startServer({
      onFrame: (c, f) => {
        if (f['action'] === 'latest_msg_id' && refusals++ === 0)
          return c.send({ type: 'error', seq: f['seq'], code: 'rate_limited', message: 'reads' });
        if (f['action'] === 'msg_read_ack')
          return c.send({ type: 'error', seq: f['seq'], code: 'rate_limited', message: 'writes' });
        c.send({ type: String(f['action']), seq: f['seq'], latest_msg_id: 7 });
      },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const latest = client.request('latest_msg_id', { session_id: 'u1', session_type: 1 });
    await until(() => refusals === 1);
    await expect(client.markRead({ conversation: peer('w'), msgId: 1 })).rejects.toMatchObject({
      code: 'rate_limited',
    });
    expect(connection.frames.filter((f) => f['action'] === 'latest_msg_id')).toHaveLength(1); // the gate is closed
    vi.advanceTimersByTime(1_100);
    await expect(latest).resolves.toMatchObject({ latest_msg_id: 7 });
    expect(connection.frames.filter((f) => f['action'] === 'latest_msg_id')).toHaveLength(2);
  });

  it('sends at most 20 reads in a window; a write is not held behind them', async () => {
    const server = await startServer({
      onFrame: (c, f) =>
        c.send({
          type: String(f['action']),
          seq: f['seq'],
          ...(f['action'] === 'latest_msg_id' ? { latest_msg_id: 0 } : {}),
        }),
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const asked = () => connection.frames.filter((f) => f['action'] === 'latest_msg_id');
    const reads = range(1, 22).map((i) => client.request('latest_msg_id', { session_id: `u${i}`, session_type: 1 }));
    await Promise.all(reads.slice(0, 20));
    await client.markRead({ conversation: peer('w'), msgId: 1 });
    expect(asked()).toHaveLength(20); // the 21st waits for a timer that has not run
    vi.advanceTimersByTime(1_100);
    await Promise.all(reads);
    expect(asked().map((f) => f['session_id'])).toEqual(range(1, 22).map((i) => `u${i}`));
  });
});
