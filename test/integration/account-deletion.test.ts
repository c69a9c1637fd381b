/**
 * Account deletion on DynamoDB Local: a user with 2,000 messages in two single chats and three groups (one it owns
 * with others, one it owns alone, one of another's) is deleted by the paged job, and nothing of theirs remains but
 * tombstones; a crash at any page (and inside a page) is resumed with nothing done twice.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DELETION_MESSAGES_PER_PAGE } from '../../core/domain/account.js';
import { groupConversationId } from '../../core/domain/group.js';
import { singleConversationId } from '../../core/domain/ids.js';
import { batchWriteAll } from '../../core/store/batch.js';
import { CapacityMeter } from '../../core/store/consumed-capacity.js';
import { createDocumentClient } from '../../core/store/document-client.js';
import {
  acceptAccountDeletion,
  runDeletionPage,
  type AccountDeletionPorts,
} from '../../core/usecases/account-deletion.js';
import { newUploadKey, storedKey } from '../../core/usecases/attachments.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { deletionHarness, drainDeletion, type DeletionHarness } from '../support/account-deletion.js';
import { createTestRuntime, msgData, requestAs, sendAndDeliver, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
let h: DeletionHarness;

beforeEach(async () => {
  t = await createTestRuntime();
  h = deletionHarness(t);
});

const lastReply = (userId: string) => t.gateway.framesTo(`${userId}-c`).at(-1) as unknown as Record<string, unknown>;

async function groupOf(owner: string, members: string[]): Promise<string> {
  await requestAs(createGroupsHandler(t.runtime), owner, {
    action: 'group_create',
    group_name: 'g',
    member_ids: members,
  });
  return lastReply(owner)['group_id'] as string;
}

/**
 * `count` messages in the conversation, the first sent through the send path (session rows, index, head), the rest
 * written in batches; `senders(i)` says who sent the i-th (msg_id i + 1). Returns the attachment key of message 2
 * when `withAttachment`.
 */
