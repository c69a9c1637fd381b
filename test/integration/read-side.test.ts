/** The read side on DynamoDB Local, through the sync handler: history, sessions, unread counts, read marks. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../core/domain/frames.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { SESSIONS_PAGE_SIZE } from '../../core/usecases/sessions.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { createTestRuntime, msgData, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
let sync: ReturnType<typeof createSyncHandler>;

beforeEach(async () => {
  t = await createTestRuntime();
  sync = createSyncHandler(t.runtime);
});

/** Sends a request frame as `userId` on `connectionId` and returns the reply posted to that connection. */
async function request(
  userId: string,
  connectionId: string,
  frame: Record<string, unknown>,
): Promise<ServerFrame & Record<string, unknown>> {
  const before = t.gateway.framesTo(connectionId).length;
  const event = {
    body: JSON.stringify(frame),
    requestContext: { connectionId, routeKey: String(frame['action']), eventType: 'MESSAGE', authorizer: { userId } },
  } as unknown as WebSocketEvent;
  await sync(event);
  const replies = t.gateway.framesTo(connectionId).slice(before);
  expect(replies).toHaveLength(1);
  return replies[0] as ServerFrame & Record<string, unknown>;
}

/** Sends n messages from → to, one second apart on the manual clock; returns their msg_ids. */
async function sendMany(from: string, to: string, n: number, text = (i: number) => `m${i}`): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    t.clock.advance(1000);
    const { message } = await acceptMessage(t.runtime, {
      userId: from,
      body: msgData({ to_session_id: to, msg_data: text(i) }),
    });
    ids.push(message.msgId);
  }
  return ids;
}

describe('msg_list', () => {
  it('pages backwards by msg_id, newest first, msg_id ≤ msg_id_begin', async () => {
    await sendMany('alice', 'bob', 25);
    const page = (begin: number, cnt: number) =>
      request('bob', 'b1', {
        action: 'msg_list',
        seq: 4,
        session_id: 'alice',
        session_type: 1,
        msg_id_begin: begin,
        msg_cnt: cnt,
      });

    const first = await page(0, 10);
    expect(first).toMatchObject({
      type: 'msg_list',
      seq: 4,
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      has_more: true,
    });
    expect((first['msg_list'] as { msg_id: number }[]).map((m) => m.msg_id)).toEqual([
      25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
    ]);
    expect((first['msg_list'] as unknown[])[0]).toEqual({
      msg_id: 25,
      from_user_id: 'alice',
      create_time: expect.any(Number),
      msg_type: 1,
      msg_data: 'm24',
    });

    expect(((await page(15, 10))['msg_list'] as { msg_id: number }[]).map((m) => m.msg_id)).toEqual([
      15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
    ]);
    const last = await page(3, 10);
    expect((last['msg_list'] as { msg_id: number }[]).map((m) => m.msg_id)).toEqual([3, 2, 1]);
    expect(last['has_more']).toBe(false);
    expect((await page(4, 3))['has_more']).toBe(true);
    expect((await page(3, 3))['has_more']).toBe(false);
    expect(((await page(1000, 2))['msg_list'] as { msg_id: number }[]).map((m) => m.msg_id)).toEqual([25, 24]);
  });

  it('is empty for a session without messages and refuses oneself and groups the user is not in', async () => {
    expect(
      await request('carol', 'c1', {
        action: 'msg_list',
        session_id: 'alice',
        session_type: 1,
        msg_id_begin: 0,
        msg_cnt: 10,
      }),
    ).toMatchObject({ msg_list: [] });
    expect(
      await request('carol', 'c1', {
        action: 'msg_list',
        seq: 1,
        session_id: 'carol',
        session_type: 1,
        msg_id_begin: 0,
        msg_cnt: 10,
      }),
    ).toMatchObject({ type: 'error', seq: 1, code: 'not_member' });
    expect(
      await request('carol', 'c1', {
        action: 'msg_list',
        session_id: 'g1',
        session_type: 2,
        msg_id_begin: 0,
        msg_cnt: 10,
      }),
    ).toMatchObject({ type: 'error', code: 'not_member' });
  });

  it("never shows another pair's history: carol asking about alice sees only carol↔alice", async () => {
    await sendMany('alice', 'bob', 3);
    for (const sessionId of ['alice', 'bob']) {
      expect(
        await request('carol', 'c1', {
          action: 'msg_list',
          session_id: sessionId,
          session_type: 1,
          msg_id_begin: 0,
          msg_cnt: 100,
        }),
      ).toMatchObject({ msg_list: [] });
    }
  });

  it.each([
    [{ msg_cnt: 0 }],
    [{ msg_cnt: 101 }],
    [{ msg_id_begin: -1 }],
    [{ msg_id_begin: 1.5 }],
    [{ session_type: 3 }],
    [{ session_id: 'a b' }],
  ])('refuses %j with bad_request', async (bad) => {
    const reply = await request('bob', 'b1', {
      action: 'msg_list',
      seq: 9,
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
      ...bad,
    });
    expect(reply).toMatchObject({ type: 'error', seq: 9, code: 'bad_request' });
  });
});

