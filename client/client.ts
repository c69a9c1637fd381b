/**
 * ChatClient: one user's connection to the chat stack. It sends messages and resolves them with their
 * `msg_data_ack` (paced, in order per conversation, retried with the same `client_msg_id` until stored or refused),
 * acknowledges (in bulk) and de-duplicates incoming messages, catches up on what it missed after every (re)connect,
 * answers request/reply actions, and keeps the connection alive (connection.ts). Its parts: Connection, Outbox,
 * PendingRequests, AckBatcher, Synchronizer; this class wires them and holds the public API.
 */
import { AckBatcher } from './acks.js';
import { DEFAULT_SEND_RETRY, resolveBackoff, resolveReconnectOptions, type BackoffOptions, type ReconnectOptions } from './backoff.js';
import { Connection, toError, type ConnectionState, type ConnectionStatus, type NetworkEvents } from './connection.js';
import {
  conversationKey,
  conversationOfMessage,
  group,
  msgTypeOf,
  peer,
  sessionRefOf,
  type Conversation,
} from './conversation.js';
import { MessageDeduper } from './dedupe.js';
import { TypedEmitter } from './emitter.js';
import { AuthError, ChatError, ChatServerError, ConnectionClosedError, ProtocolError } from './errors.js';
import {
  CLIENT_MSG_ID_MAX_LENGTH,
  DEVICE_PLATFORMS,
  LIMIT_DEFAULTS,
  MAX_IDS_PER_REQUEST,
  isErrorFrame,
  isGroupChangeMemberNotifyFrame,
  isGroupId,
  isGroupMsgType,
  isKickFrame,
  isMsgDataAckFrame,
  isMsgDataFrame,
  isReadNoticeFrame,
  isRemoveSessionNotifyFrame,
  parseServerFrame,
  type ContactSession,
  type DevicePlatform,
  type GroupChangeMemberNotifyFrame,
  type GroupChangeType,
  type GroupListEntry,
  type KickFrame,
  type MsgDataAckFrame,
  type MsgDataFrame,
  type MsgReadNotifyFrame,
  type MsgType,
  type RemoveSessionNotifyFrame,
  type ReplyFrame,
  type RequestAction,
  type RequestMap,
  type ServerFrame,
  type SessionType,
  type UnreadInfo,
} from './frames.js';
import { createClientMsgId, tokenSubject } from './ids.js';
import { Outbox, type OutboxEntry, type OutgoingMessage } from './outbox.js';
import { RateGate } from './rate-gate.js';
import { PendingRequests } from './requests.js';
import type { WebSocketConstructor } from './socket.js';
import { Synchronizer, type CatchUpOptions, type SyncResult, type SyncState, type SyncTransport } from './sync.js';

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
   * Ack timeouts after which `send()` rejects with {@link SendTimeoutError} (the message may still be stored).
   * @default Infinity (a send waits until it is acknowledged, refused, or the client is closed)
   */
  readonly maxSendAttempts?: number;
  /** Backoff of resends after `rate_limited` or `internal`. @default { initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitter: 0.5 } */
  readonly sendRetry?: BackoffOptions;
  /** The server's per-user rates the client paces itself to (shared/contract.md "Limits"). @default LIMIT_DEFAULTS */
  readonly rateLimits?: { readonly msgRatePerSecond?: number; readonly writeRatePerSecond?: number };
  /** How long delivery acks of one conversation are gathered into one frame, in ms; 0 acks each at once. @default 50 */
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
}

/** What `send()` takes. */
export interface SendInput {
  /** The conversation: `peer('bob')` or `group(groupId)`. */
  readonly to: Conversation;
  /** The message body: text, or base64 for binary (at most 4096 bytes of UTF-8 by default). */
  readonly msgData: string;
  /** `text` (msg_type 1 or 17) or `audio` (2 or 18). @default 'text' */
  readonly kind?: 'text' | 'audio';
  /** An id for idempotent resends, 1–64 characters. @default a new UUID */
  readonly clientMsgId?: string;
}

