/**
 * The tables' ports the use-cases run against: one interface per table or aggregate, implemented by one module each
 * in core/store (DynamoDB) on AWS, in local mode and in tests (on DynamoDB Local or mocked clients), or by hand-made
 * fakes. The push sender's stores are in ./push.ts, the attachment records in ./attachments.ts.
 */
import type { AttachmentRecordStore } from './attachments.js';
import type { Connection } from '../domain/connection.js';
import type { Group } from '../domain/group.js';
import type { IdempotencyKey } from '../domain/idempotency.js';
import type { MessageRecord, SideCounts, StoredMessage } from '../domain/message.js';
import type { NumberingResult, SentMessageRecord } from '../domain/numbering.js';
import type { DeliveryKey, DueItem, FanoutMarker, PendingDelivery, TokenExpiry } from '../domain/pending-delivery.js';
import type { ConversationHead, SessionIndexEntry, SessionRow } from '../domain/session.js';
import type { PresenceState } from '../domain/presence.js';
import type { PresenceStatus } from '../../protocol/frames.js';
import type { DeviceTokenStore, GroupMuteStore, ProviderTokenStore, PushThrottle } from './push.js';

export interface ConnectionStore {
  put(connection: Connection): Promise<void>;
  delete(userId: string, connectionId: string): Promise<void>;
  /** Deletes the row unless the connection started at or after `startedBeforeMs`; true when deleted or absent. */
  deleteIfStartedBefore(userId: string, connectionId: string, startedBeforeMs: number): Promise<boolean>;
  /** All live connections of a user at `nowMs` (rows past their TTL excluded): one strongly consistent Query. */
  listByUser(userId: string, nowMs: number): Promise<Connection[]>;
}

export interface ConversationStore {
  /**
   * Atomically takes the next msg_id (and counts the message for the sender's side in a single chat), unless the
   * idempotency key's tag is in the head's ring of recent sends: then nothing changes and the earlier numbering is
   * returned. One UpdateItem either way.
   */
  nextMsgId(input: {
    conversationId: string;
    senderSide: 'lo' | 'hi' | undefined;
    nowSeconds: number;
    key?: IdempotencyKey;
  }): Promise<NumberingResult>;
  /** Records that both users' session rows exist (single chat). */
  markSessionsCreated(conversationId: string): Promise<void>;
  /** Records that the members' index entries are written for `day`; never moves back. */
  markIndexed(conversationId: string, day: number): Promise<void>;
  get(conversationId: string): Promise<ConversationHead | undefined>;
  getMany(conversationIds: readonly string[]): Promise<Map<string, ConversationHead>>;
}

export interface MessageStore {
  /**
   * Stores a message; a msg_id is written once (conditional put), never overwritten. When the same send (sender,
   * client_msg_id, content) is there already — a retried put whose first response was lost, or a racing attempt —
   * returns what is stored (`fresh: false`); another message under that msg_id throws MessageAlreadyStoredError.
   */
  put(message: StoredMessage, counts: SideCounts): Promise<{ stored: MessageRecord; fresh: boolean }>;
  /** One message (eventually consistent, then strongly consistent when absent). */
  get(conversationId: string, msgId: number): Promise<MessageRecord | undefined>;
  /** A message read strongly consistently: after a write that may have raced. */
  getConsistent(conversationId: string, msgId: number): Promise<MessageRecord | undefined>;
  getMany(keys: readonly { conversationId: string; msgId: number }[]): Promise<MessageRecord[]>;
  /** Newest first, msg_id ≤ beforeOrAt when it is not 0. */
  listBefore(conversationId: string, beforeOrAt: number, limit: number): Promise<MessageRecord[]>;
}

