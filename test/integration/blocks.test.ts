/**
 * Blocks on DynamoDB Local (docs/protocol.md "Block"): the requests (idempotent, the cap, the write budget, paging,
 * oneself) and every path a block must hold on — one-to-one sends both ways (refused, nothing stored), redelivery by
 * the sweeper, the push hook, read receipts both ways — and the group view: delivered whole, flagged `blocked_sender`
 * live, redelivered and in msg_list / msg_by_ids for the blocker only, never pushed to the blocker.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { registerConnection } from '../../core/usecases/connections.js';
import { sweep } from '../../core/usecases/sweep.js';
import { createBlocksHandler } from '../../lambdas/blocks/handler.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { createSendHandler } from '../../lambdas/send/handler.js';
import {
  createGroupAsAlice,
  createTestRuntime,
  msgData,
  requestAs,
  sendAndDeliver,
  type TestRuntime,
} from '../support/runtime.js';

type Frame = Record<string, unknown> & { type: string };
const ACK_TIMEOUT_MS = 15_000;
let t: TestRuntime;

beforeEach(async () => {
  t = await createTestRuntime({ ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), MAX_BLOCKS_PER_USER: '3' });
  for (const user of ['alice', 'mallory', 'bob'])
    await registerConnection(t.runtime, { userId: user, connectionId: `${user}-c` });
});

/** A request as `user` on its connection `<user>-c`; the reply (or error) it got. */
async function ask(handler: 'blocks' | 'sync' | 'send', user: string, frame: Record<string, unknown>) {
  const create = { blocks: createBlocksHandler, sync: createSyncHandler, send: createSendHandler }[handler];
  await requestAs(create(t.runtime), user, frame);
  return t.gateway.framesTo(`${user}-c`).at(-1) as Frame;
}

const block = (user: string, other: string) => ask('blocks', user, { action: 'user_block', seq: 1, user_id: other });
const unblock = (user: string, other: string) =>
  ask('blocks', user, { action: 'user_unblock', seq: 2, user_id: other });
const sendOne = (from: string, to: string, fields: Record<string, unknown> = {}) =>
  ask('send', from, { action: 'msg_data', seq: 9, to_session_id: to, msg_type: 1, msg_data: 'hi', ...fields });
const msgFrames = (user: string) => t.gateway.framesTo(`${user}-c`).filter((f) => f.type === 'msg_data') as Frame[];

describe('user_block, user_unblock, block_list', () => {
  it('blocks once however often it is asked, lists, and unblocks', async () => {
    expect(await block('alice', 'mallory')).toEqual({ type: 'user_block', seq: 1, user_id: 'mallory' });
    expect(await block('alice', 'mallory')).toEqual({ type: 'user_block', seq: 1, user_id: 'mallory' });
    const rows = await t.items('Blocks');
    expect(rows.filter((r) => r['entry'] === 'out#mallory')).toHaveLength(1);
    expect(rows.find((r) => r['entry'] === 'count')?.['n']).toBe(1);
    expect(await ask('blocks', 'alice', { action: 'block_list' })).toEqual({
      type: 'block_list',
      user_ids: ['mallory'],
    });

    expect(await unblock('alice', 'mallory')).toEqual({ type: 'user_unblock', seq: 2, user_id: 'mallory' });
    expect(await unblock('alice', 'mallory')).toEqual({ type: 'user_unblock', seq: 2, user_id: 'mallory' });
    expect(await ask('blocks', 'alice', { action: 'block_list' })).toEqual({ type: 'block_list', user_ids: [] });
    expect((await t.items('Blocks')).map((r) => [r['entry'], r['n']])).toEqual([['count', 0]]);
  });

  it('refuses blocking oneself (not_allowed) and a malformed user id (bad_request), storing nothing', async () => {
    expect(await block('alice', 'alice')).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await block('alice', 'g:AAAAAAAAAAAAAAAAAAAAAA')).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await t.items('Blocks')).toEqual([]);
  });

  it('caps the blocks of a user (limit_exceeded, nothing changed); blocking one already blocked at the cap is fine', async () => {
    for (const other of ['u1', 'u2', 'u3']) expect(await block('alice', other)).toMatchObject({ type: 'user_block' });
    expect(await block('alice', 'u4')).toMatchObject({ type: 'error', code: 'limit_exceeded' });
    expect(await block('alice', 'u2')).toMatchObject({ type: 'user_block' });
    const rows = await t.items('Blocks');
    expect(rows.filter((r) => r['user_id'] === 'u4')).toEqual([]);
    expect(rows.find((r) => r['entry'] === 'count')?.['n']).toBe(3);
    await unblock('alice', 'u1');
    expect(await block('alice', 'u4')).toMatchObject({ type: 'user_block' });
  });

  it('takes from the write budget', async () => {
    const tight = await createTestRuntime({ WRITE_RATE_LIMIT_PER_SECOND: '1' });
    const handler = createBlocksHandler(tight.runtime);
    await requestAs(handler, 'alice', { action: 'user_block', user_id: 'u1' });
    await requestAs(handler, 'alice', { action: 'user_block', user_id: 'u2' });
    expect((tight.gateway.framesTo('alice-c') as Frame[]).map((f) => f['code'] ?? f.type)).toEqual([
      'user_block',
      'rate_limited',
    ]);
  });

  it('pages block_list in user id order; a token of another action is bad_request', async () => {
    for (const other of ['u3', 'u1', 'u2']) await block('alice', other);
    const first = await t.runtime.blocks.list('alice', undefined, 2);
    expect(first).toEqual({ userIds: ['u1', 'u2'], more: true });
    expect(await t.runtime.blocks.list('alice', 'u2', 2)).toEqual({ userIds: ['u3'], more: false });
    expect(await ask('blocks', 'alice', { action: 'block_list', page_token: 'bm9wZQ' })).toMatchObject({
      code: 'bad_request',
    });
  });
});