/**
 * The form of `send()` input before conversations were one value.
 * @deprecated Use {@link SendInput}: `send({ to: group(id), msgData })`. Kept so existing callers compile; a group id
 * without a group `msgType` is sent to the group, a single-chat `msgType` to a group id is refused.
 */
export interface LegacySendInput {
  readonly toSessionId: string;
  readonly msgType?: MsgType;
  readonly msgData: string;
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

/**
 * `listMessages()` input before conversations were one value.
 * @deprecated Use {@link ListMessagesInput}. Without `sessionType`, a group id names the group.
 */
export interface LegacyListMessagesInput {
  readonly sessionId: string;
  readonly sessionType?: SessionType;
  readonly msgIdBegin?: number;
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
  /** True for a message that arrived as it was sent; false for one a catch-up fetched (history: do not notify). */
  readonly live: boolean;
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
   * `getToken`) or `too_many_connections` (a newer connection of this user displaced it: the client goes `closed`).
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
  /** Any other server frame (replies nobody waits for, frames of a newer server). */
  frame: ServerFrame;
}

const DEFAULTS = {
  ackTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  heartbeatIntervalMs: 300_000,
  pingTimeoutMs: 10_000,
  connectTimeoutMs: 15_000,
  suspendAfterMs: 120_000,
  ackBatchMs: 50,
  dedupeCapacity: 10_000,
} as const;

/**
 * The pacing window: a little over the server's one-second window, so that frames whose latency varies still fall
 * within its budget.
 */
const RATE_WINDOW_MS = 1_100;

type RequestArgs<A extends RequestAction> = Record<never, never> extends RequestMap[A]['request']
  ? [fields?: RequestMap[A]['request']]
  : [fields: RequestMap[A]['request']];

/** `msg_data` and `msg_data_ack` have their own API (`send()` and the automatic delivery ack). */
const NOT_REQUESTS = new Set(['msg_data', 'msg_data_ack']);

export class ChatClient extends TypedEmitter<ChatClientEvents> {
  readonly #connection: Connection;
  readonly #outbox: Outbox;
  readonly #requests: PendingRequests;
  readonly #acks: AckBatcher;
  readonly #deduper: MessageDeduper;
  readonly #sync: Synchronizer;
  readonly #autoCatchUp: boolean;
  /** The catch-up running or last started, and the connection it runs on (counted by opens). */
  #syncing: { promise: Promise<SyncResult>; open: number } | undefined;
  #opens = 0;
  #userId: string | undefined;
  /** Push tokens registered through this client, unregistered by signOut(). */
  readonly #deviceTokens = new Set<string>();