async function seed(
  to: string,
  sessionType: 1 | 2,
  count: number,
  senders: (i: number) => string,
  withAttachment = false,
): Promise<string | undefined> {
  const first = senders(0);
  await sendAndDeliver(t.runtime, {
    userId: first,
    connectionId: `${first}-c`,
    body: msgData({ to_session_id: to, msg_type: sessionType === 1 ? 1 : 17, msg_data: 'm1' }),
  });
  const conversationId = sessionType === 1 ? singleConversationId(first, to) : groupConversationId(to);
  const upload = withAttachment ? newUploadKey(senders(1)) : undefined;
  const db = createDocumentClient({
    endpoint: t.tables.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const now = Math.floor(Date.now() / 1000);
  const items = Array.from({ length: count - 1 }, (_, k) => {
    const i = k + 1;
    const from = senders(i);
    const data =
      i === 1 && upload
        ? JSON.stringify({ attachment: 'picture', key: upload, content_type: 'image/png', size: 10 })
        : `m${i + 1} by ${from}`;
    return {
      PutRequest: {
        Item: {
          conversation_id: conversationId,
          msg_id: i + 1,
          from_user_id: from,
          to_session_id: sessionType === 1 ? (from === first ? to : first) : to,
          msg_type: sessionType === 1 ? 1 : 17,
          msg_data: data,
          create_time: now,
        },
      },
    };
  });
  await batchWriteAll(db, t.tables.names.Messages, items);
  await db.send(
    new UpdateCommand({
      TableName: t.tables.names.Conversations,
      Key: { conversation_id: conversationId },
      UpdateExpression: 'SET last_msg_id = :n',
      ExpressionAttributeValues: { ':n': count },
    }),
  );
  if (upload) {
    const uploadId = upload.slice(upload.lastIndexOf('/') + 1);
    await t.runtime.attachmentRecords.putReference(senders(1), uploadId, conversationId, undefined);
    h.bucket.objects.add(upload).add(storedKey(upload));
  }
  return upload;
}

/** alice's world: bob and carol in single chats, three groups, two devices, a read mark, an attachment. */
async function aliceWithHistory(scale: { bob: number; carol: number; owned: number; solo: number; daves: number }) {
  for (const u of ['alice', 'bob', 'carol', 'dave'])
    await registerConnection(t.runtime, { userId: u, connectionId: `${u}-c` });
  // carol joins alice's group first, bob later: carol is its longest-standing member although bob's id is smaller.
  const owned = await groupOf('alice', ['carol']);
  t.clock.advance(5_000);
  await requestAs(createGroupsHandler(t.runtime), 'alice', {
    action: 'group_change_member',
    group_id: owned,
    change_type: 'add',
    member_ids: ['bob'],
  });
  const solo = await groupOf('alice', []);
  const daves = await groupOf('dave', ['alice', 'bob']);
  const upload = await seed('bob', 1, scale.bob, (i) => (i % 3 === 2 ? 'bob' : 'alice'), true);
  await seed('carol', 1, scale.carol, (i) => (i % 2 === 0 ? 'alice' : 'carol'));
  await seed(owned, 2, scale.owned, (i) => ['alice', 'bob', 'carol'][i % 3]!);
  await seed(solo, 2, scale.solo, () => 'alice');
  await seed(daves, 2, scale.daves, (i) => (i % 2 === 0 ? 'dave' : 'alice'));
  await requestAs(createSyncHandler(t.runtime), 'alice', {
    action: 'msg_read_ack',
    session_id: 'bob',
    session_type: 1,
    msg_id: 3,
  });
  for (const token of ['tok-a1', 'tok-a2'])
    await t.runtime.deviceTokens.register('alice', { token, platform: 'android' }, t.clock.now(), 10);
  return { owned, solo, daves, upload: upload! };
}

async function expectNothingOfAliceButTombstones(world: {
  owned: string;
  solo: string;
  daves: string;
  upload: string;
}) {
  const messages = await t.items('Messages');
  const alices = messages.filter((m) => m['from_user_id'] === 'alice');
  expect(alices.length).toBeGreaterThan(0);
  expect(alices.filter((m) => m['deleted'] !== true || m['msg_data'] !== '')).toEqual([]);
  // Others' messages untouched, numbering whole.
  expect(messages.filter((m) => m['from_user_id'] !== 'alice' && m['deleted'] === true)).toEqual([]);
  const sessions = await t.items('Sessions');
  expect(sessions.filter((s) => s['user_id'] === 'alice')).toEqual([]);
  const tokens = await t.items('DeviceTokens');
  expect(tokens.filter((d) => d['user_id'] === 'alice' || d['owner_id'] === 'alice')).toEqual([]);
  const members = await t.items('GroupMembers');
  expect(members.filter((m) => m['user_id'] === 'alice')).toEqual([]);
  const groups = new Map((await t.items('Groups')).map((g) => [g['group_id'], g]));
  expect(groups.get(world.owned)).toMatchObject({ owner_id: 'carol', member_count: 2 });
  expect(groups.has(world.solo)).toBe(false);
  expect(groups.get(world.daves)).toMatchObject({ owner_id: 'dave', member_count: 2 });
  const carolsQuota = sessions.find((s) => s['user_id'] === 'carol' && s['session_key'] === 'q#counters');
  expect(carolsQuota?.['groups_owned']).toBe(1);
  expect(h.bucket.objects.has(world.upload)).toBe(false);
  expect(h.bucket.objects.has(storedKey(world.upload))).toBe(false);
  const [account] = await t.items('Accounts');
  expect(account).toMatchObject({ user_id: 'alice', account_status: 'deleted', deletion_done_at: expect.any(Number) });
  // AdminDeleteUser of a deleted user is no error, and the event is at least once: a page run again repeats them, alike.
  expect(new Set(h.fakes.identityDeletes)).toEqual(new Set(['alice']));
  expect(new Set(h.fakes.events.map((e) => JSON.stringify(e)))).toEqual(
    new Set([JSON.stringify({ user_id: 'alice', deleted_at: account!['deletion_done_at'] })]),
  );
}

describe('account deletion job', () => {
  it('costs 1 write unit per message it tombstones and ≈ 5 read units per 100 messages it reads (README cost row)', async () => {
    const meter = new CapacityMeter();
    h = deletionHarness(t, { capacityMeter: meter });
    await seed('bob', 1, 1_000, (i) => (i % 2 === 0 ? 'alice' : 'bob'));
    await acceptAccountDeletion({ ...t.runtime, jobs: h.queue }, 'alice');
    meter.reset();
    const pages = await drainDeletion(h.ports, h.queue);
    const { writeUnits, readUnits } = meter.totals();
    // 500 tombstones; the rest is the session rows, index and quota rows and the end (a handful of units).
    expect(writeUnits).toBeGreaterThanOrEqual(500);
    expect(writeUnits).toBeLessThanOrEqual(510);
    // 1,000 messages read 100 a page (a strongly consistent Query of ≈ 20 KB: 5 units) and the partition walks.
    expect(readUnits).toBeLessThanOrEqual(10 * 5 + 20);
    expect(pages).toBeLessThanOrEqual(15);
  });

  it('deletes a user with 2,000 messages and four groups: nothing of theirs remains but tombstones', async () => {
    const world = await aliceWithHistory({ bob: 700, carol: 500, owned: 450, solo: 150, daves: 200 });
    const bobsBefore = (await t.items('Messages')).filter((m) => m['from_user_id'] !== 'alice').length;
    await acceptAccountDeletion({ ...t.runtime, jobs: h.queue }, 'alice');
    const pages = await drainDeletion(h.ports, h.queue);
    await expectNothingOfAliceButTombstones(world);
    expect((await t.items('Messages')).length).toBe(2_000);
    expect((await t.items('Messages')).filter((m) => m['from_user_id'] !== 'alice').length).toBe(bobsBefore);
    // Pages: devices, 2,000 messages read 100 a page (+1 per conversation ending on a full page), records, finish.
    expect(pages).toBeGreaterThanOrEqual(2_000 / DELETION_MESSAGES_PER_PAGE);
    expect(pages).toBeLessThan(2_000 / DELETION_MESSAGES_PER_PAGE + 12);
    // The group's members were told alice left; carol now owns it.
    expect(
      t.gateway
        .framesTo('carol-c')
        .some((f) => f.type === 'group_change_member_notify' && (f as { change_type?: string }).change_type === 'del'),
    ).toBe(true);
  }, 120_000);

  it('tombstones her messages in a group she had left before the deletion too', async () => {
    await registerConnection(t.runtime, { userId: 'dave', connectionId: 'dave-c' });
    const daves = await groupOf('dave', ['alice']);
    await seed(daves, 2, 4, (i) => (i % 2 === 0 ? 'dave' : 'alice'));
    await requestAs(createGroupsHandler(t.runtime), 'alice', {
      action: 'group_change_member',
      group_id: daves,
      change_type: 'del',
      member_ids: ['alice'],
    });
    await acceptAccountDeletion({ ...t.runtime, jobs: h.queue }, 'alice');
    await drainDeletion(h.ports, h.queue);
    const messages = await t.items('Messages');
    expect(
      messages.filter((m) => m['from_user_id'] === 'alice').map((m) => [m['msg_id'], m['deleted'], m['msg_data']]),
    ).toEqual([
      [2, true, ''],
      [4, true, ''],
    ]);
    expect((await t.items('Sessions')).filter((r) => r['user_id'] === 'alice')).toEqual([]);
  });

  it("every read path shows the deleted user's messages as tombstones", async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'bob-c' });
    await seed('bob', 1, 3, (i) => (i === 1 ? 'bob' : 'alice'));
    await acceptAccountDeletion({ ...t.runtime, jobs: h.queue }, 'alice');
    await drainDeletion(h.ports, h.queue);
    const sync = createSyncHandler(t.runtime);
    await requestAs(sync, 'bob', {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(lastReply('bob')['msg_list']).toEqual([
      expect.objectContaining({ msg_id: 3, from_user_id: 'alice', msg_data: '', deleted: true }),
      expect.not.objectContaining({ deleted: true }),
      expect.objectContaining({ msg_id: 1, msg_data: '', deleted: true }),
    ]);
    await requestAs(sync, 'bob', { action: 'msg_by_ids', session_id: 'alice', session_type: 1, msg_ids: [1, 2] });
    expect(lastReply('bob')['msg_list']).toEqual(
      expect.arrayContaining([expect.objectContaining({ msg_id: 1, msg_data: '', deleted: true })]),
    );
    await requestAs(sync, 'bob', { action: 'recent_sessions', latest_update_time: 0 });
    expect(lastReply('bob')['contact_session_list']).toEqual([
      expect.objectContaining({ session_id: 'alice', latest_msg_id: 3, latest_msg_data: '', latest_msg_deleted: true }),
    ]);
    await requestAs(sync, 'bob', { action: 'unread_cnt' });
    expect(lastReply('bob')['unreadinfo_list']).toEqual([
      expect.objectContaining({ session_id: 'alice', latest_msg_data: '', latest_msg_deleted: true }),
    ]);
  });
});

type Write =
  | 'tombstone'
  | 'rowDelete'
  | 'removeMember'
  | 'transferOwnership'
  | 'deleteGroup'
  | 'markDeletionDone'
  | 'unregister'
  | 'deleteUser'
  | 'publish';

/**
 * Where the crash tests crash: every kind of write the job makes, in every kind of page (tokens; a conversation's
 * first, middle and last page; each group's leaving; the records; the end). The 2nd tombstone is the attachment's
 * message; rows are deleted one session at a time, so the 3rd to 5th row deletes end the groups.
 */
const CRASH_POINTS: readonly (readonly [Write, number])[] = [
  ['unregister', 1],
  ['unregister', 2],
  ['tombstone', 2],
  ['tombstone', 80],
  ['tombstone', 81],
  ['rowDelete', 1],
  ['rowDelete', 3],
  ['rowDelete', 6],
  ['transferOwnership', 1],
  ['deleteGroup', 1],
  ['removeMember', 1],
  ['removeMember', 2],
  ['removeMember', 3],
  ['deleteUser', 1],
  ['markDeletionDone', 1],
  ['publish', 1],
];

describe('a deletion that crashes', () => {
  /**
   * The ports with the n-th write of one kind crashing, as a Lambda dying there would leave things: before the write
   * is made, or after it was made and before its answer came back.
   */
  function dyingAt(target: Write, n: number, when: 'before' | 'after'): AccountDeletionPorts {
    let calls = 0;
    const die =
      <A extends unknown[], R>(kind: Write, fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (kind !== target || ++calls !== n) return fn(...args);
        if (when === 'after') await fn(...args);
        throw new Error(`crash ${when} ${kind} #${n}`);
      };
    const p = h.ports;
    return {
      ...p,
      tombstones: {
        get: (c, m) => p.tombstones.get(c, m),
        sentBy: (c, u, a, l) => p.tombstones.sentBy(c, u, a, l),
        tombstone: die('tombstone', (c: string, m: number, u?: string) => p.tombstones.tombstone(c, m, u)),
      },
      userRows: {
        first: (u, l) => p.userRows.first(u, l),
        delete: die('rowDelete', (u, k) => p.userRows.delete(u, k)),
      },
      groups: { members: (g) => p.groups.members(g) },
      handover: {
        longestStandingMember: (g, e) => p.handover.longestStandingMember(g, e),
        transferOwnership: die('transferOwnership', (g, f, to) => p.handover.transferOwnership(g, f, to)),
        removeMember: die('removeMember', (g, u) => p.handover.removeMember(g, u)),
        deleteGroup: die('deleteGroup', (g, o) => p.handover.deleteGroup(g, o)),
      },
      accounts: {
        ...p.accounts,
        markDeletionDone: die('markDeletionDone', (u, x) => p.accounts.markDeletionDone(u, x)),
      },
      deviceTokens: {
        tokensOf: (u) => p.deviceTokens.tokensOf(u),
        unregister: die('unregister', (u, tok) => p.deviceTokens.unregister(u, tok)),
      },
      identity: { deleteUser: die('deleteUser', (u) => h.fakes.deleteUser(u)) },
      accountEvents: { publishAccountDeleted: die('publish', (d) => h.fakes.publishAccountDeleted(d)) },
    };
  }

  const small = { bob: 120, carol: 30, owned: 60, solo: 10, daves: 20 };

  /** Runs the queue with the ports; a page that throws is received again, as SQS does. Returns the crashes. */
  async function runWithRetries(ports: AccountDeletionPorts): Promise<number> {
    let crashed = 0;
    for (let i = 0; i < h.queue.queued.length; i++) {
      try {
        await runDeletionPage(ports, h.queue.queued[i]!);
      } catch {
        crashed++;
        i--;
      }
    }
    return crashed;
  }

  it.each(CRASH_POINTS.flatMap(([kind, n]) => [[kind, n, 'before'] as const, [kind, n, 'after'] as const]))(
    'crashing at %s #%i (%s it) and resuming does everything once',
    async (kind, n, when) => {
      const world = await aliceWithHistory(small);
      await acceptAccountDeletion({ ...t.runtime, jobs: h.queue }, 'alice');
      expect(await runWithRetries(dyingAt(kind, n, when))).toBe(1);
      await expectNothingOfAliceButTombstones(world);
      const notices = t.gateway
        .framesTo('carol-c')
        .filter(
          (f) => f.type === 'group_change_member_notify' && (f as { change_type?: string }).change_type === 'del',
        );
      expect(notices.length).toBeLessThanOrEqual(1);
    },
    60_000,
  );
});
