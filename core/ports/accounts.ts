/**
 * What the account lifecycle (core/usecases/account-status.ts, remove-message.ts, account-deletion.ts) needs: the
 * account status, tombstones on the Messages table, a walk over a user's rows, group hand-over, the deletion job's
 * queue, the identity provider and the bus the job announces its end on.
 */
import type { DeletionJob } from '../domain/account.js';

/** `active` is the absence of a row: the connect path reads one item and most users have none. */
export type AccountStatus = 'active' | 'suspended' | 'deleted';

export interface AccountStore {
  /** One strongly consistent GetItem: a suspension is seen by the next $connect. */
  status(userId: string): Promise<AccountStatus>;
  /** Suspends unless deleted; false when the account is deleted (a deletion is never lifted). */
  suspend(userId: string, nowSeconds: number): Promise<boolean>;
  /** Lifts a suspension; false when the account was not suspended (active, or deleted). */
  unsuspend(userId: string): Promise<boolean>;
  /** Marks the account deleted; false when it was deleted already (the job was started before). */
  markDeleted(userId: string, nowSeconds: number): Promise<boolean>;
  /** Records that the deletion job has finished; returns when it first did (the same for a page run again). */
  markDeletionDone(userId: string, nowSeconds: number): Promise<number>;
}

/** A stored message as the deletion job and remove-message see it. */
export interface MessageContent {
  readonly msgId: number;
  readonly fromUserId: string;
  readonly msgData: string;
  readonly deleted: boolean;
}

/** Tombstones on the Messages table (core/store/tombstones.ts). */
export interface TombstoneStore {
  /** One message, strongly consistent; undefined when none is stored under the msg_id. */
  get(conversationId: string, msgId: number): Promise<MessageContent | undefined>;
  /**
   * Erases the message's content (`msg_data` empty, `deleted` true), keeping its msg_id, sender, type and time;
   * only when `fromUserId` sent it, if given. False when nothing changed (absent, another sender's, a tombstone).
   */
  tombstone(conversationId: string, msgId: number, fromUserId?: string): Promise<boolean>;
  /**
   * The next page of the conversation after `afterMsgId` in msg_id order (at most `limit` messages read), with the
   * ones `fromUserId` sent that are not tombstones yet; `lastMsgId` is the last msg_id read (0: none).
   */
  sentBy(
    conversationId: string,
    fromUserId: string,
    afterMsgId: number,
    limit: number,
  ): Promise<{ messages: MessageContent[]; lastMsgId: number; more: boolean }>;
}

/** A row of the user's Sessions partition, as the deletion job walks it. */
export interface UserRow {
  readonly sessionKey: string;
  /** Set on session rows (SK `<type>#<session id>`) and groups left (`l#<group id>`): conversations of the user. */
  readonly session?: {
    readonly sessionType: number;
    readonly sessionId: string;
    readonly conversationId: string;
    /** A group the user left earlier: its messages are tombstoned, there is no membership to end. */
    readonly left?: true;
  };
}

/** The user's Sessions partition as a list to empty (core/store/user-rows.ts). */
export interface UserRowStore {
  /** The first rows of the partition in sort key order (at most `limit`). */
  first(userId: string, limit: number): Promise<UserRow[]>;
  delete(userId: string, sessionKeys: readonly string[]): Promise<void>;
}

/** Who owns a group after its owner leaves (core/store/group-handover.ts). */
export interface GroupHandoverStore {
  /** The member who joined first (then the smallest user id), other than `except`; undefined when none. */
  longestStandingMember(groupId: string, except: string): Promise<string | undefined>;
  /** Makes `to` the owner if `from` still is, counting the group among `to`'s owned; false when `from` was not. */
  transferOwnership(groupId: string, from: string, to: string): Promise<boolean>;
  /** Removes the member and takes one from the group's count, together; false when it was no member (or no group). */
  removeMember(groupId: string, userId: string): Promise<boolean>;
  /** Deletes the group item if `ownerId` owns it. */
  deleteGroup(groupId: string, ownerId: string): Promise<void>;
}

/** Where the pages of deletion jobs are queued (SQS FIFO on AWS, in process locally). */
export interface DeletionJobQueue {
  /** Queues a page; the same page of the same job queued twice runs once (deduplicated by job and page). */
  enqueue(job: DeletionJob): Promise<void>;
}

/** The identity provider's user directory, when the stack owns it (Cognito AdminDeleteUser); a no-op otherwise. */
export interface IdentityDirectory {
  /** Deletes the user; a user that is not there is not an error. */
  deleteUser(userId: string): Promise<void>;
}

/** The end of an account deletion, announced on the construct's event bus. */
export interface AccountEventPublisher {
  publishAccountDeleted(detail: { readonly user_id: string; readonly deleted_at: number }): Promise<void>;
}