  constructor(options: ChatClientOptions) {
    super();
    if (typeof options.url !== 'string' || options.url === '') throw new TypeError('ChatClient: url is required');
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) throw new TypeError('ChatClient: no global WebSocket; pass one in options.WebSocket (in Node: `ws`)');
    this.#connection = new Connection(
      {
        url: options.url,
        ...tokenSource(options),
        clientType: options.clientType,
        WebSocket: WebSocketImpl,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        reconnect: options.reconnect === false ? undefined : resolveReconnectOptions(options.reconnect),
        suspendAfterMs: options.suspendAfterMs ?? DEFAULTS.suspendAfterMs,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
        pingTimeoutMs: options.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs,
        networkEvents: networkEventsOf(options.networkEvents),
      },
      {
        token: (token) => (this.#userId = tokenSubject(token) ?? this.#userId),
        opened: () => this.#onOpened(),
        text: (text) => this.#onText(text),
        alive: () => this.#outbox.alive(),
        lost: () => this.#onLost(),
        stopped: (error, report) => this.#onStopped(error, report),
        status: (status) => this.#onStatus(status),
        problem: (error) => this.emit('error', error),
      },
    );
    const rates = { ...LIMIT_DEFAULTS, ...options.rateLimits };
    this.#outbox = new Outbox({
      ackTimeoutMs: options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs,
      maxSendAttempts: Math.max(1, options.maxSendAttempts ?? Number.POSITIVE_INFINITY),
      retry: resolveBackoff(DEFAULT_SEND_RETRY, options.sendRetry, 'sendRetry'),
      gate: new RateGate(rates.msgRatePerSecond, RATE_WINDOW_MS),
      transmit: (entry) => this.#transmit(entry),
      stalled: () => this.#connection.probe(),
      retrying: (entry, error, delayMs) =>
        this.emit('send_retry', { clientMsgId: entry.clientMsgId, conversation: entry.conversation, error, retryAt: Date.now() + delayMs }),
    });
    this.#requests = new PendingRequests({
      timeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      writeGate: new RateGate(rates.writeRatePerSecond, RATE_WINDOW_MS),
      dispatch: (request) => this.#sendWithSeq({ ...request.fields, action: request.action }),
      timedOut: () => this.#connection.probe(),
    });
    this.#acks = new AckBatcher({
      windowMs: options.ackBatchMs ?? DEFAULTS.ackBatchMs,
      send: (frame) => this.#connection.send(frame),
      nextSeq: () => this.#connection.nextSeq(),
    });
    this.#deduper = new MessageDeduper(options.dedupeCapacity ?? DEFAULTS.dedupeCapacity);
    this.#autoCatchUp = options.catchUp !== false;
    const catchUp = typeof options.catchUp === 'object' ? options.catchUp : {};
    this.#sync = new Synchronizer(catchUp, (frame, live) => this.#deliver(frame, live), options.syncState);
  }

  // -------------------------------------------------------------------------------------------------------------
  // State

  /** The connection state. */
  get state(): ConnectionState {
    return this.#connection.state;
  }

  /** The connection: state, next attempt time, close reason and `errorReason`. */
  get connection(): ConnectionStatus {
    return this.#connection.status;
  }

  /** This user's id: the token's `sub`, or as the server reported it in a `msg_data_ack`; undefined until known. */
  get userId(): string | undefined {
    return this.#userId;
  }

  /** How many sends wait for their ack. */
  get pendingSends(): number {
    return this.#outbox.size;
  }

  /** Server time (unix seconds) the last complete catch-up synced to; 0 before the first one. */
  get lastSyncTime(): number {
    return this.#sync.lastSyncTime;
  }

  /** Whether a catch-up is running. */
  get syncing(): boolean {
    return this.#sync.running;
  }

  /** What this client holds (sync time, per-conversation marks, holes), to seed a later client's `syncState`. */
  getSyncState(): SyncState {
    return this.#sync.state();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection

  /**
   * Connects, and reconnects after unexpected closes until `close()`. While a reconnect waits for its backoff, it
   * attempts at once. Resolves when the connection is open; rejects when the client stops first (refused token:
   * {@link AuthError}; kicked: {@link KickedError}; `close()` or reconnect attempts exhausted: ConnectionClosedError).
   */
  connect(): Promise<void> {
    return this.#connection.connect();
  }

  /**
   * Reconnects now: a reconnect waiting for its backoff starts at once; an open connection is checked with a
   * heartbeat and reopened if it goes unanswered. Call it when the app learns the network is back or comes to the
   * foreground (browsers' `online` event does it by itself).
   */
  reconnectNow(): void {
    this.#connection.reconnectNow();
  }

  /**
   * Closes the connection for good and clears every timer. Pending sends and requests reject with
   * ConnectionClosedError, and so do calls made afterwards; `connect()` may be called again.
   */
  close(): void {
    if (this.state === 'closed' && this.connection.reason === 'closed_by_client') return;
    this.#connection.stop(new ConnectionClosedError('client closed'), 'closed_by_client', false);
  }

  /** Signs out: unregisters the push tokens registered through this client (needs the connection), then closes. */
  async signOut(): Promise<void> {
    try {
      for (const token of [...this.#deviceTokens]) await this.unregisterDeviceToken(token);
    } finally {
      this.close();
    }
  }

  /**
   * Catches up now (it also runs by itself on every open unless `catchUp: false`): resolves when the missed messages
   * are delivered, with the same result as the `synced` event. Joins a catch-up already running on this connection.
   * Rejects with ConnectionClosedError when not connected or when the connection drops meanwhile.
   */
  sync(): Promise<SyncResult> {
    if (this.state !== 'open') return Promise.reject(new ConnectionClosedError(`sync: not connected (${this.state})`));
    const running = this.#syncing;
    if (running && running.open === this.#opens) return running.promise;
    return this.#startSync();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sending

  /**
   * Sends a message. Resolves with its `msg_data_ack` once the server stored it. Sends wait for the connection, go
   * out at the server's rate and in order per conversation, and are resent with the same `clientMsgId` after
   * `rate_limited`, `internal`, an overdue ack or a reconnect. Rejects with ChatServerError when the server refuses
   * it for good, or with ConnectionClosedError / AuthError / KickedError when the client stops first. Sending a
   * `clientMsgId` that is still waiting returns the same promise.
   */
  send(input: SendInput): Promise<MsgDataAckFrame>;
  /** @deprecated Use `send({ to: peer(id) | group(id), msgData })`. */
  send(input: LegacySendInput): Promise<MsgDataAckFrame>;
  send(input: SendInput | LegacySendInput): Promise<MsgDataAckFrame> {
    const closed = this.#closedError('send');
    if (closed) return Promise.reject(closed);
    let message: OutgoingMessage;
    try {
      message = outgoingMessage(input);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    return (this.#outbox.get(message.key, message.clientMsgId) ?? this.#outbox.add(message)).promise;
  }

  /**
   * Sends a request action and resolves with its reply frame (same `type` as the action, same `seq`). Rejects with
   * ChatServerError on an error frame, RequestTimeoutError after `requestTimeoutMs`, or ConnectionClosedError when
   * the connection closes before the reply (requests are not resent).
   */
  request<A extends RequestAction>(action: A, ...fields: RequestArgs<A>): Promise<ReplyFrame<A>> {
    const closed = this.#closedError(action);
    if (closed) return Promise.reject(closed);
    if (typeof action !== 'string' || (action as string) === '' || NOT_REQUESTS.has(action)) {
      return Promise.reject(new TypeError(`request: ${String(action)} is not a request action (use send())`));
    }
    return this.#requests.add(action, fields[0] ?? {}) as unknown as Promise<ReplyFrame<A>>;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Read side

  /**
   * `msg_list`: one page of messages, newest first, with msg_id ≤ `msgIdBegin` (0 = from the newest). `has_more`
   * says older ones remain: go on with `msgIdBegin` = the smallest msg_id returned − 1. A page may hold fewer than
   * `msgCnt` (replies stay under 128 KB), but at least one when there is one.
   */
  listMessages(input: ListMessagesInput): Promise<ReplyFrame<'msg_list'>>;
  /** @deprecated Use `listMessages({ conversation: peer(id) | group(id), … })`. */
  listMessages(input: LegacyListMessagesInput): Promise<ReplyFrame<'msg_list'>>;
  async listMessages(input: ListMessagesInput | LegacyListMessagesInput): Promise<ReplyFrame<'msg_list'>> {
    const conversation = 'conversation' in input ? input.conversation : legacyConversation(input.sessionId, input.sessionType);
    const msgCnt = input.msgCnt ?? 20;
    const reply = await this.request('msg_list', { ...sessionRefOf(conversation), msg_id_begin: input.msgIdBegin ?? 0, msg_cnt: msgCnt });
    if (typeof reply.has_more === 'boolean') return reply;
    // A server before `has_more` sent full pages.
    const lowest = Math.min(...reply.msg_list.map((m) => m.msg_id));
    return { ...reply, has_more: reply.msg_list.length >= msgCnt && lowest > 1 };
  }

  /** `latest_msg_id`: the newest stored msg_id of a conversation (0 when none). */
  latestMsgId(conversation: Conversation): Promise<ReplyFrame<'latest_msg_id'>> {
    return this.request('latest_msg_id', sessionRefOf(conversation));
  }

  /** `msg_by_ids`: the listed messages that exist, newest first; asks again for the ids a reply left out for size. */
  async messagesByIds(input: { readonly conversation: Conversation; readonly msgIds: readonly number[] }): Promise<ReplyFrame<'msg_by_ids'>> {
    const session = sessionRefOf(input.conversation);
    const found = new Map<number, ReplyFrame<'msg_by_ids'>['msg_list'][number]>();
    let rest = [...new Set(input.msgIds)];
    let last: ReplyFrame<'msg_by_ids'> | undefined;
    while (rest.length > 0) {
      const batch = rest.slice(0, MAX_IDS_PER_REQUEST);
      last = await this.request('msg_by_ids', { ...session, msg_ids: batch });
      for (const m of last.msg_list) found.set(m.msg_id, m);
      const remaining = (last.remaining_msg_ids ?? []).filter((id) => batch.includes(id) && !found.has(id));
      // A reply that brings nothing and leaves everything out would loop: it ends here.
      const progress = last.msg_list.length > 0 || remaining.length < batch.length;
      rest = [...(progress ? remaining : []), ...rest.slice(MAX_IDS_PER_REQUEST)];
    }
    const msg_list = [...found.values()].sort((a, b) => b.msg_id - a.msg_id);
    return { type: 'msg_by_ids', ...session, msg_list };
  }

  /**
   * `recent_sessions`: one page of the sessions updated after `latestUpdateTime` (default 0: all), newest first,
   * hidden ones left out; pass the reply's `next_page_token` as `pageToken` for the next page.
   */
  recentSessions(input: { readonly latestUpdateTime?: number; readonly pageToken?: string } = {}): Promise<ReplyFrame<'recent_sessions'>> {
    const latest_update_time = input.latestUpdateTime ?? 0;
    return this.request('recent_sessions', input.pageToken === undefined ? { latest_update_time } : { latest_update_time, page_token: input.pageToken });
  }

  /** Every page of `recent_sessions`. */
  async allRecentSessions(latestUpdateTime = 0): Promise<ContactSession[]> {
    const pages = await this.#allPages((page_token) => this.request('recent_sessions', { latest_update_time: latestUpdateTime, ...page_token }));
    return pages.flatMap((page) => page.contact_session_list);
  }

  /** Every page of `unread_cnt`: the sessions with unread messages and the total over all of them. */
  async unreadCounts(): Promise<UnreadCounts> {
    const pages = await this.#allPages((page_token) => this.request('unread_cnt', page_token));
    const unreadinfo_list = pages.flatMap((page) => page.unreadinfo_list);
    return { total_cnt: pages.reduce((sum, page) => sum + page.total_cnt, 0), unreadinfo_list };
  }

  /**
   * `msg_read_ack`: marks the conversation read up to `msgId` (not past it). The user's other connections get
   * `msg_read_notify`, the peer's get `msg_read_receipt`.
   */
  markRead(input: { readonly conversation: Conversation; readonly msgId: number }): Promise<ReplyFrame<'msg_read_ack'>> {
    return this.request('msg_read_ack', { ...sessionRefOf(input.conversation), msg_id: input.msgId });
  }

  /** `remove_session`: hides the conversation from `recent_sessions` until its next message; other connections are told. */
  removeSession(conversation: Conversation): Promise<ReplyFrame<'remove_session'>> {
    return this.request('remove_session', sessionRefOf(conversation));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Groups

  /** `group_create`: a new group with this user as owner and member; resolves with its `group_id`. */
  createGroup(input: CreateGroupInput): Promise<ReplyFrame<'group_create'>> {
    return this.request('group_create', { group_name: input.groupName, member_ids: input.memberIds });
  }

  /** `group_change_member`: adds or removes members; resolves with the membership after the change. */
  changeGroupMembers(input: ChangeGroupMembersInput): Promise<ReplyFrame<'group_change_member'>> {
    return this.request('group_change_member', { group_id: input.groupId, change_type: input.changeType, member_ids: input.memberIds });
  }

  /** Leaves a group (a `del` of this user; the owner cannot leave). Needs the user id (the token's `sub`). */
  leaveGroup(groupId: string): Promise<ReplyFrame<'group_change_member'>> {
    const userId = this.#userId;
    if (userId === undefined) return Promise.reject(new ChatError('leaveGroup needs the user id: the token has no readable sub'));
    return this.changeGroupMembers({ groupId, changeType: 'del', memberIds: [userId] });
  }

  /** Every page of `group_list`: this user's groups. */
  async listGroups(): Promise<{ readonly group_list: readonly GroupListEntry[] }> {
    const pages = await this.#allPages((page_token) => this.request('group_list', page_token));
    return { group_list: pages.flatMap((page) => page.group_list) };
  }

  /** `group_info`: a group's name, owner and members (members only; others get `not_member`). */
  groupInfo(groupId: string): Promise<ReplyFrame<'group_info'>> {
    return this.request('group_info', { group_id: groupId });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Push tokens

  /** `device_token`: registers this device's push token for this user (taking it from any other user). */
  async registerDeviceToken(input: { readonly token: string; readonly platform: DevicePlatform }): Promise<void> {
    const { token, platform } = input;
    if (typeof token !== 'string' || token === '' || token.length > LIMIT_DEFAULTS.maxDeviceTokenLength) {
      throw new TypeError(`registerDeviceToken: token must be 1–${LIMIT_DEFAULTS.maxDeviceTokenLength} characters`);
    }
    if (!(DEVICE_PLATFORMS as readonly string[]).includes(platform)) throw new TypeError(`registerDeviceToken: platform must be one of ${DEVICE_PLATFORMS.join(', ')}`);
    await this.request('device_token', { token, platform });
    this.#deviceTokens.add(token);
  }

  /** `device_token_remove`: stops pushes to this token for this user (sign-out; `signOut()` does it). */
  async unregisterDeviceToken(token: string): Promise<void> {
    await this.request('device_token_remove', { token });
    this.#deviceTokens.delete(token);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection events

  #onOpened(): void {
    this.#opens += 1;
    this.#outbox.opened();
    this.#requests.opened();
  }

  #onStatus(status: ConnectionStatus): void {
    this.emit('state', status.state);
    // After the `open` event, so that its listeners hear of the connection before its first catch-up request.
    if (status.state === 'open' && this.#autoCatchUp && this.state === 'open') this.#autoSync();
  }

  #onLost(): void {
    this.#outbox.lost();
    this.#acks.reset();
    this.#requests.lost(new ConnectionClosedError('connection closed before the reply'));
  }

  #onStopped(error: Error, report: boolean): void {
    this.#outbox.rejectAll(error);
    this.#requests.rejectAll(error);
    this.#onLost();
    if (report) this.emit('error', error);
  }

  /** A call on a client that is closed (not merely not yet connected) fails at once. */
  #closedError(what: string): Error | undefined {
    const { state, reason, errorReason } = this.connection;
    if (state !== 'closed') return undefined;
    return new ConnectionClosedError(`${what}: the client is closed (${reason ?? 'closed'}); call connect() first`, { cause: errorReason });
  }

  #autoSync(): void {
    if (this.#userId === undefined) {
      this.emit('error', new ChatError('no catch-up: the token has no readable sub (the user id)'));
      return;
    }
    this.#startSync().catch((error: unknown) => {
      // A dropped connection ends a catch-up quietly: the next open runs another one.
      if (!(error instanceof ConnectionClosedError)) this.emit('error', toError(error));
    });
  }

  /** Starts a catch-up on the current connection, once any earlier one has ended. */
  #startSync(): Promise<SyncResult> {
    const userId = this.#userId;
    if (userId === undefined) return Promise.reject(new ChatError('catch-up needs the user id: the token has no readable sub'));
    const open = this.#opens;
    const previous = this.#syncing?.promise;
    const transport: SyncTransport = {
      recentSessions: (fields) => this.request('recent_sessions', fields),
      msgList: (fields) => this.request('msg_list', fields),
      msgByIds: (fields) => this.request('msg_by_ids', fields),
    };
    const isCurrent = () => this.#opens === open && this.state === 'open';
    const promise = (async () => {
      await previous?.catch(() => undefined);
      const result = await this.#sync.run(transport, userId, isCurrent, (error) => this.emit('error', error));
      this.emit('synced', result);
      return result;
    })();
    const syncing = { promise, open };
    this.#syncing = syncing;
    const settled = () => {
      if (this.#syncing === syncing) this.#syncing = undefined;
    };
    promise.then(settled, settled);
    return promise;
  }

  /** Every page of a paged request; a repeated token ends it (a server bug must not loop the client). */
  async #allPages<R extends { readonly next_page_token?: string }>(ask: (pageToken: { page_token?: string }) => Promise<R>): Promise<R[]> {
    const pages: R[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await ask(token === undefined ? {} : { page_token: token });
      pages.push(page);
      token = typeof page.next_page_token === 'string' && page.next_page_token !== '' && !seen.has(page.next_page_token) ? page.next_page_token : undefined;
      if (token !== undefined) seen.add(token);
    } while (token !== undefined);
    return pages;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Frames out

  /** Sends `frame` with the next seq; returns the seq, or undefined when not connected. */
  #sendWithSeq(frame: Record<string, unknown>): number | undefined {
    const seq = this.#connection.nextSeq();
    return this.#connection.send({ ...frame, seq }) ? seq : undefined;
  }

  #transmit(entry: OutboxEntry): number | undefined {
    return this.#sendWithSeq({
      action: 'msg_data',
      to_session_id: entry.conversation.id,
      msg_type: entry.msgType,
      msg_data: entry.msgData,
      client_msg_id: entry.clientMsgId,
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Frames in

  #onText(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return this.emit('error', new ProtocolError('server frame is not a JSON object with a string type', text));
    if (frame.type === 'msg_data') {
      if (isMsgDataFrame(frame)) this.#onMessage(frame);
      else this.emit('error', new ProtocolError('msg_data frame with missing or mistyped fields', text));
      return;
    }
    if (isMsgDataAckFrame(frame)) return this.#onAck(frame);
    if (isErrorFrame(frame)) return this.#onErrorFrame(new ChatServerError(frame.code, typeof frame.message === 'string' ? frame.message : '', frame.seq));
    if (isKickFrame(frame)) {
      this.emit('kick', frame);
      return this.#connection.kicked(frame.reason);
    }
    if (frame.seq !== undefined) {
      if (frame.type === 'heartbeat' && this.#connection.claim(frame.seq)) return;
      const request = this.#requests.take(frame.seq, frame.type);
      if (request) return request.resolve(frame);
    }
    this.#onNotice(frame);
  }

  #onNotice(frame: ServerFrame): void {
    if (isReadNoticeFrame(frame)) this.emit(frame.type === 'msg_read_notify' ? 'msg_read_notify' : 'msg_read_receipt', frame);
    else if (isRemoveSessionNotifyFrame(frame)) this.emit('remove_session_notify', frame);
    else if (isGroupChangeMemberNotifyFrame(frame)) this.emit('group_change_member_notify', frame);
    else this.emit('frame', frame);
  }

  #onMessage(frame: MsgDataFrame): void {
    this.#sync.observeServerTime(frame.create_time);
    // Acknowledged every time, duplicates too: a redelivery means the server did not get the earlier ack.
    this.#acks.add(sessionRefOf(conversationOfMessage(frame, this.#userId)), frame.msg_id);
    if (!this.#deduper.isFirst(frame)) return;
    // With the user id known, the synchronizer tracks what is held and holds back a conversation being caught up.
    if (this.#userId !== undefined) this.#sync.receive(frame, this.#userId);
    else this.#deliver(frame, true);
  }

  #deliver(frame: MsgDataFrame, live: boolean): void {
    this.emit('message', { ...frame, conversation: conversationOfMessage(frame, this.#userId), live });
  }

  #onAck(frame: MsgDataAckFrame & ServerFrame): void {
    if (typeof frame.user_id === 'string' && frame.user_id !== '') this.#userId = frame.user_id;
    const entry = this.#outbox.acked(frame);
    if (!entry) return this.emit('frame', frame); // A late duplicate of an ack already delivered.
    this.#sync.observeServerTime(frame.create_time);
    this.#sync.recordSent(frame.session_type, frame.session_id, frame.msg_id);
    this.emit('ack', frame);
  }

  #onErrorFrame(error: ChatServerError): void {
    const seq = error.seq;
    if (seq !== undefined) {
      // A heartbeat answered with an error (a server without the action) still proves the connection alive.
      if (this.#connection.claim(seq) || this.#acks.refused(seq, error.serverCode) || this.#outbox.refused(error)) return;
      const request = this.#requests.take(seq);
      if (request) return request.reject(error);
    }
    this.emit('error', error);
  }
}

function tokenSource(options: ChatClientOptions): { getToken: () => Promise<string>; tokenIsRenewable: boolean } {
  const { token, getToken } = options;
  if (getToken) return { getToken: async () => getToken(), tokenIsRenewable: true };
  if (typeof token === 'string' && token !== '') return { getToken: async () => token, tokenIsRenewable: false };
  throw new TypeError('ChatClient: token or getToken is required');
}

function networkEventsOf(option: NetworkEvents | false | undefined): NetworkEvents | undefined {
  if (option === false) return undefined;
  if (option) return option;
  const global = globalThis as Partial<NetworkEvents>;
  return typeof global.addEventListener === 'function' && typeof global.removeEventListener === 'function' ? (global as NetworkEvents) : undefined;
}

/** A conversation the application built by hand, checked as peer() and group() check theirs. */
function checked(conversation: Conversation): Conversation {
  if (conversation?.type === 'peer') return peer(conversation.id);
  if (conversation?.type === 'group') return group(conversation.id);
  throw new TypeError('a conversation is peer(userId) or group(groupId)');
}

/** The conversation of a legacy (sessionId, sessionType) pair: without a type, a group id names the group. */
function legacyConversation(sessionId: string, sessionType: number | undefined): Conversation {
  if (sessionType === 2 || (sessionType === undefined && isGroupId(sessionId))) return group(sessionId);
  return peer(sessionId);
}

/** Checks `send()` input and makes the outbox entry's fields; throws TypeError on bad input. */
function outgoingMessage(input: SendInput | LegacySendInput): OutgoingMessage {
  let conversation: Conversation;
  let msgType: MsgType;
  if ('to' in input) {
    conversation = checked(input.to);
    if (input.kind !== undefined && input.kind !== 'text' && input.kind !== 'audio') throw new TypeError("send: kind must be 'text' or 'audio'");
    msgType = msgTypeOf(conversation, input.kind);
  } else {
    if (input.msgType !== undefined && ![1, 2, 17, 18].includes(input.msgType)) throw new TypeError('send: msgType must be 1, 2, 17 or 18');
    const inGroup = input.msgType === undefined ? isGroupId(input.toSessionId) : isGroupMsgType(input.msgType);
    conversation = inGroup ? group(input.toSessionId) : peer(input.toSessionId);
    msgType = input.msgType ?? msgTypeOf(conversation);
  }
  const { msgData } = input;
  const clientMsgId = input.clientMsgId ?? createClientMsgId();
  if (typeof msgData !== 'string') throw new TypeError('send: msgData must be a string');
  if (typeof clientMsgId !== 'string' || clientMsgId === '' || clientMsgId.length > CLIENT_MSG_ID_MAX_LENGTH) {
    throw new TypeError(`send: clientMsgId must be 1–${CLIENT_MSG_ID_MAX_LENGTH} characters`);
  }
  return { clientMsgId, conversation, key: conversationKey(conversation), msgType, msgData };
}

