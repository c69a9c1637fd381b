/**
 * Account deletion (`account_delete`, and the operator's `delete-user`): the account is marked deleted at once (its
 * new connections are refused), its connections are kicked with `account_deleted`, and a job erases it a page at a
 * time (core/domain/account.ts): device tokens; then the user's Sessions partition, first row first — for each
 * conversation the user's messages become tombstones (100 messages read a page), a group is left (handed to its
 * longest-standing member when the user owns it, deleted when the user was its last member), and the session row
 * with its read mark is deleted; attachment references (their objects too), index entries and quota rows go 25 a
 * page; last the identity provider's user, the account's `deletion_done_at` and an `Account Deleted` event.
 *
 * Each page queues the next before it returns; the queue drops a page queued twice (FIFO deduplication by job and
 * page), and every step acts on what is stored now, so a page that crashed runs again and finishes the work, and no
 * work is done twice.
 */
import { SessionType } from '../domain/ids.js';
import {
  DELETION_MESSAGES_PER_PAGE,
  DELETION_ROWS_PER_PAGE,
  type DeletionJob,
  type DeletionStep,
} from '../domain/account.js';
import { logger } from '../observability.js';
import type {
  AccountEventPublisher,
  AccountStore,
  DeletionJobQueue,
  GroupHandoverStore,
  IdentityDirectory,
  UserRow,
  UserRowStore,
} from '../ports/accounts.js';
import type { DeviceTokenStore } from '../ports/push.js';
import type { GroupStore } from '../ports/stores.js';
import { kickUser, type KickUserPorts } from './account-status.js';
import { notifyUsers, type NotifyPorts } from './notify.js';
import { tombstoneMessage, type TombstonePorts } from './remove-message.js';
import { fitItems, REPLY_BUDGET_BYTES } from '../domain/reply-size.js';
import { REFERENCED_PREFIX, UPLOADS_PREFIX } from './attachments.js';

export interface AccountDeletionRequestPorts {
  readonly accounts: AccountStore;
  readonly jobs: DeletionJobQueue;
  readonly clock: { now(): number };
}

export interface AccountDeletionPorts extends NotifyPorts, TombstonePorts {
  readonly clock: { now(): number };
  readonly accounts: AccountStore;
  readonly jobs: DeletionJobQueue;
  readonly deviceTokens: Pick<DeviceTokenStore, 'tokensOf' | 'unregister'>;
  readonly userRows: UserRowStore;
  readonly groups: Pick<GroupStore, 'members'>;
  readonly handover: GroupHandoverStore;
  readonly identity: IdentityDirectory;
  readonly accountEvents: AccountEventPublisher;
}

/**
 * Marks the account deleted and queues the job's first page (again, when the account was deleted before: a request
 * whose first attempt died between the two must still start the job; the queue drops a first page queued twice).
 * The caller kicks the connections (`kickDeletedUser`) once it has answered the request.
 */
export async function acceptAccountDeletion(ports: AccountDeletionRequestPorts, userId: string): Promise<void> {
  await ports.accounts.markDeleted(userId, Math.floor(ports.clock.now() / 1000));
  await ports.jobs.enqueue({ userId, page: 0, step: 'devices' });
}

/** Every connection of the deleted user gets `kick` `account_deleted` and is closed. */
export function kickDeletedUser(ports: KickUserPorts, userId: string): Promise<number> {
  return kickUser(ports, userId, 'account_deleted');
}

/** Runs one page of a deletion job and queues the next; returns the next page (undefined after the last). */
export async function runDeletionPage(ports: AccountDeletionPorts, job: DeletionJob): Promise<DeletionJob | undefined> {
  const next = await PAGE_STEPS[job.step](ports, job);
  if (next) await ports.jobs.enqueue({ userId: job.userId, page: job.page + 1, ...next });
  return next && { userId: job.userId, page: job.page + 1, ...next };
}

type Next = { step: DeletionStep; cursor?: DeletionJob['cursor'] } | undefined;

const PAGE_STEPS: Record<DeletionStep, (ports: AccountDeletionPorts, job: DeletionJob) => Promise<Next>> = {
  devices: removeDeviceTokens,
  rows: eraseFirstRows,
  finish,
};

/** At most 10 tokens a user (the devices cap): one Query, two DeleteItems each. */
async function removeDeviceTokens(ports: AccountDeletionPorts, job: DeletionJob): Promise<Next> {
  const tokens = await ports.deviceTokens.tokensOf(job.userId);
  await Promise.all(tokens.map((t) => ports.deviceTokens.unregister(job.userId, t.token)));
  return { step: 'rows' };
}