export interface SessionStore {
  /** Creates the user's session row for a peer or group unless it exists. */
  ensure(session: {
    userId: string;
    sessionType: number;
    sessionId: string;
    conversationId: string;
    createdTime: number;
  }): Promise<void>;
  get(userId: string, sessionType: number, sessionId: string): Promise<SessionRow | undefined>;
  getMany(keys: readonly { userId: string; sessionType: number; sessionId: string }[]): Promise<SessionRow[]>;
  /** Session rows of one type, a page at a time (`after` = the last session id of the previous page). */
  listByType(
    userId: string,
    sessionType: number,
    page: { after?: string; limit: number },
  ): Promise<{ rows: SessionRow[]; more: boolean }>;
  markRead(
    row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>,
    msgId: number,
    peerCount: number,
  ): Promise<boolean>;
  putMany(rows: readonly Omit<SessionRow, 'readPeerCount' | 'hiddenAtMsgId'>[]): Promise<void>;
  deleteMany(rows: readonly Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>[]): Promise<void>;
  /**
   * Records that the users left the group (SK `l#<group id>`, core/store/user-rows.ts): the group's messages they
   * sent stay theirs, and deleting an account tombstones them too.
   */
  recordLeftGroup(userIds: readonly string[], groupId: string, conversationId: string): Promise<void>;
  hide(row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>, atMsgId: number): Promise<void>;
  /** Writes index entries for `day` and removes each user's entry of `previousDay` (when given and older). */
  index(entries: readonly Omit<SessionIndexEntry, 'day'>[], day: number, previousDay: number): Promise<void>;
  /** Removes index entries (a member leaving a group). */
  unindex(entries: readonly SessionIndexEntry[]): Promise<void>;
  /**
   * The user's index entries from `toDay` (default: the newest) down to `fromDay`, whole days only, until at least
   * `limit` entries are read (a day's entries are ordered by session, not time, so a day is read entirely); `more`
   * when older days remain.
   */
  listIndex(
    userId: string,
    options: { fromDay: number; toDay?: number; limit: number },
  ): Promise<{ entries: SessionIndexEntry[]; more: boolean }>;
}

/** Per-user counts the limits are checked against, changed atomically. */
export interface UserQuotaStore {
  /** Counts one more owned group unless the user owns `max` already; false then. */
  reserveOwnedGroup(userId: string, max: number): Promise<boolean>;
  releaseOwnedGroup(userId: string): Promise<void>;
  /**
   * Counts one more joined group for each user unless one of them is at `max`: then nothing is counted and the users
   * at the cap are returned.
   */
  reserveJoinedGroups(userIds: readonly string[], max: number): Promise<{ refused: string[] }>;
  releaseJoinedGroups(userIds: readonly string[]): Promise<void>;
}

export interface PendingStore {
  /** Records fresh deliveries (BatchWriteItem; a row already there is overwritten). */
  putMany(deliveries: readonly PendingDelivery[]): Promise<void>;
  /**
   * Records a delivery unless one is there; false when it was (a resumed fan-out must not reset its count). A late
   * delivery (not in its message's minute) also leaves a pointer where a delivery made at once would be.
   */
  putIfAbsent(delivery: PendingDelivery): Promise<boolean>;
  /** Removes the pending delivery of that connection (at most two DeleteItems, no search); returns it when one was there. */
  delete(key: DeliveryKey & { createTime: number }): Promise<PendingDelivery | undefined>;
  /**
   * Due items (nextDueAt ≤ now) of the slots that can still hold live ones, a page at a time, oldest slot first.
   */
  listDue(nowMs: number, pageSize: number): AsyncGenerator<DueItem[]>;
  /** Records one more delivery; false when the row is gone (acked or cleaned meanwhile). */
  recordAttempt(delivery: PendingDelivery, attempts: number, nextDueAt: number): Promise<boolean>;
  /** Removes a due item (a delivery given up, a finished marker, a handled expiry). */
  remove(item: DueItem): Promise<void>;
  /** Removes every pending delivery of a connection (it is gone). Returns how many. */
  deleteByConnection(connectionId: string, nowMs: number): Promise<number>;
  putMarker(marker: FanoutMarker): Promise<void>;
  /** Pushes a marker's due time on after a resumption that did not finish. */
  rescheduleMarker(marker: FanoutMarker, nextDueAt: number): Promise<void>;
  putExpiry(expiry: TokenExpiry): Promise<void>;
}

/**
 * msg_data per second and their receivers (member deliveries) per second; other writing requests per second; reads
 * per second; group members changed per minute; receivers of typing frames per second; presence subscription rows
 * changed per minute.
 */
export type RateBudget = 'msg' | 'deliveries' | 'write' | 'read' | 'members' | 'reports' | 'typing' | 'subscriptions';

export interface RateLimiter {
  /** Counts `weight` (default 1) against the user's budget for the current window; false when over the limit. */
  tryAcquire(
    budget: Exclude<RateBudget, 'deliveries'>,
    userId: string,
    nowMs: number,
    weight?: number,
  ): Promise<boolean>;
  /**
   * Counts one msg_data and its receivers against the user's `msg` and `deliveries` budgets of the current second, in
   * one conditional write. Returns the budget that refused it (nothing is counted then), or undefined.
   */
  acquireSend(userId: string, nowMs: number, receivers: number): Promise<'msg' | 'deliveries' | undefined>;
}

