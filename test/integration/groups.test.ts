/** Group chat on DynamoDB Local: routes, membership, group msg_ids, fan-out, unread, removal. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MsgDataFrame, ServerFrame } from '../../core/domain/frames.js';
import { CapacityMeter } from '../../core/store/consumed-capacity.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { sweep } from '../../core/usecases/sweep.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { createTestRuntime, msgData, sendAndDeliver, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
const meter = new CapacityMeter();

beforeEach(async () => {
  t = await createTestRuntime({ MAX_GROUP_MEMBERS: '5', ACK_TIMEOUT_MS: '15000' }, { capacityMeter: meter });
  for (const [user, conn] of [
    ['alice', 'a1'],
    ['alice', 'a2'],
    ['bob', 'b1'],
    ['carol', 'c1'],
    ['dave', 'd1'],
  ] as const) {
    await registerConnection(t.runtime, { userId: user, connectionId: conn });
  }
});

async function call(handler: 'groups' | 'sync', userId: string, connectionId: string, frame: Record<string, unknown>) {
  const fn = handler === 'groups' ? createGroupsHandler(t.runtime) : createSyncHandler(t.runtime);
  const before = t.gateway.framesTo(connectionId).length;
  await fn({
    body: JSON.stringify(frame),
    requestContext: { connectionId, routeKey: String(frame['action']), eventType: 'MESSAGE', authorizer: { userId } },
  } as unknown as WebSocketEvent);
  const replies = t.gateway.framesTo(connectionId).slice(before);
  return replies.at(-1) as ServerFrame & Record<string, unknown>;
}

async function createGroup(owner = 'alice', members = ['bob', 'carol']): Promise<string> {
  const reply = await call('groups', owner, `${owner[0]}1`, {
    action: 'group_create',
    seq: 1,
    group_name: 'team',
    member_ids: members,
  });
  expect(reply).toMatchObject({
    type: 'group_create',
    seq: 1,
    group_id: expect.stringMatching(/^g:[A-Za-z0-9_-]{22}$/),
  });
  return reply['group_id'] as string;
}

function sendToGroup(userId: string, connectionId: string, groupId: string, text = 'hi') {
  return sendAndDeliver(t.runtime, {
    userId,
    connectionId,
    body: msgData({ to_session_id: groupId, msg_type: 17, msg_data: text }),
  });
}

describe('group routes', () => {
  it('creates a group with the creator as owner and member, tells the members, lists and describes it', async () => {
    const groupId = await createGroup();
    expect(t.gateway.framesTo('b1')).toEqual([
      {
        type: 'group_change_member_notify',
        group_id: groupId,
        change_type: 'add',
        user_ids: ['alice', 'bob', 'carol'],
        cur_user_id_list: ['alice', 'bob', 'carol'],
        member_count: 3,
      },
    ]);
    expect(await call('groups', 'bob', 'b1', { action: 'group_list', seq: 2 })).toEqual({
      type: 'group_list',
      seq: 2,
      group_list: [{ group_id: groupId, group_name: 'team' }],
    });
    expect(await call('groups', 'carol', 'c1', { action: 'group_info', group_id: groupId })).toMatchObject({
      group_id: groupId,
      group_name: 'team',
      owner_id: 'alice',
      cur_user_id_list: expect.arrayContaining(['alice', 'bob', 'carol']),
    });
    expect(await call('groups', 'dave', 'd1', { action: 'group_info', seq: 3, group_id: groupId })).toMatchObject({
      type: 'error',
      seq: 3,
      code: 'not_member',
    });
    expect(await call('groups', 'dave', 'd1', { action: 'group_list' })).toMatchObject({ group_list: [] });
  });

  it('lets only the owner add and remove, a member leave, never the owner leave, and keeps the member limit', async () => {
    const groupId = await createGroup();
    const change = (user: string, conn: string, change_type: string, member_ids: string[]) =>
      call('groups', user, conn, { action: 'group_change_member', seq: 4, group_id: groupId, change_type, member_ids });

    expect(await change('bob', 'b1', 'add', ['dave'])).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await change('dave', 'd1', 'add', ['dave'])).toMatchObject({ type: 'error', code: 'not_member' });
    expect(await change('alice', 'a1', 'add', ['dave', 'erin', 'frank'])).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
      message: expect.stringContaining('at most 5'),
    });
    expect(await change('alice', 'a1', 'add', ['dave'])).toMatchObject({
      type: 'group_change_member',
      group_id: groupId,
      cur_user_id_list: expect.arrayContaining(['dave']),
    });
    expect(await change('bob', 'b1', 'del', ['carol'])).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await change('alice', 'a1', 'del', ['alice'])).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await change('bob', 'b1', 'del', ['bob'])).toMatchObject({
      type: 'group_change_member',
      cur_user_id_list: expect.not.arrayContaining(['bob']),
    });
    expect(t.gateway.framesTo('c1').at(-1)).toMatchObject({
      type: 'group_change_member_notify',
      change_type: 'del',
      user_ids: ['bob'],
    });
    expect(await call('groups', 'bob', 'b1', { action: 'group_list' })).toMatchObject({ group_list: [] });
  });
  it('keeps the member limit under concurrent adds: two adds that each fit but not together leave at most the limit', async () => {
    const groupId = await createGroup();
    const add = (conn: string, member_ids: string[]) =>
      call('groups', 'alice', conn, {
        action: 'group_change_member',
        seq: 5,
        group_id: groupId,
        change_type: 'add',
        member_ids,
      });
    // 3 members, limit 5: each add alone fits, both together would not; two such adds racing must not both pass.
    const replies = await Promise.all([add('a1', ['dave', 'erin']), add('a2', ['frank', 'gina'])]);
    expect(replies.map((r) => r.type).sort()).toEqual(['error', 'group_change_member']);
    expect(replies.find((r) => r.type === 'error')).toMatchObject({ code: 'limit_exceeded' });
    const info = await call('groups', 'alice', 'a1', { action: 'group_info', group_id: groupId });
    expect(info['cur_user_id_list']).toHaveLength(5);
    expect(info['member_count'] ?? (info['cur_user_id_list'] as string[]).length).toBe(5);
  });
});

describe('group messages', () => {
  it('numbers messages per group, delivers to every connection of every member but the sending one, and acks per connection', async () => {
    const groupId = await createGroup();
    const first = await sendToGroup('alice', 'a1', groupId, 'one');
    const second = await sendToGroup('bob', 'b1', groupId, 'two');
    expect([first.message.msgId, second.message.msgId]).toEqual([1, 2]);
    expect(first.sessionType).toBe(2);
    expect(first.stats).toEqual({ delivered: 3, gone: 0, deferred: 0, offline: 0, complete: true }); // a2, b1, c1 (not dave: not a member)
    expect(t.gateway.framesTo('d1').filter((f) => f.type === 'msg_data')).toEqual([]);
    const frame = t.gateway.framesTo('c1').find((f) => f.type === 'msg_data') as MsgDataFrame;
    expect(frame).toMatchObject({
      from_user_id: 'alice',
      to_session_id: groupId,
      msg_id: 1,
      msg_type: 17,
      msg_data: 'one',
    });

    const ack = async (user: string, conn: string, msgId: number) =>
      (
        await ackDelivery(t.runtime, {
          userId: user,
          connectionId: conn,
          body: JSON.stringify({ action: 'msg_data_ack', msg_id: msgId, session_id: groupId, session_type: 2 }),
        })
      ).length > 0;
    expect(await ack('carol', 'c1', 1)).toBe(true);
    expect(await ack('carol', 'c1', 1)).toBe(false);
    t.clock.advance(15_000);
    const stats = await sweep(t.runtime);
    // Unacked: a2 and b1 of message 1, a1, a2 and c1 of message 2.
    expect(stats).toMatchObject({ due: 5, redelivered: 5 });
  });

  it('refuses a non-member and a removed member, who then gets no later message and cannot read history', async () => {
    const groupId = await createGroup();
    await expect(sendToGroup('dave', 'd1', groupId)).rejects.toMatchObject({ code: 'not_member' });
    await sendToGroup('alice', 'a1', groupId, 'before');
    await call('groups', 'alice', 'a1', {
      action: 'group_change_member',
      group_id: groupId,
      change_type: 'del',
      member_ids: ['carol'],
    });
    const after = await sendToGroup('alice', 'a1', groupId, 'after');
    expect(
      t.gateway
        .framesTo('c1')
        .filter((f) => f.type === 'msg_data')
        .map((f) => (f as MsgDataFrame).msg_id),
    ).toEqual([1]);
    expect(after.stats.delivered).toBe(2); // a2, b1
    expect(
      await call('sync', 'carol', 'c1', {
        action: 'msg_list',
        seq: 5,
        session_id: groupId,
        session_type: 2,
        msg_id_begin: 0,
        msg_cnt: 10,
      }),
    ).toMatchObject({ type: 'error', seq: 5, code: 'not_member' });
    expect(
      await call('sync', 'bob', 'b1', {
        action: 'msg_list',
        session_id: groupId,
        session_type: 2,
        msg_id_begin: 0,
        msg_cnt: 10,
      }),
    ).toMatchObject({
      msg_list: [
        expect.objectContaining({ msg_id: 2, msg_data: 'after' }),
        expect.objectContaining({ msg_id: 1, msg_data: 'before' }),
      ],
    });
  });

  it('shows group sessions in recent_sessions and unread_cnt: counter − member mark, own messages read', async () => {
    const groupId = await createGroup();
    await sendToGroup('alice', 'a1', groupId, 'one');
    await sendToGroup('alice', 'a1', groupId, 'two');
    await sendToGroup('bob', 'b1', groupId, 'three');
    expect(await call('sync', 'carol', 'c1', { action: 'unread_cnt' })).toMatchObject({
      total_cnt: 3,
      unreadinfo_list: [
        expect.objectContaining({ session_id: groupId, session_type: 2, unread_cnt: 3, latest_msg_data: 'three' }),
      ],
    });
    expect(await call('sync', 'alice', 'a1', { action: 'unread_cnt' })).toMatchObject({ total_cnt: 1 }); // bob's
    expect(await call('sync', 'bob', 'b1', { action: 'unread_cnt' })).toMatchObject({ total_cnt: 0 }); // read up to its own
    await call('sync', 'carol', 'c1', { action: 'msg_read_ack', session_id: groupId, session_type: 2, msg_id: 2 });
    expect(await call('sync', 'carol', 'c1', { action: 'unread_cnt' })).toMatchObject({ total_cnt: 1 });
    const recent = await call('sync', 'carol', 'c1', { action: 'recent_sessions', latest_update_time: 0 });
    expect(recent['contact_session_list']).toEqual([
      expect.objectContaining({ session_id: groupId, session_type: 2, latest_msg_id: 3, unread_cnt: 1 }),
    ]);

    // A member added later starts with nothing unread.
    await call('groups', 'alice', 'a1', {
      action: 'group_change_member',
      group_id: groupId,
      change_type: 'add',
      member_ids: ['dave'],
    });
    expect(await call('sync', 'dave', 'd1', { action: 'unread_cnt' })).toMatchObject({ total_cnt: 0 });
  });

  it('looks up the connections of many members in a few batched reads, not a Query per member', async () => {
    t = await createTestRuntime({ MAX_GROUP_MEMBERS: '500' }, { capacityMeter: meter });
    const members = Array.from({ length: 250 }, (_, i) => `m${i}`);
    for (const m of members) await registerConnection(t.runtime, { userId: m, connectionId: `${m}-c` });
    const reply = await call('groups', 'm0', 'm0-c', {
      action: 'group_create',
      group_name: 'big',
      member_ids: members,
    });
    const groupId = reply['group_id'] as string;
    meter.reset();
    const { stats } = await sendToGroup('m0', 'm0-c', groupId);
    expect(stats.delivered).toBe(249);
    const reads = meter.records.filter((r) =>
      ['QueryCommand', 'BatchGetItemCommand', 'GetItemCommand'].includes(r.command),
    );
    // Membership and member count GetItems, members Query, the sender's reverse block index Query (one for all 250
    // members), 3 presence BatchGetItems (the day's index was written by group_create's join).
    expect(reads.map((r) => `${r.command} ${r.table.replace(/^t[0-9a-f]+_/, '')}`).sort()).toEqual([
      'BatchGetItemCommand Presence',
      'BatchGetItemCommand Presence',
      'BatchGetItemCommand Presence',
      'GetItemCommand GroupMembers',
      'GetItemCommand Groups',
      'QueryCommand Blocks',
      'QueryCommand GroupMembers',
    ]);
    // A strongly consistent Query: 1 read unit on AWS for up to 4 KB of blockers (DynamoDB Local counts 0 for none).
    expect(reads.find((r) => r.table.endsWith('Blocks'))!.readUnits).toBeLessThanOrEqual(1);
  }, 180_000); // 250 connections and a 250-member send: a minute or more on two loaded cores
});