describe('one-to-one after a block', () => {
  it('refuses both directions with not_allowed and stores nothing; unblocking lets new messages through', async () => {
    await sendOne('mallory', 'alice');
    await block('alice', 'mallory');
    const before = await t.items('Messages');

    expect(await sendOne('mallory', 'alice')).toMatchObject({ type: 'error', seq: 9, code: 'not_allowed' });
    expect(await sendOne('mallory', 'alice', { client_msg_id: 'm-1' })).toMatchObject({ code: 'not_allowed' });
    expect(await sendOne('alice', 'mallory')).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await t.items('Messages')).toEqual(before);
    expect(await t.items('SentMessages')).toEqual([]);
    expect(msgFrames('alice')).toHaveLength(1);
    expect(msgFrames('mallory')).toHaveLength(0);
    expect(t.events.events).toEqual([]);
    // History stays readable, and no msg_id was taken: the next message is 2.
    expect(
      await ask('sync', 'alice', {
        action: 'msg_list',
        session_id: 'mallory',
        session_type: 1,
        msg_id_begin: 0,
        msg_cnt: 10,
      }),
    ).toMatchObject({ msg_list: [{ msg_id: 1 }] });

    await unblock('alice', 'mallory');
    expect(await sendOne('mallory', 'alice')).toMatchObject({ type: 'msg_data_ack', msg_id: 2 });
    expect(msgFrames('alice').map((f) => f['msg_id'])).toEqual([1, 2]);
  });

  it('a block by the other side refuses too, and both blocks must be lifted', async () => {
    await block('mallory', 'alice');
    await block('alice', 'mallory');
    expect(await sendOne('alice', 'mallory')).toMatchObject({ code: 'not_allowed' });
    await unblock('mallory', 'alice');
    expect(await sendOne('alice', 'mallory')).toMatchObject({ code: 'not_allowed' });
    await unblock('alice', 'mallory');
    expect(await sendOne('alice', 'mallory')).toMatchObject({ type: 'msg_data_ack' });
  });

  it('isBlockedEitherWay answers for either order', async () => {
    expect(await t.runtime.blocks.isBlockedEitherWay('alice', 'mallory')).toBe(false);
    await block('mallory', 'alice');
    expect(await t.runtime.blocks.isBlockedEitherWay('alice', 'mallory')).toBe(true);
    expect(await t.runtime.blocks.isBlockedEitherWay('mallory', 'alice')).toBe(true);
  });

  it('the sweeper drops a delivery pending from before the block: no redelivery, no push, the row gone', async () => {
    await sendOne('mallory', 'alice');
    await block('alice', 'mallory');
    t.gateway.posts.length = 0;
    t.clock.advance(ACK_TIMEOUT_MS + 1);
    const stats = await sweep(t.runtime);
    expect(stats).toMatchObject({ blocked: 1, redelivered: 0, gaveUp: 0 });
    expect(t.gateway.framesTo('alice-c')).toEqual([]);
    expect(t.events.events).toEqual([]);
    expect((await t.items('PendingDeliveries')).filter((r) => r['kind'] !== 'expiry')).toEqual([]);
  });

  it("no read receipt crosses either way while blocked; a read notify still reaches the reader's devices", async () => {
    await registerConnection(t.runtime, { userId: 'alice', connectionId: 'alice-2' });
    await sendOne('mallory', 'alice');
    await sendOne('alice', 'mallory');
    await block('alice', 'mallory');
    t.gateway.posts.length = 0;
    await ask('sync', 'alice', { action: 'msg_read_ack', session_id: 'mallory', session_type: 1, msg_id: 2 });
    await ask('sync', 'mallory', { action: 'msg_read_ack', session_id: 'alice', session_type: 1, msg_id: 2 });
    const types = (user: string) => t.gateway.framesTo(user).map((f) => f.type);
    expect(types('mallory-c')).toEqual(['msg_read_ack']);
    expect(types('alice-c')).toEqual(['msg_read_ack']);
    expect(types('alice-2')).toEqual(['msg_read_notify']);

    await unblock('alice', 'mallory');
    await sendOne('mallory', 'alice');
    t.gateway.posts.length = 0;
    await ask('sync', 'alice', { action: 'msg_read_ack', session_id: 'mallory', session_type: 1, msg_id: 3 });
    expect(types('mallory-c')).toEqual(['msg_read_receipt']);
  });
});

