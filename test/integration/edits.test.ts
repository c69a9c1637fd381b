/**
 * msg_recall and msg_edit on DynamoDB Local (docs/protocol.md "Recall and edit"): the rules (sender and window on the
 * injected clock, a group's owner any time, text only, never a tombstone), idempotency, refusals that change nothing,
 * the frames to the members' other connections, and every read path after the change — msg_list, msg_by_ids,
 * recent_sessions, unread_cnt, the sweeper's redelivery and the push sender's re-read.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { registerConnection } from '../../core/usecases/connections.js';
import { sweep } from '../../core/usecases/sweep.js';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MessageTombstoneTable } from '../../core/store/tombstones.js';
import { singleConversationId } from '../../core/domain/ids.js';
import { pushSenderPorts, sendPushes } from '../../core/usecases/send-pushes.js';
import { createEditsHandler } from '../../lambdas/edits/handler.js';
import { createSendHandler } from '../../lambdas/send/handler.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { createGroupAsAlice, createTestRuntime, requestAs, type TestRuntime } from '../support/runtime.js';

type Frame = Record<string, unknown> & { type: string };
const ACK_TIMEOUT_MS = 15_000;
const RECALL_WINDOW_S = 120;
const EDIT_WINDOW_S = 900;
const PAIR = singleConversationId('alice', 'bob');
let t: TestRuntime;

beforeEach(async () => {
  t = await createTestRuntime({ ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), CONTENT_FILTER_WORDS: 'badword' });
  for (const user of ['alice', 'bob', 'carol'])
    await registerConnection(t.runtime, { userId: user, connectionId: `${user}-c` });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'alice-2' });
});

async function ask(handler: 'edits' | 'sync' | 'send', user: string, frame: Record<string, unknown>): Promise<Frame> {
  const create = { edits: createEditsHandler, sync: createSyncHandler, send: createSendHandler }[handler];
  await requestAs(create(t.runtime), user, frame);
  return t.gateway.framesTo(`${user}-c`).at(-1) as Frame;
}

const send = (from: string, to: string, fields: Record<string, unknown> = {}) =>
  ask('send', from, { action: 'msg_data', seq: 9, to_session_id: to, msg_type: 1, msg_data: 'hello', ...fields });
const recall = (user: string, sessionId: string, msgId: number, sessionType = 1) =>
  ask('edits', user, { action: 'msg_recall', seq: 3, session_id: sessionId, session_type: sessionType, msg_id: msgId });
const edit = (user: string, sessionId: string, msgId: number, text: string, sessionType = 1) =>
  ask('edits', user, {
    action: 'msg_edit',
    seq: 4,
    session_id: sessionId,
    session_type: sessionType,
    msg_id: msgId,
    msg_data: text,
  });
const stored = async (msgId: number, conversation = PAIR) =>
  (await t.items('Messages')).find((m) => m['conversation_id'] === conversation && m['msg_id'] === msgId);
const noticesTo = (connectionId: string, type: string) =>
  t.gateway.framesTo(connectionId).filter((f) => f.type === type);

describe('msg_recall', () => {
  it('the sender recalls within the window: stored as recalled, members told, every read path shows it', async () => {
    await send('alice', 'bob');
    expect(await recall('alice', 'bob', 1)).toEqual({
      type: 'msg_recall',
      seq: 3,
      session_id: 'bob',
      session_type: 1,
      msg_id: 1,
    });
    expect(await stored(1)).toMatchObject({ msg_data: '', recalled: true, from_user_id: 'alice' });
    expect(noticesTo('bob-c', 'msg_recalled')).toEqual([
      { type: 'msg_recalled', msg_id: 1, session_id: 'alice', session_type: 1 },
    ]);
    expect(noticesTo('alice-2', 'msg_recalled')).toEqual([
      { type: 'msg_recalled', msg_id: 1, session_id: 'bob', session_type: 1 },
    ]);
    expect(noticesTo('alice-c', 'msg_recalled')).toEqual([]); // the asking connection got the reply
    const list = await ask('sync', 'bob', {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(list['msg_list']).toEqual([expect.objectContaining({ msg_id: 1, msg_data: '', recalled: true })]);
    const byIds = await ask('sync', 'bob', {
      action: 'msg_by_ids',
      session_id: 'alice',
      session_type: 1,
      msg_ids: [1],
    });
    expect(byIds['msg_list']).toEqual([expect.objectContaining({ msg_id: 1, recalled: true })]);
    const sessions = await ask('sync', 'bob', { action: 'recent_sessions', latest_update_time: 0 });
    expect(sessions['contact_session_list']).toEqual([
      expect.objectContaining({ session_id: 'alice', latest_msg_data: '', latest_msg_recalled: true }),
    ]);
    const unread = await ask('sync', 'bob', { action: 'unread_cnt' });
    expect(unread['unreadinfo_list']).toEqual([expect.objectContaining({ latest_msg_recalled: true })]);
  });

  it('is idempotent: recalling a recalled message answers the same reply, even past the window', async () => {
    await send('alice', 'bob');
    const first = await recall('alice', 'bob', 1);
    t.clock.advance((RECALL_WINDOW_S + 5) * 1000);
    expect(await recall('alice', 'bob', 1)).toEqual(first);
  });

  it('a repeated recall or edit posts no frames again (no fan-out a user can repeat)', async () => {
    const group = await createGroupAsAlice(t, ['bob', 'carol']);
    await send('alice', group, { msg_type: 17 });
    await send('alice', group, { msg_type: 17, msg_data: 'second' });
    await recall('alice', group, 1, 2);
    await edit('alice', group, 2, 'second, edited', 2);
    const posted = () =>
      t.gateway.framesTo('bob-c').filter((f) => f.type === 'msg_recalled' || f.type === 'msg_edited').length;
    const before = posted();
    for (let i = 0; i < 3; i++) {
      expect(await recall('alice', group, 1, 2)).toMatchObject({ type: 'msg_recall' });
      expect(await edit('alice', group, 2, 'second, edited', 2)).toMatchObject({ type: 'msg_edit' });
      await recall('bob', group, 1, 2);
    }
    expect(posted()).toBe(before);
  });

  it('past the window (injected clock) or for another user’s message: not_allowed, nothing changed', async () => {
    await send('alice', 'bob');
    await send('bob', 'alice');
    t.clock.advance((RECALL_WINDOW_S + 1) * 1000);
    expect(await recall('alice', 'bob', 1)).toMatchObject({ type: 'error', code: 'not_allowed', seq: 3 });
    t.clock.advance(-(RECALL_WINDOW_S + 1) * 1000);
    expect(await recall('alice', 'bob', 2)).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await stored(1)).toMatchObject({ msg_data: 'hello' });
    expect(await stored(2)).toMatchObject({ msg_data: 'hello' });
    expect((await stored(1))?.['recalled']).toBeUndefined();
    expect(noticesTo('bob-c', 'msg_recalled')).toEqual([]);
  });

  it('a group owner recalls any member’s message at any time; another member may not', async () => {
    const group = await createGroupAsAlice(t, ['bob', 'carol']);
    await send('bob', group, { msg_type: 17 });
    t.clock.advance((RECALL_WINDOW_S + 60) * 1000);
    expect(await recall('carol', group, 1, 2)).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await recall('bob', group, 1, 2)).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await recall('alice', group, 1, 2)).toMatchObject({ type: 'msg_recall', msg_id: 1 });
    const conversation = (await t.items('Messages'))[0]?.['conversation_id'] as string;
    expect(await stored(1, conversation)).toMatchObject({ recalled: true, msg_data: '' });
    for (const c of ['bob-c', 'carol-c', 'alice-2'])
      expect(noticesTo(c, 'msg_recalled')).toEqual([
        { type: 'msg_recalled', msg_id: 1, session_id: group, session_type: 2 },
      ]);
  });

  it('refuses a tombstone (not_allowed), a msg_id with no message (bad_request), a non-member (not_member)', async () => {
    const group = await createGroupAsAlice(t, ['bob']);
    await send('alice', 'bob');
    await new MessageTombstoneTable(
      DynamoDBDocumentClient.from(t.tables.client),
      t.runtime.config.tables.Messages,
    ).tombstone(PAIR, 1);
    expect(await recall('alice', 'bob', 1)).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await recall('alice', 'bob', 7)).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await recall('carol', group, 1, 2)).toMatchObject({ type: 'error', code: 'not_member' });
    expect(await recall('alice', 'bob', 0)).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await stored(1)).toMatchObject({ deleted: true });
    expect((await stored(1))?.['recalled']).toBeUndefined();
  });
});

describe('msg_edit', () => {
  it('the sender edits within the window: new text and edited_at on every read path, members told', async () => {
    await send('alice', 'bob');
    t.clock.advance(60_000);
    const reply = await edit('alice', 'bob', 1, 'hello, edited');
    const editedAt = Math.floor(t.clock.now() / 1000);
    expect(reply).toEqual({
      type: 'msg_edit',
      seq: 4,
      session_id: 'bob',
      session_type: 1,
      msg_id: 1,
      edited_at: editedAt,
    });
    expect(await stored(1)).toMatchObject({ msg_data: 'hello, edited', edited_at: editedAt });
    expect(noticesTo('bob-c', 'msg_edited')).toEqual([
      {
        type: 'msg_edited',
        msg_id: 1,
        msg_data: 'hello, edited',
        edited_at: editedAt,
        session_id: 'alice',
        session_type: 1,
      },
    ]);
    expect(noticesTo('alice-2', 'msg_edited')).toEqual([
      expect.objectContaining({ session_id: 'bob', msg_data: 'hello, edited' }),
    ]);
    const list = await ask('sync', 'bob', {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(list['msg_list']).toEqual([expect.objectContaining({ msg_data: 'hello, edited', edited_at: editedAt })]);
    const sessions = await ask('sync', 'bob', { action: 'recent_sessions', latest_update_time: 0 });
    expect(sessions['contact_session_list']).toEqual([
      expect.objectContaining({ latest_msg_data: 'hello, edited', latest_msg_edited_at: editedAt }),
    ]);
  });

  it('the same text again writes nothing and answers the same edited_at', async () => {
    await send('alice', 'bob');
    const first = await edit('alice', 'bob', 1, 'v2');
    t.clock.advance(30_000);
    expect(await edit('alice', 'bob', 1, 'v2')).toEqual(first);
    expect((await stored(1))?.['edited_at']).toBe(first['edited_at']);
  });

  it('refuses another’s message, past the window, a recalled message: not_allowed, nothing changed', async () => {
    await send('alice', 'bob');
    await send('alice', 'bob', { msg_data: 'second' });
    expect(await edit('bob', 'alice', 1, 'hijack')).toMatchObject({ type: 'error', code: 'not_allowed' });
    await recall('alice', 'bob', 2);
    expect(await edit('alice', 'bob', 2, 'back')).toMatchObject({ type: 'error', code: 'not_allowed' });
    t.clock.advance((EDIT_WINDOW_S + 1) * 1000);
    expect(await edit('alice', 'bob', 1, 'late')).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await stored(1)).toMatchObject({ msg_data: 'hello' });
    expect((await stored(1))?.['edited_at']).toBeUndefined();
    expect(await stored(2)).toMatchObject({ msg_data: '', recalled: true });
  });

  it('checks the text as a send does (empty, too large, filtered, bad fields): nothing changed', async () => {
    await send('alice', 'bob');
    expect(await edit('alice', 'bob', 1, '')).toMatchObject({ type: 'error', code: 'empty_message' });
    expect(await edit('alice', 'bob', 1, 'x'.repeat(4097))).toMatchObject({ type: 'error', code: 'too_large' });
    expect(await edit('alice', 'bob', 1, 'a badword here')).toMatchObject({ type: 'error', code: 'content_rejected' });
    expect(await edit('alice', 'bob', 1, 'hello')).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(
      await ask('edits', 'alice', { action: 'msg_edit', session_id: 'bob', session_type: 1, msg_id: 1, msg_data: 5 }),
    ).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await stored(1)).toMatchObject({ msg_data: 'hello' });
    expect((await stored(1))?.['edited_at']).toBeUndefined();
  });

  it('takes from the msg_data budget: past RATE_LIMIT_PER_SECOND edits are rate_limited', async () => {
    const limited = await createTestRuntime({ RATE_LIMIT_PER_SECOND: '2' });
    t = limited;
    await registerConnection(t.runtime, { userId: 'alice', connectionId: 'alice-c' });
    await send('alice', 'bob');
    expect(await edit('alice', 'bob', 1, 'a')).toMatchObject({ type: 'msg_edit' });
    expect(await edit('alice', 'bob', 1, 'b')).toMatchObject({ type: 'error', code: 'rate_limited' });
    // A repeated edit (no write) takes from the budget too.
    expect(await edit('alice', 'bob', 1, 'a')).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(await stored(1)).toMatchObject({ msg_data: 'a' });
  });
});

describe('after the change, redelivery and pushes carry the stored state', () => {
  it('the sweeper redelivers the edited text, then the recall', async () => {
    await send('alice', 'bob');
    await edit('alice', 'bob', 1, 'edited before redelivery');
    t.gateway.posts.length = 0;
    t.clock.advance(ACK_TIMEOUT_MS + 1);
    await sweep(t.runtime);
    expect(t.gateway.framesTo('bob-c')).toEqual([
      expect.objectContaining({
        type: 'msg_data',
        msg_id: 1,
        msg_data: 'edited before redelivery',
        edited_at: expect.any(Number),
      }),
    ]);
    await send('alice', 'bob', { msg_data: 'to recall' });
    await recall('alice', 'bob', 2);
    t.gateway.posts.length = 0;
    t.clock.advance(ACK_TIMEOUT_MS + 1);
    await sweep(t.runtime);
    expect(t.gateway.framesTo('bob-c').find((f) => (f as Frame)['msg_id'] === 2)).toMatchObject({
      msg_data: '',
      recalled: true,
    });
  });

  it('a recalled message whose deliveries run out is not pushed (the give-up publishes nothing)', async () => {
    t = await createTestRuntime({ ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), MAX_DELIVERY_ATTEMPTS: '1' });
    for (const user of ['alice', 'bob'])
      await registerConnection(t.runtime, { userId: user, connectionId: `${user}-c` });
    await send('alice', 'bob');
    await send('alice', 'bob', { msg_data: 'kept' });
    await recall('alice', 'bob', 1);
    t.clock.advance(ACK_TIMEOUT_MS + 1);
    expect(await sweep(t.runtime)).toMatchObject({ gaveUp: 2 });
    expect(t.events.events.map((e) => e.msg_id)).toEqual([2]);
  });

  it('a push event built with the text reads it again: none after a recall, the new text after an edit', async () => {
    await send('alice', 'bob');
    await send('alice', 'bob', { msg_data: 'second' });
    const bodies: string[] = [];
    const fcm = {
      name: 'fcm',
      send: async (_token: string, content: { body: string }) => {
        bodies.push(content.body);
        return { kind: 'sent' as const };
      },
    };
    await t.runtime.deviceTokens.register('bob', { token: 'tok', platform: 'android' }, t.clock.now(), 10);
    const ports = pushSenderPorts(t.runtime, { fcm });
    const detail = (msgId: number) => ({
      reason: 'offline' as const,
      receivers: ['bob'],
      from_user_id: 'alice',
      session_type: 1,
      session_id: 'alice',
      msg_id: msgId,
      msg_type: 1,
      create_time: 0,
      msg_data: 'hello',
    });
    const store = t.runtime.edits;
    await recall('alice', 'bob', 1);
    expect((await store.read(PAIR, 1))?.recalled).toBe(true);
    await edit('alice', 'bob', 2, 'second, edited');
    const noCollapse = { ...ports, config: { ...ports.config, collapseWindowMs: 0 } };
    await sendPushes(noCollapse, detail(1));
    await sendPushes(noCollapse, detail(2));
    expect(bodies).toEqual(['New message from alice', 'second, edited']);
  });
});

describe('the store’s conditions (core/store/message-edits.ts)', () => {
  it('recall and edit write only while the rule holds, never on a tombstone or twice', async () => {
    await send('alice', 'bob');
    const store = t.runtime.edits;
    const created = (await store.read(PAIR, 1))!.createTime;
    const since = created + 1; // the window closed a second before: the write's own condition refuses
    expect(await store.recall(PAIR, 1, { kind: 'sender', senderId: 'alice', createdSince: since })).toBe(false);
    expect(await store.recall(PAIR, 1, { kind: 'sender', senderId: 'bob', createdSince: created })).toBe(false);
    const change = { senderId: 'alice', createdSince: since, msgData: 'x', editedAt: created };
    expect(await store.edit(PAIR, 1, change)).toBe(false);
    expect(await store.edit(PAIR, 1, { ...change, createdSince: created })).toBe(true);
    expect(await store.recall(PAIR, 1, { kind: 'owner' })).toBe(true);
    expect(await store.recall(PAIR, 1, { kind: 'owner' })).toBe(false);
    expect(await store.edit(PAIR, 1, { ...change, createdSince: created })).toBe(false);
    expect(await store.read(PAIR, 1)).toMatchObject({ recalled: true, msgData: '' });
    expect((await store.read(PAIR, 1))?.editedAt).toBeUndefined();
    expect(await store.recall(PAIR, 9, { kind: 'owner' })).toBe(false);
  });
});
