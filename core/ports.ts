/**
 * The ports the use-cases run against. DynamoDB modules in core/store and the @connections adapter in
 * core/gateway implement them on AWS and in local mode; tests use the same modules on DynamoDB Local or on mocked
 * clients, or hand-made fakes.
 */
import type { Connection } from './domain/connection.js';
import type { ServerFrame } from './domain/frames.js';
import type { Group } from './domain/group.js';
import type { IdempotencyKey } from './domain/idempotency.js';
import type { MessageRecord, SideCounts, StoredMessage } from './domain/message.js';
import type { DeviceToken, DeviceTokenChallengeDetail, UndeliveredMessageDetail } from './domain/push.js';
import type { ProviderTokenStore } from './push/apns.js';
import type { ConversationHead, SessionRow } from './domain/session.js';

export interface Clock {
  /** Unix ms. */
  now(): number;
}

/** Outcome of posting one frame to one connection. */
export type PostResult = 'delivered' | 'gone';

export interface Gateway {
  /**
   * Posts a frame to a connection: 'gone' for a closed connection (410). Throttling (429) and timeouts are retried
   * with backoff inside; when those retries run out it throws GatewayUnavailableError and the caller keeps the
   * delivery pending.
   */
  post(connectionId: string, frame: ServerFrame): Promise<PostResult>;
  /** Closes a connection (DELETE @connections); a connection already gone is not an error. */
  disconnect(connectionId: string): Promise<void>;
}

export interface ConnectionStore {
  put(connection: Connection): Promise<void>;
  delete(userId: string, connectionId: string): Promise<void>;
  /** Deletes the row unless the connection started at or after `startedBeforeMs`; true when deleted or absent. */
  deleteIfStartedBefore(userId: string, connectionId: string, startedBeforeMs: number): Promise<boolean>;
  /** All live connections of a user at `nowMs` (rows past their TTL excluded): one strongly consistent Query. */
  listByUser(userId: string, nowMs: number): Promise<Connection[]>;
}

/** The numbers a message takes on its conversation head. */
export interface CounterResult extends SideCounts {
  readonly msgId: number;
  /** Whether both users' session rows are known to exist (single chat). */
  readonly sessionsCreated: boolean;
  /** The activity day (unix day) the members' session index entries were last written for; 0 = never. */
  readonly indexedDay: number;
}

/** What the head's ring remembers of a send numbered recently: enough to store it or to ack it again. */
export interface RingEntry extends SideCounts {
  readonly msgId: number;
  readonly createTime: number;
}

export type NumberingResult =
  | { readonly kind: 'numbered'; readonly counter: CounterResult }
  /** The same idempotency key took a msg_id moments ago (a racing duplicate or a prompt resend): none is taken. */
  | { readonly kind: 'seen'; readonly previous: RingEntry };

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