describe('a group both are in', () => {
  let groupId: string;
  beforeEach(async () => {
    groupId = await createGroupAsAlice(t, ['mallory', 'bob']);
    await block('alice', 'mallory');
    t.gateway.posts.length = 0;
  });
  const groupSend = (from: string) =>
    sendAndDeliver(t.runtime, {
      userId: from,
      connectionId: `${from}-c`,
      body: msgData({ to_session_id: groupId, msg_type: 17 }),
    });

  it('delivers the blocked member to the blocker flagged blocked_sender, to the others as ever', async () => {
    await groupSend('mallory');
    await groupSend('bob');
    expect(msgFrames('alice').map((f) => [f['from_user_id'], f['blocked_sender']])).toEqual([
      ['mallory', true],
      ['bob', undefined],
    ]);
    expect(msgFrames('bob')[0]).not.toHaveProperty('blocked_sender');
  });

  it("flags the blocked member in the blocker's msg_list and msg_by_ids only; msg_ids without gaps", async () => {
    await groupSend('mallory');
    await groupSend('bob');
    const list = (user: string) =>
      ask('sync', user, { action: 'msg_list', session_id: groupId, session_type: 2, msg_id_begin: 0, msg_cnt: 10 });
    expect((await list('alice'))['msg_list']).toMatchObject([
      { msg_id: 2, from_user_id: 'bob' },
      { msg_id: 1, from_user_id: 'mallory', blocked_sender: true },
    ]);
    expect(((await list('alice'))['msg_list'] as object[])[0]).not.toHaveProperty('blocked_sender');
    expect(JSON.stringify(await list('bob'))).not.toContain('blocked_sender');
    const byIds = await ask('sync', 'alice', {
      action: 'msg_by_ids',
      session_id: groupId,
      session_type: 2,
      msg_ids: [1, 2],
    });
    expect((byIds['msg_list'] as { blocked_sender?: true }[]).map((m) => m.blocked_sender)).toEqual([undefined, true]);
  });

  it("never pushes the blocked member's message to the blocker (offline), still to the others", async () => {
    await t.runtime.connections.delete('alice', 'alice-c');
    await t.runtime.presence.remove('alice', 'alice-c');
    await t.runtime.connections.delete('bob', 'bob-c');
    await t.runtime.presence.remove('bob', 'bob-c');
    await groupSend('mallory');
    expect(t.events.events.flatMap((e) => e.receivers)).toEqual(['bob']);
  });

  it('redelivers flagged, and a delivery given up is not pushed to the blocker', async () => {
    await groupSend('mallory');
    t.gateway.posts.length = 0;
    t.clock.advance(ACK_TIMEOUT_MS + 1);
    await sweep(t.runtime);
    expect(msgFrames('alice')).toMatchObject([{ from_user_id: 'mallory', blocked_sender: true }]);
    expect(msgFrames('bob')[0]).not.toHaveProperty('blocked_sender');
    for (let i = 0; i < 5; i++) {
      t.clock.advance(ACK_TIMEOUT_MS + 1);
      await sweep(t.runtime);
    }
    expect(t.events.events.flatMap((e) => e.receivers)).toEqual(['bob']);
  });
});

describe('blockersAmong', () => {
  it("reads the reverse index, or the candidates' rows when the user is blocked by more than there are candidates", async () => {
    for (const blocker of ['bob', 'carol', 'dave']) await block(blocker, 'mallory');
    expect(await t.runtime.blocks.blockersAmong('mallory', ['alice', 'bob', 'carol', 'dave', 'erin'])).toEqual(
      new Set(['bob', 'carol', 'dave']),
    );
    // Two candidates, three blockers: the reverse index has more than a page of two, the candidates are read instead.
    expect(await t.runtime.blocks.blockersAmong('mallory', ['carol', 'erin'])).toEqual(new Set(['carol']));
    expect(await t.runtime.blocks.blockedAmong('bob', ['mallory', 'alice'])).toEqual(new Set(['mallory']));
  });
});
