/** The message path against DynamoDB Local: counters, rows, pending deliveries, acks, sweeps and gone connections. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MsgDataFrame } from '../../core/domain/frames.js';
import { DEFAULTS } from '../../core/config.js';
import { FrameError } from '../../core/errors.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { sweep } from '../../core/usecases/sweep.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createSendHandler } from '../../lambdas/send/handler.js';
import { createTestRuntime, msgData, sendAndDeliver, type TestRuntime } from '../support/runtime.js';

const ACK_TIMEOUT_MS = 15_000;
let t: TestRuntime;

beforeEach(async () => {
  // The rate limit is not what most of these tests measure; its own test sets it back.
  t = await createTestRuntime({
    ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
    MAX_DELIVERY_ATTEMPTS: '3',
    RATE_LIMIT_PER_SECOND: '50',
  });
});

async function connect(userId: string, connectionId: string): Promise<void> {
  await registerConnection(t.runtime, { userId, connectionId });
}

function send(userId: string, connectionId: string, fields: Record<string, unknown>) {
  return sendAndDeliver(t.runtime, { userId, connectionId, body: msgData(fields) });
}

async function ack(userId: string, connectionId: string, msgId: number, sessionId: string): Promise<boolean> {
  const removed = await ackDelivery(t.runtime, {
    userId,
    connectionId,
    body: JSON.stringify({ action: 'msg_data_ack', msg_id: msgId, session_id: sessionId, session_type: 1 }),
  });
  return removed.length > 0;
}

describe('msg_id counter', () => {
  it('gives 1..50 with no gap or repeat under 50 concurrent sends in both directions of one relation', async () => {
    const sends = Array.from({ length: 50 }, (_, i) => {
      const [from, to] = i % 2 === 0 ? ['alice', 'bob'] : ['bob', 'alice'];
      return acceptMessage(t.runtime, { userId: from, body: msgData({ to_session_id: to, msg_data: `m${i}` }) });
    });
    const ids = (await Promise.all(sends)).map((a) => a.message.msgId).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

    const stored = await t.items('Messages');
    expect(stored.map((m) => m['msg_id']).sort((a, b) => (a as number) - (b as number))).toEqual(ids);
    const [head] = await t.items('Conversations');
    expect(head).toMatchObject({ conversation_id: 's#alice#bob', last_msg_id: 50, sent_lo: 25, sent_hi: 25 });
  });

  it('keeps separate counters per relation', async () => {
    await send('alice', 'a1', { to_session_id: 'bob' });
    await send('alice', 'a1', { to_session_id: 'bob' });
    const toCarol = await send('alice', 'a1', { to_session_id: 'carol' });
    expect(toCarol.message.msgId).toBe(1);
  });
});

describe('message and session rows', () => {
  it('stores the message with server time and the token user as sender, and both session rows once', async () => {
    const first = await send('bob', 'b1', {
      to_session_id: 'alice',
      from_user_id: 'mallory',
      msg_data: 'héllo',
      client_msg_id: 'c-1',
      seq: 7,
    });
    await send('alice', 'a1', { to_session_id: 'bob', msg_data: 'back' });

    expect(first.seq).toBe(7);
    expect(first.message).toMatchObject({
      conversationId: 's#alice#bob',
      msgId: 1,
      fromUserId: 'bob',
      toSessionId: 'alice',
    });
    const messages = await t.items('Messages');
    expect(messages.find((m) => m['msg_id'] === 1)).toMatchObject({
      from_user_id: 'bob',
      to_session_id: 'alice',
      msg_type: 1,
      msg_data: 'héllo',
      client_msg_id: 'c-1',
      create_time: Math.floor(t.clock.now() / 1000),
      sent_lo: 0,
      sent_hi: 1,
    });
    const day = String(Math.floor(t.clock.now() / 86_400_000)).padStart(6, '0');
    const sessions = await t.items('Sessions');
    // Both session rows, and each user's index entry for the day (one each, written by the day's first message).
    expect(sessions.map((s) => [s['user_id'], s['session_key'], s['conversation_id']]).sort()).toEqual([
      ['alice', '1#bob', 's#alice#bob'],
      ['alice', `d#${day}#1#bob`, 's#alice#bob'],
      ['bob', '1#alice', 's#alice#bob'],
      ['bob', `d#${day}#1#alice`, 's#alice#bob'],
    ]);
    const [head] = await t.items('Conversations');
    expect(head).toMatchObject({
      last_msg_id: 2,
      sent_lo: 1,
      sent_hi: 1,
      sessions_created: true,
      indexed_day: Number(day),
      updated_time: Math.floor(t.clock.now() / 1000),
    });
  });
});

describe('pending deliveries', () => {
  beforeEach(async () => {
    await connect('alice', 'a1');
    await connect('alice', 'a2');
    await connect('bob', 'b1');
    await connect('bob', 'b2');
  });

  it('delivers to every connection of both users but the sending one, with a pending row each, removed by each ack', async () => {
    const { message, stats } = await send('alice', 'a1', { to_session_id: 'bob', msg_data: 'hi' });
    expect(stats).toEqual({ delivered: 3, gone: 0, deferred: 0, offline: 0, complete: true });
    expect(t.gateway.posts.map((p) => p.connectionId).sort()).toEqual(['a2', 'b1', 'b2']);
    expect(t.gateway.framesTo('b1')).toEqual([
      {
        type: 'msg_data',
        from_user_id: 'alice',
        to_session_id: 'bob',
        msg_id: 1,
        create_time: message.createTime,
        msg_type: 1,
        msg_data: 'hi',
      },
    ]);
    expect((await t.items('PendingDeliveries')).map((r) => r['connection_id']).sort()).toEqual(['a2', 'b1', 'b2']);

    expect(await ack('bob', 'b1', 1, 'alice')).toBe(true);
    // The sender's other device acks its own message with the peer as session_id (the other side of its view).
    expect(await ack('alice', 'a2', 1, 'bob')).toBe(true);
    expect((await t.items('PendingDeliveries')).map((r) => r['connection_id'])).toEqual(['b2']);
  });

  it("does not remove another connection's delivery, nor one of another conversation", async () => {
    await send('alice', 'a1', { to_session_id: 'bob' });
    expect(await ack('bob', 'b3', 1, 'alice')).toBe(false); // not b3's delivery
    expect(await ack('bob', 'b1', 1, 'carol')).toBe(false); // no such message with carol
    expect(await ack('bob', 'b1', 2, 'alice')).toBe(false); // no msg_id 2
    expect(await t.items('PendingDeliveries')).toHaveLength(3);
  });
});

describe('sweeper', () => {
  beforeEach(async () => {
    await connect('alice', 'a1');
    await connect('bob', 'b1');
  });

  it('redelivers an overdue delivery with the same frame, counts tries and gives up after the limit', async () => {
    await send('alice', 'a1', { to_session_id: 'bob', msg_data: 'are you there' });
    const firstFrame = t.gateway.framesTo('b1')[0] as MsgDataFrame;

    t.clock.advance(ACK_TIMEOUT_MS - 1);
    expect(await sweep(t.runtime)).toMatchObject({ due: 0, redelivered: 0 });

    t.clock.advance(1);
    expect(await sweep(t.runtime)).toMatchObject({ due: 1, redelivered: 1 });
    expect(t.gateway.framesTo('b1')).toEqual([firstFrame, firstFrame]);
    expect((await t.items('PendingDeliveries'))[0]).toMatchObject({
      attempts: 2,
      next_due_at: t.clock.now() + ACK_TIMEOUT_MS,
    });

    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ redelivered: 1 });
    t.clock.advance(ACK_TIMEOUT_MS);
    // Three deliveries made (MAX_DELIVERY_ATTEMPTS=3): the fourth sweep gives up and removes the row.
    expect(await sweep(t.runtime)).toMatchObject({ due: 1, redelivered: 0, gaveUp: 1 });
    expect(t.gateway.framesTo('b1')).toHaveLength(3);
    expect(await t.items('PendingDeliveries')).toEqual([]);
    expect(await t.items('Messages')).toHaveLength(1);
  });

  it('stops redelivering once acked', async () => {
    await send('alice', 'a1', { to_session_id: 'bob' });
    t.clock.advance(ACK_TIMEOUT_MS);
    await sweep(t.runtime);
    await ack('bob', 'b1', 1, 'alice');
    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ due: 0 });
    expect(t.gateway.framesTo('b1')).toHaveLength(2);
  });

  it('finds overdue rows across minute slots and leaves rows of other connections alone', async () => {
    await send('alice', 'a1', { to_session_id: 'bob' });
    t.clock.advance(61_000);
    await connect('bob', 'b2');
    await send('alice', 'a1', { to_session_id: 'bob' });
    t.clock.advance(ACK_TIMEOUT_MS);
    const stats = await sweep(t.runtime);
    expect(stats).toMatchObject({ due: 3, redelivered: 3 });
  });
});

describe('gone connections', () => {
  it('a 410 on delivery removes that connection and its pending rows, and loses no message', async () => {
    await connect('alice', 'a1');
    await connect('bob', 'b1');
    await connect('bob', 'b2');
    await send('alice', 'a1', { to_session_id: 'bob' });
    t.clock.advance(DEFAULTS.connectingGraceMs + 1);
    t.gateway.gone.add('b2');
    const second = await send('alice', 'a1', { to_session_id: 'bob' });

    expect(second.stats).toEqual({ delivered: 1, gone: 1, deferred: 0, offline: 0, complete: true });
    expect((await t.items('Connections')).map((c) => c['connection_id']).sort()).toEqual(['a1', 'b1']);
    // b2's pending delivery of message 1 went with it; b1 keeps both of its own.
    expect((await t.items('PendingDeliveries')).map((r) => `${r['connection_id']}:${r['msg_id']}`).sort()).toEqual([
      'b1:1',
      'b1:2',
    ]);
    expect(await t.items('Messages')).toHaveLength(2);
  });

  it('a 410 from a connection still opening (within the grace after $connect) keeps it, and the sweeper delivers later', async () => {
    await connect('alice', 'a1');
    await connect('bob', 'b1');
    t.gateway.gone.add('b1'); // API Gateway answers 410 until the upgrade completes
    const { stats } = await send('alice', 'a1', { to_session_id: 'bob' });
    expect(stats).toMatchObject({ delivered: 0, gone: 1 });
    expect((await t.items('Connections')).map((c) => c['connection_id']).sort()).toEqual(['a1', 'b1']);
    expect(await t.items('PendingDeliveries')).toHaveLength(1);
    t.gateway.gone.delete('b1');
    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ redelivered: 1 });
    expect(t.gateway.framesTo('b1')).toHaveLength(1);
  });

  it('a 410 during a sweep removes the connection; throttled posts stay pending', async () => {
    await connect('alice', 'a1');
    await connect('bob', 'b1');
    await connect('bob', 'b2');
    await send('alice', 'a1', { to_session_id: 'bob' });
    t.gateway.gone.add('b1');
    t.gateway.unavailable.add('b2');
    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ due: 2, gone: 1, deferred: 1, redelivered: 0 });
    expect((await t.items('Connections')).map((c) => c['connection_id']).sort()).toEqual(['a1', 'b2']);
    expect((await t.items('PendingDeliveries')).map((r) => [r['connection_id'], r['attempts']])).toEqual([['b2', 1]]);
  });

  it('a post that fails after retries keeps the delivery pending for the sweeper', async () => {
    await connect('alice', 'a1');
    await connect('bob', 'b1');
    t.gateway.unavailable.add('b1');
    const { stats } = await send('alice', 'a1', { to_session_id: 'bob' });
    expect(stats).toEqual({ delivered: 0, gone: 0, deferred: 1, offline: 0, complete: true });
    t.gateway.unavailable.delete('b1');
    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ redelivered: 1 });
    expect(t.gateway.framesTo('b1')).toHaveLength(1);
  });
});

describe('refused frames', () => {
  const refusals: [string, string | undefined, string][] = [
    ['not JSON', 'hello', 'bad_request'],
    ['no body', undefined, 'bad_request'],
    ['an array', '[1]', 'bad_request'],
    ['missing to_session_id', JSON.stringify({ action: 'msg_data', msg_type: 1, msg_data: 'x' }), 'bad_request'],
    ['mistyped msg_data', msgData({ to_session_id: 'bob', msg_data: 5 }), 'bad_request'],
    ['invalid to_session_id', msgData({ to_session_id: 'b ob' }), 'bad_request'],
    ['unknown msg_type', msgData({ to_session_id: 'bob', msg_type: 3 }), 'bad_request'],
    ['fractional seq', msgData({ to_session_id: 'bob', seq: 1.5 }), 'bad_request'],
    ['too long client_msg_id', msgData({ to_session_id: 'bob', client_msg_id: 'x'.repeat(65) }), 'bad_request'],
    ['empty msg_data', msgData({ to_session_id: 'bob', msg_data: '' }), 'empty_message'],
    ['4097 bytes of UTF-8', msgData({ to_session_id: 'bob', msg_data: `${'é'.repeat(2048)}x` }), 'too_large'],
    ['to oneself', msgData({ to_session_id: 'alice' }), 'self_message'],
    ['to a group one is not in', msgData({ to_session_id: 'g:AAAAAAAAAAAAAAAAAAAAAA', msg_type: 17 }), 'not_member'],
    ['group msg_type to a user id', msgData({ to_session_id: 'g1', msg_type: 17 }), 'not_member'],
    ['single chat to a group id', msgData({ to_session_id: 'g:AAAAAAAAAAAAAAAAAAAAAA' }), 'bad_request'],
    ['a lone surrogate in client_msg_id', msgData({ to_session_id: 'bob', client_msg_id: 'id-\ud800' }), 'bad_request'],
  ];

  it.each(refusals)('%s is refused with its code and stores nothing', async (_name, body, code) => {
    await expect(acceptMessage(t.runtime, { userId: 'alice', body })).rejects.toMatchObject({
      constructor: FrameError,
      code,
    });
    for (const table of ['Messages', 'Conversations', 'Sessions', 'PendingDeliveries', 'RateLimits'] as const) {
      expect(await t.items(table)).toEqual([]);
    }
  });

  it('accepts exactly 4096 bytes', async () => {
    const accepted = await acceptMessage(t.runtime, {
      userId: 'alice',
      body: msgData({ to_session_id: 'bob', msg_data: 'é'.repeat(2048) }),
    });
    expect(accepted.message.msgId).toBe(1);
  });

  it('rate-limits the 21st message of one user in one second, and only that user; the next second is a new window', async () => {
    t = await createTestRuntime();
    const results = await Promise.allSettled(
      Array.from({ length: 21 }, () =>
        acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob' }) }),
      ),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(FrameError);
    expect((refused[0] as PromiseRejectedResult).reason.code).toBe('rate_limited');
    expect(await t.items('Messages')).toHaveLength(20);

    // The same user is over the limit whatever the conversation; another user is not; the next second is a new window.
    await expect(
      acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'carol' }) }),
    ).rejects.toMatchObject({ code: 'rate_limited' });
    expect(
      (await acceptMessage(t.runtime, { userId: 'carol', body: msgData({ to_session_id: 'bob' }) })).message.msgId,
    ).toBe(1);
    t.clock.advance(1000);
    expect(
      (await acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob' }) })).message.msgId,
    ).toBe(21);
  });

  it('counts a user’s msg_data from all its connections together: 12 from one and 12 from another get 20 acks', async () => {
    t = await createTestRuntime(); // RATE_LIMIT_PER_SECOND 20; the test clock stands still: one window throughout
    await Promise.all([connect('alice', 'a1'), connect('alice', 'a2'), connect('bob', 'b1')]);
    const handler = createSendHandler(t.runtime);
    const sendFrom = (userId: string, connectionId: string, seq: number, to: string) =>
      handler({
        body: msgData({ seq, to_session_id: to, msg_data: `${connectionId} ${seq}` }),
        requestContext: { connectionId, routeKey: 'msg_data', eventType: 'MESSAGE', authorizer: { userId } },
      } as unknown as WebSocketEvent);
    /** What the connection was answered, in order: the acks and errors for its own frames, not others' deliveries. */
    const answers = (connectionId: string) =>
      t.gateway
        .framesTo(connectionId)
        .flatMap((f) => (f.type === 'msg_data_ack' ? ['ack'] : f.type === 'error' ? [f.code] : []));

    for (let seq = 1; seq <= 12; seq++) await sendFrom('alice', 'a1', seq, 'bob');
    for (let seq = 1; seq <= 12; seq++) await sendFrom('alice', 'a2', seq, 'bob');
    expect(answers('a1')).toEqual(Array(12).fill('ack'));
    expect(answers('a2')).toEqual([...Array(8).fill('ack'), ...Array(4).fill('rate_limited')]);
    expect(await t.items('Messages')).toHaveLength(20);

    // bob's budget is his own; alice's next window opens for either connection.
    await sendFrom('bob', 'b1', 1, 'alice');
    expect(answers('b1')).toEqual(['ack']);
    t.clock.advance(1000);
    await sendFrom('alice', 'a2', 13, 'bob');
    expect(answers('a2').at(-1)).toBe('ack');
  });
});
