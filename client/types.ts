/**
 * The public shapes of ChatClient: its options, the inputs of its methods, its events and their payloads. Wire
 * types come from protocol/ (through frames.ts); these are the SDK's own.
 */
import type { BackoffOptions, ReconnectOptions } from './backoff.js';
import type { ConnectionState, NetworkEvents } from './connection.js';
import type { Conversation } from './conversation.js';
import type { Deadline } from './deadline.js';
import type { ChatServerError } from './errors.js';
import type {
  AccountExportReadyFrame,
  GroupChangeMemberNotifyFrame,
  GroupChangeType,
  KickFrame,
  MsgDataAckFrame,
  MsgDataFrame,
  MsgEditedFrame,
  MsgReadNotifyFrame,
  MsgRecalledFrame,
  RemoveSessionNotifyFrame,
  ServerFrame,
  UnreadInfo,
  UserStat,
} from './frames.js';
import type { WebSocketConstructor } from './socket.js';
import type { CatchUpOptions, MessageSource, SyncResult, SyncState } from './sync.js';
import type { TypingChange, TypingOptions } from './typing.js';

export interface ChatClientOptions {
  /** The WebSocket URL: the API Gateway stage URL, or `ws://127.0.0.1:8787` locally. */
  readonly url: string;
  /** A fixed JWT. Give either `token` or `getToken`. */
  readonly token?: string;
  /**
   * Returns a JWT; called before every connection attempt, so an expired token is replaced on reconnect (and at once
   * when the server ends a connection whose token expired). Throwing an {@link AuthError} stops the client; any
   * other error is reported and retried with backoff.
   */
  readonly getToken?: () => Promise<string> | string;
  /** TeamTalk's ClientType, sent as `client_type` (1 windows, 2 mac, 17 ios, 18 android). */
  readonly clientType?: number;
  /** The WebSocket constructor. @default globalThis.WebSocket (in Node 20 pass `WebSocket` from the `ws` package) */
  readonly WebSocket?: WebSocketConstructor;
  /** How long a transmitted message waits for its `msg_data_ack` before the connection is checked, in ms. @default 10_000 */
  readonly ackTimeoutMs?: number;
  /**
   * Transmissions of one message after which `send()` rejects, whatever made it go again (`rate_limited` or
   * `internal`, an overdue ack, a reconnect before the ack): with the last refusal ({@link ChatServerError}), or
   * {@link SendTimeoutError} when no answer came. The message may still be stored: a send with the same
   * `clientMsgId` stores it once. Time waiting for a connection is not counted.
   * @default 10
   */
  readonly maxSendAttempts?: number;
  /** Backoff of resends after `rate_limited` or `internal`. @default { initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitter: 0.5 } */
  readonly sendRetry?: BackoffOptions;
  /** The server's per-user rates the client paces itself to (docs/protocol.md "Limits"). @default LIMIT_DEFAULTS */
  readonly rateLimits?: {
    readonly rateLimitPerSecond?: number;
    readonly writeRateLimitPerSecond?: number;
    readonly readRateLimitPerSecond?: number;
  };
  /** How long delivery acks of one conversation are gathered into one frame, in ms; 0 acks each at once. @default 5_000 (a third of the server's 15 s ack timeout) */
  readonly ackBatchMs?: number;
  /** How long a `request()` waits for its reply, counted from the call, in ms. @default 15_000 */
  readonly requestTimeoutMs?: number;
  /**
   * Heartbeat period while open, in ms; 0 turns the periodic heartbeat off (an overdue ack or reply still sends one).
   * @default 300_000 (5 min, half API Gateway's idle timeout)
   */
  readonly heartbeatIntervalMs?: number;
  /** How long a heartbeat may go unanswered before the connection counts as dead and is reopened, in ms. @default 10_000 */
  readonly pingTimeoutMs?: number;
  /** How long a connection attempt may take to open before it is abandoned and retried, in ms. @default 15_000 */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff on an unexpected close; `false` disables reconnecting. @default DEFAULT_RECONNECT */
  readonly reconnect?: ReconnectOptions | false;
  /** How long reconnecting may fail before the state is `suspended` (retries go on), in ms. @default 120_000 */
  readonly suspendAfterMs?: number;
  /**
   * Where the platform reports `online` (then a waiting reconnect starts at once); `false` listens to nothing.
   * @default globalThis when it has addEventListener (browsers); in React Native call `reconnectNow()` from NetInfo
   */
  readonly networkEvents?: NetworkEvents | false;
  /** How many (conversation, msg_id) pairs are remembered to drop redelivered messages. @default 10_000 */
  readonly dedupeCapacity?: number;
  /**
   * Catch-up on every (re)connect (default on): missed messages are fetched with `recent_sessions` and `msg_list` and
   * delivered through the `message` event with `live: false`. `false` turns it off; `sync()` still runs one. Needs
   * the user id, read from the token's `sub`.
   */
  readonly catchUp?: boolean | CatchUpOptions;
  /**
   * What the application already holds, from an earlier `getSyncState()` (e.g. kept in localStorage), so that a
   * restarted client fetches only what is newer. Without it the client is a new device: its first catch-up fetches
   * at most `catchUp.initialMessagesPerSession` messages of each conversation.
   */
  readonly syncState?: SyncState;
  /**
   * This app install's id (1–64 characters of `A-Za-z0-9_.:-`), sent with every push token registered, so that
   * `signOut()` removes the install's tokens without remembering them.
   * @default syncState.deviceId, else a new random id (kept in getSyncState(): save it)
   */
  readonly deviceId?: string;
  /** Typing indicators: the server's interval, how long a received `start` shows, the timers (tests). */
  readonly typing?: TypingOptions;
}

