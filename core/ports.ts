/**
 * The ports the use-cases run against. DynamoDB modules in core/store and the @connections adapter in
 * core/gateway implement them on AWS and in local mode; tests use the same modules on DynamoDB Local or on mocked
 * clients, or hand-made fakes.
 */
import type { Connection } from './domain/connection.js';
import type { ServerFrame } from './domain/frames.js';
import type { MessageRecord, SideCounts, StoredMessage } from './domain/message.js';
import type { Group } from './domain/group.js';
import type { DeviceToken, UndeliveredMessageDetail } from './domain/push.js';
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
}

export interface ConnectionStore {
  put(connection: Connection): Promise<void>;
  delete(userId: string, connectionId: string): Promise<void>;
  /** Deletes the row unless the connection started at or after `startedBeforeMs`; true when deleted or absent. */
  deleteIfStartedBefore(userId: string, connectionId: string, startedBeforeMs: number): Promise<boolean>;
  /** All live connections of a user at `nowMs` (rows past their TTL excluded): one strongly consistent Query. */
  listByUser(userId: string, nowMs: number): Promise<Connection[]>;
}

/** The counter head of a conversation after taking a msg_id. */
export interface CounterResult {
  readonly msgId: number;
  /** Messages sent so far by the lower and the higher user id of a single conversation. */
  readonly sentLo: number;
  readonly sentHi: number;
  /** Whether both users' session rows are known to exist. */
  readonly sessionsCreated: boolean;
}

export interface ConversationStore {
  /** Atomically takes the next msg_id (ADD 1) and counts the message for the sender's side (single chat). */
  nextMsgId(conversationId: string, senderSide: 'lo' | 'hi' | undefined, nowSeconds: number): Promise<CounterResult>;
  markSessionsCreated(conversationId: string): Promise<void>;
  get(conversationId: string): Promise<ConversationHead | undefined>;
  getMany(conversationIds: readonly string[]): Promise<Map<string, ConversationHead>>;
}

export interface MessageStore {
  /**
   * Stores a message; a msg_id is written once (conditional put), never overwritten. 'duplicate' when the very same
   * message is there already (a retried put whose first response was lost, or a racing resend stored it); another
   * message under that msg_id throws MessageAlreadyStoredError.
   */
  put(message: StoredMessage, counts: { sentLo: number; sentHi: number }): Promise<'stored' | 'duplicate'>;
  get(conversationId: string, msgId: number): Promise<MessageRecord | undefined>;
  getMany(keys: readonly { conversationId: string; msgId: number }[]): Promise<MessageRecord[]>;
  /** Newest first, msg_id ≤ beforeOrAt when it is not 0. */
  listBefore(conversationId: string, beforeOrAt: number, limit: number): Promise<MessageRecord[]>;
}

export interface SessionStore {
  /** Creates the user's session row for a peer or group unless it exists. */
  ensure(session: { userId: string; sessionType: number; sessionId: string; conversationId: string; createdTime: number }): Promise<void>;
  get(userId: string, sessionType: number, sessionId: string): Promise<SessionRow | undefined>;
  listByUser(userId: string): Promise<SessionRow[]>;
  markRead(row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>, msgId: number, peerCount: number): Promise<boolean>;
  putMany(rows: readonly Omit<SessionRow, 'readPeerCount' | 'hiddenAtMsgId'>[]): Promise<void>;
  deleteMany(rows: readonly Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>[]): Promise<void>;
  hide(row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>, atMsgId: number): Promise<void>;
}

/** One delivery of one message to one connection, waiting for msg_data_ack. */
export interface PendingDelivery {
  readonly connectionId: string;
  readonly userId: string;
  readonly conversationId: string;
  readonly msgId: number;
  /** create_time of the message (unix seconds): it fixes the slot the row lives in. */
  readonly createTime: number;
  /** Deliveries made so far, the first included. */
  readonly attempts: number;
  /** Unix ms when the delivery counts as overdue. */
  readonly nextDueAt: number;
}

export interface PendingStore {
  put(delivery: PendingDelivery): Promise<void>;
  /** Removes the pending delivery of that connection; returns it when one was there. */
  delete(key: { connectionId: string; conversationId: string; msgId: number; createTime: number }): Promise<PendingDelivery | undefined>;
  /** Overdue rows (nextDueAt ≤ now) in the slots that can still hold live deliveries. */
  listOverdue(nowMs: number): Promise<PendingDelivery[]>;
  /** Records one more delivery; false when the row is gone (acked or cleaned meanwhile). */
  recordAttempt(delivery: PendingDelivery, attempts: number, nextDueAt: number): Promise<boolean>;
  /** Removes every pending delivery of a connection (it is gone). Returns how many. */
  deleteByConnection(connectionId: string, nowMs: number): Promise<number>;
}

export interface RateLimiter {
  /** Counts one message for the connection in the current second; false when over the limit. */
  tryAcquire(connectionId: string, nowMs: number): Promise<boolean>;
}

export interface PresenceStore {
  add(userId: string, connectionId: string): Promise<void>;
  remove(userId: string, connectionId: string): Promise<void>;
  /** Connection ids by user (users with none are absent): a BatchGetItem per 100 users. */
  connectionsOf(userIds: readonly string[]): Promise<Map<string, string[]>>;
}

export interface GroupStore {
  create(group: Group): Promise<void>;
  get(groupId: string): Promise<Group | undefined>;
  getMany(groupIds: readonly string[]): Promise<Group[]>;
  isMember(groupId: string, userId: string): Promise<boolean>;
  members(groupId: string): Promise<string[]>;
  addMembers(groupId: string, userIds: readonly string[], joinedTime: number): Promise<void>;
  removeMembers(groupId: string, userIds: readonly string[]): Promise<void>;
}

/** Where a send with a client_msg_id was numbered: enough to store it, or to ack it again. */
export interface SentMessageRecord {
  readonly conversationId: string;
  readonly msgId: number;
  readonly createTime: number;
  readonly counts: SideCounts;
}

export interface SentMessageStore {
  /**
   * The record of (sender, client_msg_id). An eventually consistent read is enough for the look-up before numbering
   * (the conditional claim settles races); after a lost claim it must be strongly consistent.
   */
  get(senderId: string, clientMsgId: string, nowSeconds: number, consistent: boolean): Promise<SentMessageRecord | undefined>;
  /** Claims (sender, client_msg_id) for this msg_id; false when another send holds it. */
  claim(senderId: string, clientMsgId: string, record: SentMessageRecord): Promise<boolean>;
}

export interface DeviceTokenStore {
  register(userId: string, token: DeviceToken, nowMs: number): Promise<void>;
  /** Tokens by user (users without any are absent): a BatchGetItem per 100 users. */
  tokensOf(userIds: readonly string[]): Promise<Map<string, DeviceToken[]>>;
}

/** Publishes undelivered-message events (the offline push hook); best effort, never throws. */
export interface EventPublisher {
  publishUndelivered(details: readonly UndeliveredMessageDetail[]): Promise<void>;
}

export interface Stores {
  readonly connections: ConnectionStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly sessions: SessionStore;
  readonly pending: PendingStore;
  readonly rateLimits: RateLimiter;
  readonly presence: PresenceStore;
  readonly groups: GroupStore;
  readonly sentMessages: SentMessageStore;
  readonly deviceTokens: DeviceTokenStore;
}
