/**
 * Every reply fits API Gateway's 128 KB, whatever is stored (contract: "Limits"), and a page of the read side reads
 * about a page's worth of rows, whatever the user has accumulated. The first group's replies were once larger than
 * 128 KB, which API Gateway drops: each is now cut to what fits, the rest on the next page.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../protocol/limits.js';
import type { ServerFrame } from '../../core/domain/frames.js';
import { groupConversationId, newGroupId } from '../../core/domain/group.js';
import { jsonBytes } from '../../core/domain/reply-size.js';
import type { Runtime } from '../../core/runtime.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { createTestRuntime, msgData, sendAndDeliver, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
/** 4096 bytes of UTF-8 that JSON writes as 24,576 bytes (`\u0001` each). */
const WORST_TEXT = '\u0001'.repeat(4096);

beforeEach(async () => {
  t = await createTestRuntime({
    RATE_LIMIT_PER_SECOND: '200',
    MAX_GROUPS_OWNED: '1000',
    MAX_GROUPS_JOINED: '1000',
    WRITE_RATE_LIMIT_PER_SECOND: '1000',
  });
});

async function request(
  handler: 'sync' | 'groups',
  userId: string,
  frame: Record<string, unknown>,
  runtime: Runtime = t.runtime,
): Promise<ServerFrame & Record<string, unknown>> {
  const fn = handler === 'sync' ? createSyncHandler(runtime) : createGroupsHandler(runtime);
  const connectionId = `${userId}-c`;
  const before = t.gateway.framesTo(connectionId).length;
  await fn({
    body: JSON.stringify(frame),
    requestContext: { connectionId, routeKey: String(frame['action']), eventType: 'MESSAGE', authorizer: { userId } },
  } as unknown as WebSocketEvent);
  const replies = t.gateway.framesTo(connectionId).slice(before);
  expect(replies).toHaveLength(1);
  const reply = replies[0] as ServerFrame & Record<string, unknown>;
  expect(jsonBytes(reply)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  return reply;
}

const ids = (list: unknown) => (list as { msg_id: number }[]).map((m) => m.msg_id);

describe('a reply that would be over 128 KB is cut to fit, the rest on the next page', () => {
  it('six worst-case 4 KB messages: msg_list answers those that fit with has_more, and the rest on the next page', async () => {
    for (let i = 0; i < 6; i++)
      await acceptMessage(t.runtime, {
        userId: 'alice',
        body: msgData({ to_session_id: 'bob', msg_data: WORST_TEXT }),
      });
    const first = await request('sync', 'bob', {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 6,
    });
    expect(ids(first['msg_list']).length).toBeGreaterThanOrEqual(1);
    expect(ids(first['msg_list']).length).toBeLessThan(6);
    expect(first['has_more']).toBe(true);
    const seen = ids(first['msg_list']);
    while (seen.at(-1)! > 1) {
      const next = await request('sync', 'bob', {
        action: 'msg_list',
        session_id: 'alice',
        session_type: 1,
        msg_id_begin: seen.at(-1)! - 1,
        msg_cnt: 6,
      });
      seen.push(...ids(next['msg_list']));
    }
    expect(seen).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('msg_by_ids answers those that fit and lists the others in remaining_msg_ids', async () => {
    for (let i = 0; i < 6; i++)
      await acceptMessage(t.runtime, {
        userId: 'alice',
        body: msgData({ to_session_id: 'bob', msg_data: WORST_TEXT }),
      });
    const reply = await request('sync', 'bob', {
      action: 'msg_by_ids',
      session_id: 'alice',
      session_type: 1,
      msg_ids: [1, 2, 3, 4, 5, 6, 7],
    });
    const got = ids(reply['msg_list']);
    const remaining = reply['remaining_msg_ids'] as number[];
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect([...got, ...remaining].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a victim put in 16 groups with a 4 KB message each: recent_sessions and unread_cnt answer in pages', async () => {
    const groups: string[] = [];
    for (let i = 0; i < 16; i++) {
      const reply = await request('groups', 'mallory', {
        action: 'group_create',
        group_name: `g${i}`,
        member_ids: ['victim'],
      });
      groups.push(reply['group_id'] as string);
    }
    for (const g of groups)
      await sendAndDeliver(t.runtime, {
        userId: 'mallory',
        connectionId: 'm1',
        body: msgData({ to_session_id: g, msg_type: 17, msg_data: WORST_TEXT }),
      });

    const listed = new Set<string>();
    let token: unknown;
    do {
      const page = await request('sync', 'victim', {
        action: 'recent_sessions',
        latest_update_time: 0,
        ...(token ? { page_token: token } : {}),
      });
      for (const s of page['contact_session_list'] as { session_id: string }[]) listed.add(s.session_id);
      token = page['next_page_token'];
    } while (token);
    expect([...listed].sort()).toEqual([...groups].sort());

    let total = 0;
    token = undefined;
    do {
      const page = await request('sync', 'victim', { action: 'unread_cnt', ...(token ? { page_token: token } : {}) });
      total += page['total_cnt'] as number;
      token = page['next_page_token'];
    } while (token);
    expect(total).toBe(16);
  });

  it('group_list pages a user’s groups, 100 a page', async () => {
    for (let i = 0; i < 230; i++) {
      const groupId = newGroupId();
      await t.runtime.groups.create({
        groupId,
        groupName: `team ${'x'.repeat(120)} ${i}`,
        ownerId: 'owner',
        createdTime: 1,
      });
      await t.runtime.sessions.putMany([
        {
          userId: 'member',
          sessionType: 2,
          sessionId: groupId,
          conversationId: groupConversationId(groupId),
          createdTime: 1,
          readMsgId: 0,
        },
      ]);
    }
    const sizes: number[] = [];
    let token: unknown;
    do {
      const page = await request('groups', 'member', { action: 'group_list', ...(token ? { page_token: token } : {}) });
      sizes.push((page['group_list'] as unknown[]).length);
      token = page['next_page_token'];
    } while (token);
    expect(sizes).toEqual([100, 100, 30]);
  });

  it('a page token of one action is refused by another', async () => {
    await acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob' }) });
    for (let i = 0; i < 101; i++)
      await acceptMessage(t.runtime, { userId: `p${i}`, body: msgData({ to_session_id: 'bob' }) });
    const page = await request('sync', 'bob', { action: 'recent_sessions', latest_update_time: 0 });
    expect(
      await request('sync', 'bob', { action: 'unread_cnt', seq: 3, page_token: page['next_page_token'] }),
    ).toMatchObject({ type: 'error', seq: 3, code: 'bad_request' });
  });
});

describe('work per page does not grow with what the user accumulated', () => {
  it('a page of recent_sessions reads one day of the session index, not all 300 sessions over three days', async () => {
    for (let day = 0; day < 3; day++) {
      for (let i = 0; i < 100; i++)
        await acceptMessage(t.runtime, { userId: `d${day}p${i}`, body: msgData({ to_session_id: 'bob' }) });
      t.clock.advance(86_400_000);
    }
    const read = { entries: 0, heads: 0 };
    const sessions = t.runtime.sessions;
    const conversations = t.runtime.conversations;
    const counting: Runtime = {
      ...t.runtime,
      sessions: Object.assign(Object.create(sessions) as typeof sessions, {
        listIndex: async (...a: Parameters<typeof sessions.listIndex>) => {
          const result = await sessions.listIndex(...a);
          read.entries += result.entries.length;
          return result;
        },
      }),
      conversations: Object.assign(Object.create(conversations) as typeof conversations, {
        getMany: async (ids: readonly string[]) => ((read.heads += ids.length), conversations.getMany(ids)),
      }),
    };
    const first = await request('sync', 'bob', { action: 'recent_sessions', latest_update_time: 0 }, counting);
    expect(first['contact_session_list'] as unknown[]).toHaveLength(100);
    expect((first['contact_session_list'] as { session_id: string }[])[0]?.session_id).toMatch(/^d2p/);
    expect(read).toEqual({ entries: 100, heads: 100 });

    // Catching up since a time reads only the days since then.
    read.entries = 0;
    const since = Math.floor(t.clock.now() / 1000) - 86_400 - 1;
    const recent = await request('sync', 'bob', { action: 'recent_sessions', latest_update_time: since }, counting);
    expect((recent['contact_session_list'] as unknown[]).length).toBe(100);
    expect(read.entries).toBe(100);
  });
});