/** The first rows left in the user's partition: a conversation's next page, or a batch of records. */
async function eraseFirstRows(ports: AccountDeletionPorts, job: DeletionJob): Promise<Next> {
  const rows = await ports.userRows.first(job.userId, DELETION_ROWS_PER_PAGE);
  const first = rows[0];
  if (!first) return { step: 'finish' };
  if (first.session) return eraseConversationPage(ports, job, first as Required<UserRow>);
  const records = rows.filter((r) => !r.session);
  await Promise.all(records.map((r) => deleteReferencedObject(ports, job.userId, r.sessionKey)));
  await ports.userRows.delete(
    job.userId,
    records.map((r) => r.sessionKey),
  );
  return { step: 'rows' };
}

/**
 * A page of the conversation's messages: the user's become tombstones. After its last page the user leaves the
 * group (a single chat has nothing to leave) and its session row goes.
 */
async function eraseConversationPage(
  ports: AccountDeletionPorts,
  job: DeletionJob,
  row: Required<UserRow>,
): Promise<Next> {
  const { conversationId, sessionType, sessionId } = row.session;
  const after = job.cursor?.sessionKey === row.sessionKey ? job.cursor.afterMsgId : 0;
  const page = await ports.tombstones.sentBy(conversationId, job.userId, after, DELETION_MESSAGES_PER_PAGE);
  for (const message of page.messages) await tombstoneMessage(ports, conversationId, message);
  if (page.more) return { step: 'rows', cursor: { sessionKey: row.sessionKey, afterMsgId: page.lastMsgId } };
  if (sessionType === SessionType.Group && !row.session.left) await leaveGroup(ports, job.userId, sessionId);
  await ports.userRows.delete(job.userId, [row.sessionKey]);
  return { step: 'rows' };
}

/**
 * The user leaves the group: an owner first hands it to the member who joined first (with that member's owned count,
 * in one transaction), or deletes it when no one else is in it. Each write is conditional, so a run after a crash
 * changes only what the first left undone. The members are told at most once: a crash between the removal and the
 * notice loses the notice (as any notice, it is not redelivered; group_info shows the change).
 */
async function leaveGroup(ports: AccountDeletionPorts, userId: string, groupId: string): Promise<void> {
  const heir = await ports.handover.longestStandingMember(groupId, userId);
  if (heir !== undefined) await ports.handover.transferOwnership(groupId, userId, heir);
  const left = await ports.handover.removeMember(groupId, userId);
  if (heir === undefined) {
    await ports.handover.deleteGroup(groupId, userId);
    return;
  }
  if (!left) return;
  const members = await ports.groups.members(groupId);
  const { fitted, rest } = fitItems(members, REPLY_BUDGET_BYTES / 2);
  await notifyUsers(ports, members, {
    type: 'group_change_member_notify',
    group_id: groupId,
    change_type: 'del',
    user_ids: [userId],
    cur_user_id_list: fitted,
    member_count: members.length,
    ...(rest.length > 0 ? { members_truncated: true } : {}),
  });
}

/** An attachment reference row (`a#<upload id>#<conversation>`): the object it names goes with it. */
async function deleteReferencedObject(ports: AccountDeletionPorts, userId: string, sessionKey: string): Promise<void> {
  const uploadId = /^a#([A-Za-z0-9_-]+)#/.exec(sessionKey)?.[1];
  if (uploadId === undefined || !ports.attachments) return;
  const path = `${Buffer.from(userId).toString('hex')}/${uploadId}`;
  await Promise.all([
    ports.attachments.delete(`${REFERENCED_PREFIX}${path}`),
    ports.attachments.delete(`${UPLOADS_PREFIX}${path}`),
  ]);
}

/**
 * The identity provider's user (AdminDeleteUser: deleting a deleted user is no error), the record of the end, then
 * the event (a failed publish runs the page again).
 */
async function finish(ports: AccountDeletionPorts, job: DeletionJob): Promise<Next> {
  await ports.identity.deleteUser(job.userId);
  const doneAt = await ports.accounts.markDeletionDone(job.userId, Math.floor(ports.clock.now() / 1000));
  // At least once, as EventBridge delivers: a page run again publishes the same detail, which consumers dedupe.
  await ports.accountEvents.publishAccountDeleted({ user_id: job.userId, deleted_at: doneAt });
  logger.info('account deleted', { userId: job.userId, pages: job.page + 1 });
  return undefined;
}