export interface PresenceStore {
  /**
   * Adds a connection to the user's set unless the set holds `max` already; then nothing changes and false is
   * returned.
   */
  add(userId: string, connectionId: string, max: number): Promise<PresenceState | false>;
  /** Takes the connection out of the user's set (and out of its away set); returns the item as it now is. */
  remove(userId: string, connectionId: string): Promise<PresenceState>;
  /** Marks an open connection of the user away (or not); returns the item as it now is. */
  setAway(userId: string, connectionId: string, away: boolean): Promise<PresenceState>;
  /** The user's item, strongly consistent. */
  stateOf(userId: string): Promise<PresenceState>;
  /** The items of these users (users with none are absent): a BatchGetItem per 100 users. */
  statesOf(userIds: readonly string[]): Promise<Map<string, PresenceState>>;
  /** Moves the announced status from `from` to `to`; false when it was not `from` (another check won). */
  markAnnounced(userId: string, from: PresenceStatus, to: PresenceStatus): Promise<boolean>;
  /** Connection ids by user (users with none are absent): a BatchGetItem per 100 users. */
  connectionsOf(userIds: readonly string[]): Promise<Map<string, string[]>>;
}

export interface GroupStore {
  create(group: Group): Promise<void>;
  get(groupId: string): Promise<Group | undefined>;
  getMany(groupIds: readonly string[]): Promise<Group[]>;
  isMember(groupId: string, userId: string): Promise<boolean>;
  /** The group's member count (eventually consistent: it may lag a change by a moment); 0 for no group. */
  memberCount(groupId: string): Promise<number>;
  members(groupId: string): Promise<string[]>;
  /** Counts `n` more members unless the group would exceed `max`; false then, and nothing changes. */
  reserveMembers(groupId: string, n: number, max: number): Promise<boolean>;
  /** Gives back member counts reserved but not used (members that were there already, or a failed change). */
  releaseMembers(groupId: string, n: number): Promise<void>;
  /** Adds members that are not members yet; returns those added. */
  addMembers(groupId: string, userIds: readonly string[], joinedTime: number): Promise<string[]>;
  /** Removes members; returns those that were members. */
  removeMembers(groupId: string, userIds: readonly string[]): Promise<string[]>;
}

export interface SentMessageStore {
  /**
   * Claims the idempotency key for this numbering. When the key is taken already, returns the record that holds it
   * (conditional put with ReturnValuesOnConditionCheckFailure ALL_OLD: no read first).
   */
  claim(
    key: IdempotencyKey,
    record: SentMessageRecord,
  ): Promise<{ claimed: true } | { claimed: false; existing: SentMessageRecord }>;
}

/** Every table's store, as a handler runtime (core/runtime.ts) holds them; a use-case's ports name the ones it uses. */
/** What a `user_block` did: a new block, one that was there already, or none because the blocker is at the cap. */
export type BlockOutcome = 'blocked' | 'already' | 'limit';

/**
 * Blocks (core/store/blocks.ts): who blocks whom, written with the pair's conversation head so that one-to-one sends
 * are refused by the numbering update itself. The reads are the ones later features reuse (presence, typing).
 */
export interface BlockStore {
  /** `blocker` blocks `blocked`, unless it does already or blocks `max` users. */
  block(blocker: string, blocked: string, max: number): Promise<BlockOutcome>;
  /** Lifts the block; false when there was none (nothing changed). */
  unblock(blocker: string, blocked: string): Promise<boolean>;
  /** A page of the users `blocker` blocks, in user id order after `after`; `more` when the page was full. */
  list(blocker: string, after: string | undefined, limit: number): Promise<{ userIds: string[]; more: boolean }>;
  /** Whether either user blocks the other: one strongly consistent GetItem of the pair's head. */
  isBlockedEitherWay(a: string, b: string): Promise<boolean>;
  /** The one-to-one conversations (ids) among these whose pair is blocked either way: one BatchGetItem per 100. */
  blockedConversations(conversationIds: readonly string[]): Promise<Set<string>>;
  /** The candidates who block `userId`: one Query of its reverse index, or (blocked by more) one read per candidate. */
  blockersAmong(userId: string, candidates: readonly string[]): Promise<Set<string>>;
  /** The others whom `userId` blocks: one BatchGetItem per 100. */
  blockedAmong(userId: string, others: readonly string[]): Promise<Set<string>>;
}

export interface Stores {
  readonly connections: ConnectionStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly sessions: SessionStore;
  readonly quotas: UserQuotaStore;
  readonly attachmentRecords: AttachmentRecordStore;
  readonly pending: PendingStore;
  readonly rateLimits: RateLimiter;
  readonly presence: PresenceStore;
  readonly groups: GroupStore;
  readonly sentMessages: SentMessageStore;
  readonly deviceTokens: DeviceTokenStore;
  readonly groupMutes: GroupMuteStore;
  /** The APNs provider token the push sender's instances share. */
  readonly providerTokens: ProviderTokenStore;
  readonly pushThrottle: PushThrottle;
  readonly blocks: BlockStore;
}
