import { afterEach, describe, expect, it } from 'vitest';
import { msgData, startTestStack, type TestStack } from './harness.js';

let t: TestStack | undefined;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('error frames of the contract, with seq echoed and the connection still usable', () => {
  it('answers every refused frame with its code; nothing is stored or delivered for them', async () => {
    t = await startTestStack({ maxMsgBytes: 16 });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');

    const cases: [string | Record<string, unknown>, string, number | undefined][] = [
      ['this is not json', 'bad_request', undefined],
      ['[1,2,3]', 'bad_request', undefined],
      [{ action: 'msg_data', seq: 1, msg_type: 1, msg_data: 'no receiver' }, 'bad_request', 1],
      [{ action: 'msg_data', seq: 2, to_session_id: 'bob', msg_type: 3, msg_data: 'bad type' }, 'bad_request', 2],
      [{ action: 'msg_data', seq: 3, to_session_id: 'bob', msg_type: 1, msg_data: 42 }, 'bad_request', 3],
      [{ action: 'msg_data_ack', seq: 4, msg_id: 'one', session_id: 'bob', session_type: 1 }, 'bad_request', 4],
      [{ action: 'no_such_action', seq: 5 }, 'unknown_action', 5],
      [{ seq: 6 }, 'bad_request', 6],
      [msgData('bob', 7, ''), 'empty_message', 7],
      [msgData('alice', 8, 'me to me'), 'self_message', 8],
      // 9 characters, 18 bytes of UTF-8: over a 16-byte limit.
      [msgData('bob', 9, 'ééééééééé'), 'too_large', 9],
      [{ ...msgData('team-1', 10, 'hi all'), msg_type: 17 }, 'not_member', 10],
      [{ ...msgData('team-1', 11, 'audio'), msg_type: 18 }, 'not_member', 11],
    ];
    for (const [frame, code, seq] of cases) {
      alice.client.send(frame);
      const error = await alice.client.next((f) => f['type'] === 'error');
      expect(error, JSON.stringify(frame)).toEqual({
        type: 'error',
        code,
        message: expect.any(String),
        ...(seq === undefined ? {} : { seq }),
      });
    }

    // Still usable, and the first stored message is msg_id 1: none of the refused frames took a number.
    alice.client.send(msgData('bob', 12, '16 bytes exactly'));
    expect(await alice.client.next((f) => f['type'] === 'msg_data_ack')).toMatchObject({ seq: 12, msg_id: 1 });
    expect(await bob.client.next()).toMatchObject({ type: 'msg_data', msg_id: 1 });
    await t.barrier(bob);
    expect(bob.client.unread()).toEqual([]);
  });

  it('rate_limited: a burst over the per-user limit is refused frame by frame, with its seq', async () => {
    t = await startTestStack({ env: { RATE_LIMIT_PER_SECOND: '2' } });
    const alice = await t.connect('alice');
    const burst = 10;
    for (let seq = 1; seq <= burst; seq++) alice.client.send(msgData('bob', seq, `m${seq}`));
    const replies = [];
    for (let i = 0; i < burst; i++)
      replies.push(await alice.client.next((f) => f['type'] === 'msg_data_ack' || f['type'] === 'error'));
    const limited = replies.filter((f) => f['type'] === 'error');
    const acked = replies.filter((f) => f['type'] === 'msg_data_ack');
    expect(limited.length).toBeGreaterThan(0);
    for (const error of limited) expect(error).toMatchObject({ code: 'rate_limited', seq: expect.any(Number) });
    // Every seq answered exactly once, and only the accepted frames took msg_ids: 1..n with no gaps.
    expect(replies.map((f) => f['seq']).sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: burst }, (_, i) => i + 1),
    );
    expect(acked.map((f) => f['msg_id']).sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: acked.length }, (_, i) => i + 1),
    );

    // Another user has a budget of its own.
    const carol = await t.connect('carol');
    carol.client.send(msgData('bob', 99, 'from another user'));
    expect(await carol.client.next((f) => f['type'] === 'msg_data_ack' || f['type'] === 'error')).toMatchObject({
      type: 'msg_data_ack',
      seq: 99,
    });
  });
});