/** A user's entry in the session index: the conversation was active on `day` (unix day). */
export interface SessionIndexEntry {
  readonly userId: string;
  readonly sessionType: number;
  readonly sessionId: string;
  readonly conversationId: string;
  readonly day: number;
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

/** A stretch of time the attachment byte quota counts over: for ever, or a window (then the row expires). */
export interface QuotaPeriod {
  readonly id: string;
  /** Unix seconds after which the period's count is no longer needed (DynamoDB TTL). */
  readonly expiresAt?: number;
}

/** Attachments' references and byte quota, in the uploader's records (core/store/attachment-records.ts). */
export interface AttachmentRecordStore {
  /** Counts `bytes` more stored by the user in the period unless that passes `max`; false then, and nothing counted. */
  reserveBytes(userId: string, period: QuotaPeriod, bytes: number, max: number): Promise<boolean>;
  /** Gives back bytes reserved and not stored (the send was refused, or another reference stored the object first). */
  releaseBytes(userId: string, period: QuotaPeriod, bytes: number): Promise<void>;
  /** Records that a message of the conversation references the upload; `expiresAt` (unix seconds) with a retention. */
  putReference(
    uploaderId: string,
    uploadId: string,
    conversationId: string,
    expiresAt: number | undefined,
  ): Promise<void>;
  /** Whether a message of the conversation references the upload, at `nowSeconds`. */
  isReferenced(uploaderId: string, uploadId: string, conversationId: string, nowSeconds: number): Promise<boolean>;
}

/** A row as the sweeper read it. */
export interface StoredRow {
  /**
   * The partition the row was read from (`<minute>#<shard>`): where it is even when `pendingShards` changed after it
   * was written, so the sweeper updates and removes the row itself, not an empty key. Absent on rows not read back.
   */
  readonly storedSlot?: string;
}

/** One delivery of one message to one connection, waiting for msg_data_ack. */
export interface PendingDelivery extends StoredRow {
  readonly kind: 'delivery';
  readonly connectionId: string;
  readonly userId: string;
  readonly conversationId: string;
  readonly msgId: number;
  /** create_time of the message (unix seconds). */
  readonly createTime: number;
  /** Unix seconds fixing the row's slot: the create_time for a delivery made at once, else the delivery's time. */
  readonly slotTime: number;
  /** Deliveries made so far, the first included. */
  readonly attempts: number;
  /** Unix ms when the delivery counts as overdue. */
  readonly nextDueAt: number;
}

/** A fan-out in progress: removed when it completes; when it comes due, the sweeper resumes the fan-out. */
export interface FanoutMarker extends StoredRow {
  readonly kind: 'fanout';
  readonly conversationId: string;
  readonly msgId: number;
  /** The sending connection, which got the ack and not the message. */
  readonly exceptConnectionId?: string;
  readonly slotTime: number;
  /** Resumptions so far; the sweeper gives up after the delivery bound. */
  readonly attempts: number;
  readonly nextDueAt: number;
}

/** A connection whose token expires at `nextDueAt`: the sweeper kicks it then. */
export interface TokenExpiry extends StoredRow {
  readonly kind: 'expiry';
  readonly connectionId: string;
  readonly userId: string;
  readonly slotTime: number;
  readonly nextDueAt: number;
}

/** Anything the sweeper acts on when it comes due. */
export type DueItem = PendingDelivery | FanoutMarker | TokenExpiry;

export interface DeliveryKey {
  readonly connectionId: string;
  readonly conversationId: string;
  readonly msgId: number;
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
 * per second; group members changed per minute.
 */
export type RateBudget = 'msg' | 'deliveries' | 'write' | 'read' | 'members';

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
  add(userId: string, connectionId: string, max: number): Promise<boolean>;
  remove(userId: string, connectionId: string): Promise<void>;
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

/** Where a send with a client_msg_id was numbered: enough to store it, or to ack it again. */
export interface SentMessageRecord extends RingEntry {
  readonly contentHash: string;
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

export interface DeviceTokenStore {
  /**
   * Registers a token for the user (keeping the user's `max` newest) unless another user holds it: then nothing
   * changes and the holder is returned.
   */
  register(userId: string, token: DeviceToken, nowMs: number, max: number): Promise<{ readonly heldBy?: string }>;
  /**
   * Opens a challenge on a held token: its code's hash, for `ttlMs`, unless a challenge is open already (false then:
   * one push to the device per challenge). The platform is the registrant's.
   */
  openChallenge(token: DeviceToken, codeHash: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /**
   * Gives the token to the user when `codeHash` is its open challenge's, closing the challenge; the holder it had and
   * the platform, or undefined when the code is not the open one (nothing changes).
   */
  answerChallenge(
    userId: string,
    token: string,
    codeHash: string,
    nowMs: number,
    max: number,
  ): Promise<{ readonly previousOwner: string; readonly platform: string } | undefined>;
  /** Unregisters a token of the user (another user's token is left alone). */
  unregister(userId: string, token: string): Promise<void>;
  /** The user's tokens. */
  tokensOf(userId: string): Promise<DeviceToken[]>;
}

/** The push flood bounds (core/store/push-throttle.ts): a window per receiver and conversation, a budget per sender. */
export interface PushThrottle {
  /**
   * Claims the receiver's push window of a conversation for `windowMs`; false when a push of it (another message's)
   * went out less than a window ago. The same message may claim again (a redelivered event).
   */
  claimWindow(receiver: string, collapseId: string, msgId: number, nowMs: number, windowMs: number): Promise<boolean>;
  /** Takes up to `wanted` receivers from the sender's budget of `limit` this minute; returns how many it got. */
  takeBudget(sender: string, wanted: number, nowMs: number, limit: number): Promise<number>;
}

/** Publishes undelivered-message events (the offline push hook); throws EventsUnavailableError when some were not. */
export interface EventPublisher {
  publishUndelivered(details: readonly UndeliveredMessageDetail[]): Promise<void>;
}

/** Publishes device-token challenges (a push to one token, core/domain/push.ts) on the push hook's bus. */
export interface ChallengePublisher {
  publishChallenge(detail: DeviceTokenChallengeDetail): Promise<void>;
}

/** Per-member push mutes of groups (TeamTalk's group shield status). */
export interface GroupMuteStore {
  /** Mutes or unmutes a group's pushes for a member; false (and nothing written) when the user is no member. */
  setMuted(groupId: string, userId: string, muted: boolean): Promise<boolean>;
  /** The users among `userIds` who muted the group's pushes. */
  mutedAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>>;
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
}