/** What `send()` takes; `timeoutMs` and `signal` bound how long it may wait for its ack. */
export interface SendInput extends Deadline {
  /** The conversation: `peer('bob')` or `group(groupId)`. */
  readonly to: Conversation;
  /** The message body: text, or base64 for binary (at most 4096 bytes of UTF-8 by default). */
  readonly msgData: string;
  /** `text` (msg_type 1 or 17) or `audio` (2 or 18). @default 'text' */
  readonly kind?: 'text' | 'audio';
  /** An id for idempotent resends, 1–64 characters. @default a new UUID */
  readonly clientMsgId?: string;
}

/** `listMessages()` input. */
export interface ListMessagesInput {
  readonly conversation: Conversation;
  /** Messages with msg_id ≤ this one; 0 = from the newest. @default 0 */
  readonly msgIdBegin?: number;
  /** How many, 1–100; the reply may hold fewer (see `has_more`). @default 20 */
  readonly msgCnt?: number;
}

/** `createGroup()` input. */
export interface CreateGroupInput {
  /** 1–128 characters. */
  readonly groupName: string;
  /** The other members; the creator is owner and member anyway. */
  readonly memberIds: readonly string[];
}

/** `changeGroupMembers()` input. */
export interface ChangeGroupMembersInput {
  readonly groupId: string;
  /** `add` (owner only) or `del` (the owner; any member may remove itself). */
  readonly changeType: GroupChangeType;
  readonly memberIds: readonly string[];
}

/** A message for this user, as the `message` event delivers it: the msg_data frame plus what the SDK knows of it. */
export type ReceivedMessage = MsgDataFrame & {
  /** The conversation from this user's view: the group, or the other side of the single chat. */
  readonly conversation: Conversation;
  /**
   * `live`: it arrived as it was sent. `missed`: a catch-up fetched it, and it was sent while this client was away
   * (notify as for a live one). `history`: a catch-up fetched it, and it is older than that (a new device's first
   * sync, a late hole): do not notify.
   */
  readonly source: MessageSource;
  /** `source === 'live'`. */
  readonly live: boolean;
  /** Sent by this user (from another device, or a catch-up of its own sends): never notify for it. */
  readonly own: boolean;
};