describe('latest_msg_id and msg_by_ids', () => {
  it('report the newest stored msg_id (0 when none) and the listed messages that exist, newest first', async () => {
    expect(
      await request('bob', 'b1', { action: 'latest_msg_id', seq: 2, session_id: 'alice', session_type: 1 }),
    ).toEqual({
      type: 'latest_msg_id',
      seq: 2,
      session_id: 'alice',
      session_type: 1,
      latest_msg_id: 0,
    });
    await sendMany('alice', 'bob', 5);
    expect(await request('bob', 'b1', { action: 'latest_msg_id', session_id: 'alice', session_type: 1 })).toMatchObject(
      { latest_msg_id: 5 },
    );
    const byIds = await request('bob', 'b1', {
      action: 'msg_by_ids',
      session_id: 'alice',
      session_type: 1,
      msg_ids: [3, 99, 5, 3],
    });
    expect((byIds['msg_list'] as { msg_id: number }[]).map((m) => m.msg_id)).toEqual([5, 3]);
    expect(
      await request('bob', 'b1', { action: 'msg_by_ids', session_id: 'alice', session_type: 1, msg_ids: [] }),
    ).toMatchObject({ code: 'bad_request' });
  });
});

describe('client_msg_id in history', () => {
  it('msg_list and msg_by_ids carry the sender’s client_msg_id, so a client matches history with its own sends', async () => {
    await acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob', client_msg_id: 'c-1' }) });
    await acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob' }) });
    const list = await request('alice', 'a1', {
      action: 'msg_list',
      session_id: 'bob',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(list['msg_list']).toEqual([
      expect.not.objectContaining({ client_msg_id: expect.anything() }),
      expect.objectContaining({ msg_id: 1, client_msg_id: 'c-1' }),
    ]);
    const byIds = await request('bob', 'b1', {
      action: 'msg_by_ids',
      session_id: 'alice',
      session_type: 1,
      msg_ids: [1],
    });
    expect(byIds['msg_list']).toEqual([expect.objectContaining({ msg_id: 1, client_msg_id: 'c-1' })]);
  });
});

describe('recent_sessions', () => {
  it('lists sessions newest first with the latest message and unread count, and pages past 100', async () => {
    const peers = Array.from({ length: SESSIONS_PAGE_SIZE + 1 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    for (const peer of peers) await sendMany(peer, 'bob', 1, () => `from ${peer}`);
    await sendMany('bob', 'p000', 1, () => 'bob replies');

    const first = await request('bob', 'b1', { action: 'recent_sessions', seq: 1, latest_update_time: 0 });
    const list = first['contact_session_list'] as Record<string, unknown>[];
    expect(list).toHaveLength(SESSIONS_PAGE_SIZE);
    expect(list[0]).toEqual({
      session_id: 'p000',
      session_type: 1,
      updated_time: Math.floor(t.clock.now() / 1000),
      latest_msg_id: 2,
      latest_msg_data: 'bob replies',
      latest_msg_type: 1,
      latest_msg_from_user_id: 'bob',
      unread_cnt: 1,
    });
    expect(list[1]).toMatchObject({ session_id: 'p100', latest_msg_data: 'from p100', unread_cnt: 1 });
    expect(typeof first['next_page_token']).toBe('string');

    const second = await request('bob', 'b1', {
      action: 'recent_sessions',
      latest_update_time: 0,
      page_token: first['next_page_token'],
    });
    expect((second['contact_session_list'] as { session_id: string }[]).map((s) => s.session_id)).toEqual(['p001']);
    expect(second['next_page_token']).toBeUndefined();
  });

  it('returns only sessions updated after latest_update_time, and none for a user without sessions', async () => {
    await sendMany('alice', 'bob', 1);
    const since = Math.floor(t.clock.now() / 1000);
    await sendMany('carol', 'bob', 1);
    const reply = await request('bob', 'b1', { action: 'recent_sessions', latest_update_time: since });
    expect((reply['contact_session_list'] as { session_id: string }[]).map((s) => s.session_id)).toEqual(['carol']);
    expect(await request('dave', 'd1', { action: 'recent_sessions', latest_update_time: 0 })).toEqual({
      type: 'recent_sessions',
      contact_session_list: [],
    });
    expect(
      await request('bob', 'b1', { action: 'recent_sessions', seq: 3, latest_update_time: 0, page_token: 'garbage' }),
    ).toMatchObject({ type: 'error', seq: 3, code: 'bad_request' });
  });

  it('remove_session hides a session until its next message and tells the other connections', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b2' });
    await sendMany('alice', 'bob', 2);
    await sendMany('carol', 'bob', 1);
    expect(
      await request('bob', 'b1', { action: 'remove_session', seq: 5, session_id: 'alice', session_type: 1 }),
    ).toEqual({
      type: 'remove_session',
      seq: 5,
      session_id: 'alice',
      session_type: 1,
    });
    expect(t.gateway.framesTo('b2')).toEqual([
      { type: 'remove_session_notify', user_id: 'bob', session_id: 'alice', session_type: 1 },
    ]);
    const sessions = async () =>
      (
        (await request('bob', 'b1', { action: 'recent_sessions', latest_update_time: 0 }))['contact_session_list'] as {
          session_id: string;
        }[]
      ).map((s) => s.session_id);
    expect(await sessions()).toEqual(['carol']);
    await sendMany('alice', 'bob', 1);
    expect(await sessions()).toEqual(['alice', 'carol']);
    expect(await request('bob', 'b1', { action: 'remove_session', session_id: 'zed', session_type: 1 })).toMatchObject({
      code: 'not_member',
    });
  });
});

describe('unread counts and read marks', () => {
  beforeEach(async () => {
    await registerConnection(t.runtime, { userId: 'alice', connectionId: 'a1' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b2' });
  });

  const unread = async (userId: string, connectionId: string) =>
    request(userId, connectionId, { action: 'unread_cnt', seq: 8 });

  it("counts the peer's messages only, clears up to the read msg_id and not past it, while newer ones arrive", async () => {
    await sendMany('alice', 'bob', 3); // 1, 2, 3
    await sendMany('bob', 'alice', 1); // 4
    expect(await unread('bob', 'b1')).toEqual({
      type: 'unread_cnt',
      seq: 8,
      total_cnt: 3,
      unreadinfo_list: [
        {
          session_id: 'alice',
          session_type: 1,
          unread_cnt: 3,
          latest_msg_id: 4,
          latest_msg_data: 'm0',
          latest_msg_type: 1,
          latest_msg_from_user_id: 'bob',
        },
      ],
    });
    expect((await unread('alice', 'a1'))['total_cnt']).toBe(1);

    // bob reads up to 2 while alice's message 5 is on its way.
    await expect(
      request('bob', 'b1', { action: 'msg_read_ack', seq: 3, session_id: 'alice', session_type: 1, msg_id: 2 }),
    ).resolves.toEqual({ type: 'msg_read_ack', seq: 3 });
    await sendMany('alice', 'bob', 1); // 5
    expect((await unread('bob', 'b1'))['total_cnt']).toBe(2); // 3 and 5

    // A read mark never moves back.
    await request('bob', 'b1', { action: 'msg_read_ack', session_id: 'alice', session_type: 1, msg_id: 1 });
    expect((await unread('bob', 'b1'))['total_cnt']).toBe(2);

    await request('bob', 'b1', { action: 'msg_read_ack', session_id: 'alice', session_type: 1, msg_id: 5 });
    expect(await unread('bob', 'b1')).toMatchObject({ total_cnt: 0, unreadinfo_list: [] });
    const [session] = (await request('bob', 'b1', { action: 'recent_sessions', latest_update_time: 0 }))[
      'contact_session_list'
    ] as { unread_cnt: number }[];
    expect(session?.unread_cnt).toBe(0);
  });

  it("tells the reader's other connections and the peer's connections, once per move of the mark", async () => {
    await sendMany('alice', 'bob', 2);
    await request('bob', 'b1', { action: 'msg_read_ack', session_id: 'alice', session_type: 1, msg_id: 2 });
    const fields = { user_id: 'bob', session_id: 'alice', session_type: 1, msg_id: 2 };
    expect(t.gateway.framesTo('b2')).toEqual([{ type: 'msg_read_notify', ...fields }]);
    expect(t.gateway.framesTo('a1')).toEqual([{ type: 'msg_read_receipt', ...fields }]);
    expect(t.gateway.framesTo('b1')).toEqual([{ type: 'msg_read_ack' }]);

    await request('bob', 'b1', { action: 'msg_read_ack', session_id: 'alice', session_type: 1, msg_id: 2 });
    expect(t.gateway.framesTo('a1')).toHaveLength(1);
  });

  it('refuses a read ack for a session without messages (bad_request: there is nothing up to that msg_id)', async () => {
    expect(
      await request('bob', 'b1', { action: 'msg_read_ack', seq: 1, session_id: 'zed', session_type: 1, msg_id: 1 }),
    ).toMatchObject({ type: 'error', seq: 1, code: 'bad_request' });
    expect(await t.items('Sessions')).toEqual([]);
  });
});

describe('routing inside the sync function', () => {
  it.each(['__proto__', 'constructor', 'toString', 'nope'])('answers unknown_action for %s', async (action) => {
    expect(await request('bob', 'b1', { action, seq: 1 })).toMatchObject({
      type: 'error',
      seq: 1,
      code: 'unknown_action',
    });
  });
});
