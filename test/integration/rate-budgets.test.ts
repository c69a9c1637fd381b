/**
 * The per-user budgets beside the msg_data rate, on DynamoDB Local (docs/protocol.md "Limits"):
 * - member deliveries: a msg_data takes one from the budget per receiving member, so a message to a large group costs
 *   in proportion to its receivers; past the budget `rate_limited`, refused before numbering (no msg_id taken);
 * - reads: the requests that read (history, sessions, groups, attachment URLs) share a per-user budget a second.
 * The manual clock stands still, so every frame of a test lands in one window until the test advances it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { FrameError } from '../../core/errors.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { CLIENT_ACTIONS, READ_ACTIONS, WRITE_ACTIONS } from '../../protocol/frames.js';
import { LIMIT_DEFAULTS } from '../../protocol/limits.js';
import { ROUTE_FUNCTIONS, type RouteFunctionId } from '../../lambdas/route-handlers.js';
import { createGroupAsAlice, createTestRuntime, msgData, requestAs, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;

const send = (userId: string, fields: Record<string, unknown>) =>
  acceptMessage(t.runtime, { userId, body: msgData(fields) });

describe('member deliveries per user and second', () => {
  beforeEach(async () => {
    t = await createTestRuntime({ MEMBER_DELIVERIES_PER_SECOND: '10', MAX_GROUP_MEMBERS: '10' });
  });

  it('a group message takes one per receiving member; past the budget rate_limited, with no msg_id taken and nothing stored', async () => {
    const groupId = await createGroupAsAlice(t, ['b1', 'b2', 'b3', 'b4', 'b5']); // 5 receivers a message
    expect((await send('alice', { to_session_id: groupId, msg_type: 17 })).message.msgId).toBe(1);
    expect((await send('alice', { to_session_id: groupId, msg_type: 17 })).message.msgId).toBe(2);
    await expect(send('alice', { to_session_id: groupId, msg_type: 17, client_msg_id: 'third' })).rejects.toMatchObject(
      { constructor: FrameError, code: 'rate_limited' },
    );
    // A single-chat message has one receiver: it too is over alice's budget in this second; bob's budget is his own.
    await expect(send('alice', { to_session_id: 'bob' })).rejects.toMatchObject({ code: 'rate_limited' });
    expect((await send('b1', { to_session_id: groupId, msg_type: 17 })).message.msgId).toBe(3);
    expect(await t.items('SentMessages')).toEqual([]);
    expect((await t.items('Messages')).map((m) => m['msg_id'])).toEqual([1, 2, 3]);

    // The next second is a new window; the refused message took no msg_id.
    t.clock.advance(1000);
    expect((await send('alice', { to_session_id: groupId, msg_type: 17, client_msg_id: 'third' })).message.msgId).toBe(
      4,
    );
  });

  it('is never set below a full group: a configuration that would make full groups unreachable fails at load', () => {
    expect(() => loadConfig({ MEMBER_DELIVERIES_PER_SECOND: '98', MAX_GROUP_MEMBERS: '100' })).toThrow(ConfigError);
    expect(loadConfig({ MEMBER_DELIVERIES_PER_SECOND: '99', MAX_GROUP_MEMBERS: '100' }).memberDeliveriesPerSecond).toBe(
      99,
    );
  });

  it('counts the members as the group has them when the message is sent', async () => {
    const groupId = await createGroupAsAlice(t, ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']); // 9 receivers
    expect((await send('alice', { to_session_id: groupId, msg_type: 17 })).message.msgId).toBe(1);
    await expect(send('alice', { to_session_id: groupId, msg_type: 17 })).rejects.toMatchObject({
      code: 'rate_limited',
    });
    expect((await send('alice', { to_session_id: 'bob' })).message.msgId).toBe(1); // the 10th delivery of the second
  });
});

describe('reads per user and second', () => {
  beforeEach(async () => {
    t = await createTestRuntime();
  });

  const request = (fn: RouteFunctionId, userId: string, frame: Record<string, unknown>) =>
    requestAs(ROUTE_FUNCTIONS[fn].create(t.runtime), userId, frame);
  const replies = (userId: string) =>
    t.gateway
      .framesTo(`${userId}-c`)
      .map((f) => (f.type === 'error' ? (f as unknown as { code: string }).code : f.type));

  it(`answers ${LIMIT_DEFAULTS.readRateLimitPerSecond} reads of one user a second, across the read routes, then rate_limited; heartbeats are not counted`, async () => {
    await send('alice', { to_session_id: 'bob' });
    const reads: [RouteFunctionId, Record<string, unknown>][] = [
      ['sync', { action: 'msg_list', session_id: 'bob', session_type: 1, msg_id_begin: 0, msg_cnt: 10 }],
      ['sync', { action: 'latest_msg_id', session_id: 'bob', session_type: 1 }],
      ['sync', { action: 'msg_by_ids', session_id: 'bob', session_type: 1, msg_ids: [1] }],
      ['sync', { action: 'unread_cnt' }],
      ['sync', { action: 'recent_sessions', latest_update_time: 0 }],
      ['groups', { action: 'group_list' }],
    ];
    const budget = LIMIT_DEFAULTS.readRateLimitPerSecond;
    for (let i = 0; i < budget; i++) await request(...pick(reads, i, 'alice'));
    await request('default', 'alice', { action: 'heartbeat' });
    for (const [fn, frame] of reads) await request(fn, 'alice', frame);
    await request('attachments', 'alice', {
      action: 'attachment_url',
      session_id: 'bob',
      session_type: 1,
      key: `uploads/616c696365/${'A'.repeat(22)}`,
    });
    const answered = replies('alice');
    expect(answered.slice(0, budget).every((r) => r !== 'rate_limited')).toBe(true);
    expect(answered.slice(budget)).toEqual(['heartbeat', ...reads.map(() => 'rate_limited'), 'rate_limited']);

    // Another user's budget is untouched; the next second is a new window.
    await request('sync', 'bob', { ...reads[0]![1], session_id: 'alice' });
    expect(replies('bob')).toEqual(['msg_list']);
    t.clock.advance(1000);
    await request('sync', 'alice', reads[0]![1]);
    expect(replies('alice').at(-1)).toBe('msg_list');
  });
});

describe('budgets by action', () => {
  it('every client action but msg_data, msg_data_ack, heartbeat, typing and msg_edit counts against the write or the read budget, never both', () => {
    const budgeted: readonly string[] = [...WRITE_ACTIONS, ...READ_ACTIONS];
    expect(new Set(budgeted).size).toBe(budgeted.length);
    // typing: its throttle and its own receivers budget (docs/protocol.md "Typing"); msg_edit: the msg_data budget.
    expect(CLIENT_ACTIONS.filter((a) => !budgeted.includes(a))).toEqual([
      'msg_data',
      'msg_data_ack',
      'heartbeat',
      'typing',
      'msg_edit',
    ]);
  });
});

function pick(
  reads: readonly [RouteFunctionId, Record<string, unknown>][],
  i: number,
  userId: string,
): [RouteFunctionId, string, Record<string, unknown>] {
  const [fn, frame] = reads[i % reads.length]!;
  return [fn, userId, frame];
}