/** The `send_retry` event's payload. */
export interface SendRetry {
  readonly clientMsgId: string;
  readonly conversation: Conversation;
  readonly error: ChatServerError;
  /** When the send goes out again (ms since the epoch). */
  readonly retryAt: number;
}

/** Every page of `unread_cnt`: the total over all sessions, and each session's count. */
export interface UnreadCounts {
  readonly total_cnt: number;
  readonly unreadinfo_list: readonly UnreadInfo[];
}

/** Events of a ChatClient and their payloads. */
export interface ChatClientEvents {
  /** A message for this user, once per (conversation, msg_id) even when the server redelivers it. */
  message: ReceivedMessage;
  /** The `msg_data_ack` of one of this client's sends (also the resolution of `send()`). */
  ack: MsgDataAckFrame;
  /**
   * A send was refused with a code a retry can fix (`rate_limited`: this user is over its rate, e.g. on several
   * devices at once; `internal`) and goes out again at `retryAt` with the same `clientMsgId`; its promise waits.
   */
  send_retry: SendRetry;
  /**
   * A problem not tied to a pending call: an error frame without a matching send or request
   * ({@link ChatServerError}), an unreadable frame ({@link ProtocolError}), a refused token ({@link AuthError}), a
   * kick ({@link KickedError}), a failing `getToken`, giving up reconnecting ({@link ConnectionClosedError}), or a
   * token without a readable `sub` (no catch-up).
   */
  error: Error;
  /** The connection changed: its state, or the next attempt's time, or the close reason. Details: `client.connection`. */
  state: ConnectionState;
  /** A catch-up finished: what it listed, fetched and delivered. */
  synced: SyncResult;
  /**
   * The server is closing this connection: `token_expired` (the client reconnects at once with a fresh token from
   * `getToken`), `too_many_connections` (a newer connection of this user displaced it: the client goes `closed`), or
   * `suspended` / `account_deleted` (the account is closed to connections: the client goes `closed` with reason
   * `account_closed` and a {@link KickedError} saying which).
   */
  kick: KickFrame;
  /** This user read a session on another connection, up to `msg_id` (`session_id` is the peer or group). */
  msg_read_notify: MsgReadNotifyFrame;
  /** `user_id` read this user's messages up to `msg_id` (`session_id` is this user, or the group). */
  msg_read_receipt: MsgReadNotifyFrame;
  /** This user removed a session on another connection. */
  remove_session_notify: RemoveSessionNotifyFrame;
  /**
   * A group this user is (or was, for its own removal) a member of was created or changed members: `user_ids` were
   * added or removed, `cur_user_id_list` is the membership now. Not sent to the connection that made the change.
   */
  group_change_member_notify: GroupChangeMemberNotifyFrame;
  /**
   * A watched user's status changed (`client.presence.subscribe`), or was first heard: `online`, `away` or `offline`
   * (a blocked pair reads `offline`). Changes reach the client within 15 s; an offline of a connection that comes
   * back within seconds is never announced.
   */
  presence: UserStat;
  /** An `account_export` of this user is written: `url` downloads its JSON until `expires_at` (unix seconds). */
  account_export_ready: AccountExportReadyFrame;
  /** A message of a conversation of this user was recalled (`session_id` from this user's view): show it recalled. */
  msg_recalled: MsgRecalledFrame;
  /** A message of a conversation of this user was edited: `msg_data` is its new text, edited at `edited_at`. */
  msg_edited: MsgEditedFrame;
  /**
   * Who is typing in a conversation changed (a `start` or `stop` received, a message from a typist, 6 s without a
   * `start`): `userIds` are the users typing there now. `client.typingUsers(conversation)` reads the same.
   */
  typing: TypingChange;
  /** Any other server frame (replies nobody waits for, frames of a newer server). */
  frame: ServerFrame;
}
