/**
 * ChatClient: one user's connection to the chat stack. It sends messages and resolves them with their
 * `msg_data_ack`, keeps unacknowledged sends and resends them with the same `client_msg_id`, acknowledges and
 * de-duplicates incoming messages, catches up on what it missed after every (re)connect, answers request/reply
 * actions, sends heartbeats and reconnects with backoff.
 */
import {
  backoffDelay,
  resolveReconnectOptions,
  type ReconnectOptions,
  type ResolvedReconnectOptions,
} from './backoff.js';
import { MessageDeduper } from './dedupe.js';
import { TypedEmitter } from './emitter.js';
import { AuthError, ChatError, ChatServerError, ConnectionClosedError, ProtocolError, SendTimeoutError } from './errors.js';
import {
  MsgType,
  SessionType,
  isErrorFrame,
  isGroupChangeMemberNotifyFrame,
  isGroupMsgType,
  isMsgDataAckFrame,
  isMsgDataFrame,
  isReadNoticeFrame,
  isRemoveSessionNotifyFrame,
  parseServerFrame,
  type ContactSession,
  type GroupChangeMemberNotifyFrame,
  type GroupChangeType,
  type MsgDataAckFrame,
  type MsgDataAckRequestFrame,
  type MsgDataFrame,
  type MsgDataRequestFrame,
  type MsgReadNotifyFrame,
  type RemoveSessionNotifyFrame,
  type ReplyFrame,
  type RequestAction,
  type RequestMap,
  type ServerFrame,
} from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { createClientMsgId, tokenSubject } from './ids.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { PendingRequests, type PendingRequest } from './requests.js';
import { OPEN, buildConnectUrl, openSocket, type SocketClosed, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import { Synchronizer, type CatchUpOptions, type SyncResult, type SyncState, type SyncTransport } from './sync.js';
import type { TimerHandle } from './timers.js';

/** The connection's state, as reported by the `state` event. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'reconnecting';

export interface ChatClientOptions {
  /** The WebSocket URL: the API Gateway stage URL, or `ws://127.0.0.1:8787` locally. */
  readonly url: string;
  /** A fixed JWT. Give either `token` or `getToken`. */
  readonly token?: string;
  /**
   * Returns a JWT; called before every connection attempt, so an expired token is replaced on reconnect. Throwing
   * an {@link AuthError} stops the client; any other error is reported and retried with backoff.
   */
  readonly getToken?: () => Promise<string> | string;
  /** TeamTalk's ClientType, sent as `client_type` (1 windows, 2 mac, 17 ios, 18 android). */
  readonly clientType?: number;
  /** The WebSocket constructor; default `globalThis.WebSocket`. In Node 20 pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  /** How long a transmitted message waits for its `msg_data_ack` before it is sent again, in ms. Default 10 000. */
  readonly ackTimeoutMs?: number;
  /**
   * How many transmissions of one message may each run into an ack timeout before `send()` rejects with
   * {@link SendTimeoutError}. Transmissions cut short by a disconnect do not count. Default 3.
   */
  readonly maxSendAttempts?: number;
  /** How long a `request()` waits for its reply, counted from the call, in ms. Default 15 000. */
  readonly requestTimeoutMs?: number;
  /** Heartbeat period while open, in ms; 0 disables. Default 300 000 (5 min, half API Gateway's idle timeout). */
  readonly heartbeatIntervalMs?: number;
  /** How long a connection attempt may take to open before it is abandoned and retried, in ms. Default 15 000. */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff on an unexpected close; `false` disables reconnecting. */
  readonly reconnect?: ReconnectOptions | false;
  /** How many (conversation, msg_id) pairs are remembered to drop redelivered messages. Default 10 000. */
  readonly dedupeCapacity?: number;
  /**
   * Catch-up on every (re)connect (default on): missed messages are fetched with `recent_sessions` and `msg_list` and
   * delivered through the `message` event. `false` turns it off; `sync()` still runs one on demand. Needs the user
   * id, read from the token's `sub`.
   */
  readonly catchUp?: boolean | CatchUpOptions;
  /**
   * What the application already holds, from an earlier `getSyncState()` (e.g. kept in localStorage), so that a
   * restarted client fetches only what is newer. Without it the first catch-up fetches every conversation's history
   * (up to `catchUp.maxMessagesPerSession` messages each).
   */
  readonly syncState?: SyncState;
}

/** `listMessages()` input. */
export interface ListMessagesInput {
  /** The peer's user id, or the group id. */
  readonly sessionId: string;
  /** 1 single chat (default), 2 group. */
  readonly sessionType?: SessionType;
  /** Messages with msg_id ≤ this one; 0 (default) = the newest. */
  readonly msgIdBegin?: number;
  /** How many, 1–100. Default 20. */
  readonly msgCnt?: number;
}

/** A session: the peer's user id or the group id, and the session type (default 1, single chat). */
export interface SessionInput {
  readonly sessionId: string;
  readonly sessionType?: SessionType;
}

/** What `send()` takes. */
export interface SendInput {
  /** The peer's user id, or the group id for group messages. */
  readonly toSessionId: string;
  /** 1 single text (default), 2 single audio, 17 group text, 18 group audio. */
  readonly msgType?: MsgType;
  /** The message body: text, or base64 for binary. */
  readonly msgData: string;
  /** An id for idempotent resends, up to 64 characters; generated (a UUID) when omitted. */
  readonly clientMsgId?: string;
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

/** Events of a ChatClient and their payloads. */
export interface ChatClientEvents {
  /** A message for this user, once per (conversation, msg_id) even when the server redelivers it. */
  message: MsgDataFrame;
  /** The `msg_data_ack` of one of this client's sends (also delivered as the resolution of `send()`). */
  ack: MsgDataAckFrame;
  /**
   * A problem not tied to a pending call: an error frame without a matching send or request
   * ({@link ChatServerError}), an unreadable frame ({@link ProtocolError}), a refused connection ({@link AuthError}),
   * a failing `getToken`, or giving up reconnecting ({@link ConnectionClosedError}).
   */
  error: Error;
  /** The connection state changed. */
  state: ConnectionState;
  /** A catch-up finished: what it listed, fetched and delivered. */
  synced: SyncResult;
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
  maxSendAttempts: 3,
  requestTimeoutMs: 15_000,
  heartbeatIntervalMs: 300_000,
  connectTimeoutMs: 15_000,
  dedupeCapacity: 10_000,
} as const;

const MAX_CLIENT_MSG_ID_LENGTH = 64;
/** Actions with their own API (`send()` and the automatic delivery ack): not available through `request()`. */
const NOT_REQUESTS = new Set(['msg_data', 'msg_data_ack']);

type RequestArgs<A extends RequestAction> = Record<never, never> extends RequestMap[A]['request']
  ? [fields?: RequestMap[A]['request']]
  : [fields: RequestMap[A]['request']];

export class ChatClient extends TypedEmitter<ChatClientEvents> {
  readonly #url: string;
  readonly #getToken: () => Promise<string>;
  readonly #tokenIsRenewable: boolean;
  readonly #clientType: number | undefined;
  readonly #WebSocket: WebSocketConstructor;
  readonly #ackTimeoutMs: number;
  readonly #maxSendAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #reconnect: ResolvedReconnectOptions | undefined;

  readonly #outbox = new Outbox();
  readonly #requests = new PendingRequests();
  readonly #deduper: MessageDeduper;
  readonly #heartbeat: Heartbeat;
  readonly #sync: Synchronizer;
  readonly #autoCatchUp: boolean;
  /** The catch-up running or last started, and the connection generation it runs on. */
  #syncing: { promise: Promise<SyncResult>; generation: number } | undefined;

  #state: ConnectionState = 'closed';
  #socket: WebSocketLike | undefined;
  #disposeSocket: ((code?: number, reason?: string) => void) | undefined;
  /** Incremented by every connection attempt and by close(); stale async work compares and stops. */
  #generation = 0;
  #nextSeq = 1;
  /** Consecutive failed connection attempts since the last open. */
  #failedAttempts = 0;
  /** Consecutive refused upgrades (401/403) since the last open. */
  #authRefusals = 0;
  #reconnectTimer: TimerHandle | undefined;
  #connectTimer: TimerHandle | undefined;
  #openWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #userId: string | undefined;

  constructor(options: ChatClientOptions) {
    super();
    if (typeof options.url !== 'string' || options.url === '') throw new TypeError('ChatClient: url is required');
    const { token, getToken } = options;
    if (getToken) {
      this.#getToken = async () => getToken();
      this.#tokenIsRenewable = true;
    } else if (typeof token === 'string' && token !== '') {
      this.#getToken = async () => token;
      this.#tokenIsRenewable = false;
    } else {
      throw new TypeError('ChatClient: token or getToken is required');
    }
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      throw new TypeError('ChatClient: no global WebSocket; pass one in options.WebSocket (in Node: `ws`)');
    }
    this.#url = options.url;
    this.#clientType = options.clientType;
    this.#WebSocket = WebSocketImpl;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs;
    this.#maxSendAttempts = Math.max(1, options.maxSendAttempts ?? DEFAULTS.maxSendAttempts);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.#reconnect = options.reconnect === false ? undefined : resolveReconnectOptions(options.reconnect);
    this.#deduper = new MessageDeduper(options.dedupeCapacity ?? DEFAULTS.dedupeCapacity);
    this.#heartbeat = new Heartbeat(options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs, () =>
      this.#sendFrameWithSeq({ action: 'heartbeat' }),
    );
    this.#autoCatchUp = options.catchUp !== false;
    const catchUpOptions = typeof options.catchUp === 'object' ? options.catchUp : {};
    this.#sync = new Synchronizer(catchUpOptions, (frame) => this.emit('message', frame), options.syncState);
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#state;
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

  /** What this client holds (sync time, per-conversation msg_id marks), to seed a later client's `syncState`. */
  getSyncState(): SyncState {
    return this.#sync.state();
  }

  /**
   * Catches up now (it also runs by itself on every open unless `catchUp: false`): resolves when the missed messages
   * are delivered, with the same result as the `synced` event. Joins a catch-up already running on this connection.
   * Rejects with {@link ConnectionClosedError} when not connected or when the connection drops meanwhile.
   */
  sync(): Promise<SyncResult> {
    if (this.#state !== 'open') return Promise.reject(new ConnectionClosedError('sync: not connected'));
    const running = this.#syncing;
    if (running && running.generation === this.#generation) return running.promise;
    return this.#startSync();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Read side

  /** `msg_list`: up to `msgCnt` messages, newest first, with msg_id ≤ `msgIdBegin` (0 = from the newest). */
  listMessages(input: ListMessagesInput): Promise<ReplyFrame<'msg_list'>> {
    return this.request('msg_list', {
      session_id: input.sessionId,
      session_type: input.sessionType ?? SessionType.Single,
      msg_id_begin: input.msgIdBegin ?? 0,
      msg_cnt: input.msgCnt ?? 20,
    });
  }

  /** `latest_msg_id`: the newest stored msg_id of a session (0 when none). */
  latestMsgId(input: SessionInput): Promise<ReplyFrame<'latest_msg_id'>> {
    return this.request('latest_msg_id', { session_id: input.sessionId, session_type: input.sessionType ?? SessionType.Single });
  }

  /** `msg_by_ids`: the listed messages that exist (1–100 msg_ids), newest first. */
  messagesByIds(input: SessionInput & { readonly msgIds: readonly number[] }): Promise<ReplyFrame<'msg_by_ids'>> {
    return this.request('msg_by_ids', {
      session_id: input.sessionId,
      session_type: input.sessionType ?? SessionType.Single,
      msg_ids: input.msgIds,
    });
  }

  /**
   * `recent_sessions`: one page (100) of the sessions updated after `latestUpdateTime` (default 0: all), newest
   * first, hidden ones left out; pass the reply's `next_page_token` as `pageToken` for the next page.
   */
  recentSessions(input: { readonly latestUpdateTime?: number; readonly pageToken?: string } = {}): Promise<ReplyFrame<'recent_sessions'>> {
    const latest_update_time = input.latestUpdateTime ?? 0;
    return this.request('recent_sessions', input.pageToken === undefined ? { latest_update_time } : { latest_update_time, page_token: input.pageToken });
  }

  /** Every page of `recent_sessions`. */
  async allRecentSessions(latestUpdateTime = 0): Promise<ContactSession[]> {
    const sessions: ContactSession[] = [];
    let pageToken: string | undefined;
    do {
      const reply = await this.recentSessions(pageToken === undefined ? { latestUpdateTime } : { latestUpdateTime, pageToken });
      sessions.push(...reply.contact_session_list);
      pageToken = reply.next_page_token;
    } while (pageToken !== undefined && pageToken !== '');
    return sessions;
  }

  /** `unread_cnt`: the total and per-session unread counts, each with the session's latest message. */
  unreadCounts(): Promise<ReplyFrame<'unread_cnt'>> {
    return this.request('unread_cnt');
  }

  /**
   * `msg_read_ack`: marks the session read up to `msgId` (not past it). The user's other connections get
   * `msg_read_notify`, the peer's get `msg_read_receipt`.
   */
  markRead(input: SessionInput & { readonly msgId: number }): Promise<ReplyFrame<'msg_read_ack'>> {
    return this.request('msg_read_ack', {
      session_id: input.sessionId,
      session_type: input.sessionType ?? SessionType.Single,
      msg_id: input.msgId,
    });
  }

  /** `remove_session`: hides the session from `recent_sessions` until its next message; other connections are told. */
  removeSession(input: SessionInput): Promise<ReplyFrame<'remove_session'>> {
    return this.request('remove_session', { session_id: input.sessionId, session_type: input.sessionType ?? SessionType.Single });
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

  /** `group_list`: this user's groups. */
  listGroups(): Promise<ReplyFrame<'group_list'>> {
    return this.request('group_list');
  }

  /** `group_info`: a group's name, owner and members (members only; others get `not_member`). */
  groupInfo(groupId: string): Promise<ReplyFrame<'group_info'>> {
    return this.request('group_info', { group_id: groupId });
  }

  /**
   * Connects, and reconnects after unexpected closes until `close()`. Resolves when the connection is open; rejects
   * when the client gives up first (refused token: {@link AuthError}; `close()` or reconnect attempts exhausted:
   * {@link ConnectionClosedError}).
   */
  connect(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    if (this.#state === 'closed') {
      this.#failedAttempts = 0;
      this.#authRefusals = 0;
      this.#setState('connecting');
      void this.#attempt();
    }
    return opened;
  }

  /**
   * Closes the connection for good and clears every timer. Pending sends and requests reject with
   * {@link ConnectionClosedError}; `connect()` may be called again later.
   */
  close(): void {
    this.#stop(new ConnectionClosedError('client closed'), false);
  }

  /**
   * Sends a message. Resolves with its `msg_data_ack` once the server stored it; rejects with
   * {@link ChatServerError} when the server refuses it, {@link SendTimeoutError} when it is never acknowledged,
   * or {@link ConnectionClosedError} / {@link AuthError} when the client stops first. Sends made while not
   * connected wait for the connection. Sending the same `clientMsgId` again while it waits returns the same promise.
   */
  send(input: SendInput): Promise<MsgDataAckFrame> {
    const { toSessionId, msgData } = input;
    const msgType = input.msgType ?? MsgType.SingleText;
    const clientMsgId = input.clientMsgId ?? createClientMsgId();
    if (typeof toSessionId !== 'string' || toSessionId === '') {
      return Promise.reject(new TypeError('send: toSessionId must be a non-empty string'));
    }
    if (typeof msgData !== 'string') return Promise.reject(new TypeError('send: msgData must be a string'));
    if (!Number.isInteger(msgType)) return Promise.reject(new TypeError('send: msgType must be an integer'));
    if (typeof clientMsgId !== 'string' || clientMsgId === '' || clientMsgId.length > MAX_CLIENT_MSG_ID_LENGTH) {
      return Promise.reject(new TypeError(`send: clientMsgId must be 1–${MAX_CLIENT_MSG_ID_LENGTH} characters`));
    }
    const existing = this.#outbox.get(clientMsgId);
    if (existing) return existing.promise;
    const entry = this.#outbox.create({ clientMsgId, toSessionId, msgType, msgData });
    if (this.#state === 'open') this.#transmit(entry);
    return entry.promise;
  }

  /**
   * Sends a request action and resolves with its reply frame (same `type` as the action, same `seq`). Rejects with
   * {@link ChatServerError} on an error frame, {@link RequestTimeoutError} after `requestTimeoutMs`, or
   * {@link ConnectionClosedError} when the connection closes before the reply (requests are not resent).
   */
  request<A extends RequestAction>(action: A, ...fields: RequestArgs<A>): Promise<ReplyFrame<A>>;
  /** Any action, for actions the SDK has no types for yet. */
  request(action: string, fields?: Readonly<Record<string, unknown>>): Promise<ServerFrame>;
  request(action: string, fields: Readonly<Record<string, unknown>> = {}): Promise<ServerFrame> {
    if (typeof action !== 'string' || action === '' || NOT_REQUESTS.has(action)) {
      return Promise.reject(new TypeError(`request: ${String(action)} is not a request action (use send())`));
    }
    const [request, promise] = this.#requests.create(action, fields, this.#requestTimeoutMs);
    if (this.#state === 'open') this.#dispatch(request);
    else this.#requests.queue(request);
    return promise;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection lifecycle

  async #attempt(): Promise<void> {
    const generation = ++this.#generation;
    let token: string;
    try {
      token = await this.#getToken();
      if (typeof token !== 'string' || token === '') throw new TypeError('getToken returned no token');
    } catch (error) {
      if (generation !== this.#generation) return;
      if (error instanceof AuthError) {
        this.#stop(error, true);
        return;
      }
      this.emit('error', toError(error));
      this.#retry();
      return;
    }
    if (generation !== this.#generation) return;
    this.#userId = tokenSubject(token) ?? this.#userId;

    let url: string;
    try {
      url = buildConnectUrl(this.#url, token, this.#clientType);
    } catch (error) {
      this.#stop(toError(error), true);
      return;
    }
    try {
      const { socket, dispose } = openSocket(this.#WebSocket, url, {
        onOpen: () => this.#onOpen(),
        onText: (text) => this.#onText(text),
        onClosed: (closed) => this.#onSocketClosed(closed),
      });
      this.#socket = socket;
      this.#disposeSocket = dispose;
    } catch (error) {
      this.#stop(toError(error), true);
      return;
    }
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      this.#disposeSocket?.(4000, 'connect timeout');
      this.#onSocketClosed({ code: 1006, reason: 'connect timeout', opened: false, httpStatus: undefined });
    }, this.#connectTimeoutMs);
  }

  #onOpen(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#failedAttempts = 0;
    this.#authRefusals = 0;
    // Flush what waited before anyone hears of the open state, so a listener's own send is not transmitted twice.
    this.#state = 'open';
    for (const entry of this.#outbox.entries()) this.#transmit(entry);
    for (const request of this.#requests.drainQueue()) this.#dispatch(request);
    this.#heartbeat.start();
    this.emit('state', 'open');
    for (const waiter of this.#openWaiters.splice(0)) waiter.resolve();
    // A listener may have closed the client or the socket may be gone already.
    if (this.#autoCatchUp && this.#state === 'open' && this.#userId !== undefined) {
      this.#startSync().catch((error: unknown) => {
        // A dropped connection ends a catch-up quietly: the next open runs another one.
        if (!(error instanceof ConnectionClosedError)) this.emit('error', toError(error));
      });
    }
  }

  /** Starts a catch-up on the current connection, once any earlier one has ended. */
  #startSync(): Promise<SyncResult> {
    const generation = this.#generation;
    const userId = this.#userId;
    if (userId === undefined) {
      return Promise.reject(new ChatError('catch-up needs the user id: the token has no readable sub'));
    }
    const previous = this.#syncing?.promise;
    const transport: SyncTransport = {
      recentSessions: (fields) => this.request('recent_sessions', fields),
      msgList: (fields) => this.request('msg_list', fields),
      msgByIds: (fields) => this.request('msg_by_ids', fields),
    };
    const isCurrent = () => this.#generation === generation && this.#state === 'open';
    const promise = (async () => {
      await previous?.catch(() => undefined);
      const result = await this.#sync.run(transport, userId, isCurrent, (error) => this.emit('error', error));
      this.emit('synced', result);
      return result;
    })();
    const syncing = { promise, generation };
    this.#syncing = syncing;
    const settled = () => {
      if (this.#syncing === syncing) this.#syncing = undefined;
    };
    promise.then(settled, settled);
    return promise;
  }

  #onSocketClosed(closed: SocketClosed): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#socket = undefined;
    this.#disposeSocket = undefined;
    this.#heartbeat.stop();
    this.#outbox.detachFromConnection();
    this.#requests.rejectInFlight(new ConnectionClosedError(`connection closed (${closed.code}) before the reply`));

    if (closed.httpStatus === 401 || closed.httpStatus === 403) {
      this.#authRefusals += 1;
      // A renewable token gets one fresh try: the refused one may just have expired.
      if (!this.#tokenIsRenewable || this.#authRefusals > 1) {
        this.#stop(new AuthError(`connection refused by the server (HTTP ${closed.httpStatus})`, closed.httpStatus), true);
        return;
      }
    }
    this.#retry();
  }

  /** Schedules the next connection attempt with backoff, or gives up. */
  #retry(): void {
    const reconnect = this.#reconnect;
    if (!reconnect) {
      this.#stop(new ConnectionClosedError('connection closed (reconnect disabled)'), true);
      return;
    }
    if (this.#failedAttempts >= reconnect.maxAttempts) {
      this.#stop(new ConnectionClosedError(`gave up after ${this.#failedAttempts} reconnect attempt(s)`), true);
      return;
    }
    const delay = backoffDelay(this.#failedAttempts, reconnect);
    this.#failedAttempts += 1;
    this.#setState('reconnecting');
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attempt();
    }, delay);
  }

  /** Ends the connection and everything pending with `error`. */
  #stop(error: Error, report: boolean): void {
    this.#generation += 1;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#heartbeat.stop();
    const dispose = this.#disposeSocket;
    this.#socket = undefined;
    this.#disposeSocket = undefined;
    dispose?.(1000, 'client closed');
    this.#outbox.rejectAll(error);
    this.#requests.rejectAll(error);
    for (const waiter of this.#openWaiters.splice(0)) waiter.reject(error);
    this.#setState('closed');
    if (report) this.emit('error', error);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Outgoing frames

  /** Sends a frame as JSON on the open socket; false when there is none. */
  #sendFrame(frame: object): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends `frame` with the next seq; returns the seq, or undefined when not sent. */
  #sendFrameWithSeq(frame: Record<string, unknown>): number | undefined {
    const seq = this.#nextSeq++;
    return this.#sendFrame({ ...frame, seq }) ? seq : undefined;
  }

  #transmit(entry: OutboxEntry): void {
    const seq = this.#nextSeq++;
    const frame: MsgDataRequestFrame = {
      action: 'msg_data',
      seq,
      to_session_id: entry.toSessionId,
      msg_type: entry.msgType,
      msg_data: entry.msgData,
      client_msg_id: entry.clientMsgId,
    };
    if (!this.#sendFrame(frame)) return; // Not connected: it is resent on the next open.
    this.#outbox.assignSeq(entry, seq);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#onAckTimeout(entry), this.#ackTimeoutMs);
  }

  #onAckTimeout(entry: OutboxEntry): void {
    entry.timer = undefined;
    entry.timeouts += 1;
    if (entry.timeouts >= this.#maxSendAttempts) {
      this.#outbox.remove(entry);
      entry.reject(new SendTimeoutError(entry.clientMsgId, entry.timeouts));
      return;
    }
    if (this.#state === 'open') this.#transmit(entry);
  }

  #dispatch(request: PendingRequest): void {
    const seq = this.#nextSeq++;
    this.#requests.markSent(request, seq);
    if (!this.#sendFrame({ ...request.fields, action: request.action, seq })) {
      this.#requests.take(seq);
      request.reject(new ConnectionClosedError(`connection closed before ${request.action} was sent`));
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Incoming frames

  #onText(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) {
      this.emit('error', new ProtocolError('server frame is not a JSON object with a string type', text));
      return;
    }
    if (frame.type === 'msg_data') {
      if (isMsgDataFrame(frame)) this.#onMessage(frame);
      else this.emit('error', new ProtocolError('msg_data frame with missing or mistyped fields', text));
      return;
    }
    if (isMsgDataAckFrame(frame)) {
      this.#onAck(frame);
      return;
    }
    if (isErrorFrame(frame)) {
      this.#onErrorFrame(frame.code, typeof frame.message === 'string' ? frame.message : '', frame.seq);
      return;
    }
    if (frame.seq !== undefined) {
      if (frame.type === 'heartbeat' && this.#heartbeat.claim(frame.seq)) return;
      const request = this.#requests.take(frame.seq, frame.type);
      if (request) {
        request.resolve(frame);
        return;
      }
    }
    if (isReadNoticeFrame(frame)) {
      if (frame.type === 'msg_read_notify') this.emit('msg_read_notify', frame);
      else this.emit('msg_read_receipt', frame);
      return;
    }
    if (isRemoveSessionNotifyFrame(frame)) {
      this.emit('remove_session_notify', frame);
      return;
    }
    if (isGroupChangeMemberNotifyFrame(frame)) {
      this.emit('group_change_member_notify', frame);
      return;
    }
    this.emit('frame', frame);
  }

  #onMessage(frame: MsgDataFrame): void {
    // Acknowledged every time, duplicates too: a redelivery means the server did not get the earlier ack.
    const group = isGroupMsgType(frame.msg_type);
    const ack: MsgDataAckRequestFrame = {
      action: 'msg_data_ack',
      msg_id: frame.msg_id,
      // The other side of the conversation from this user's view: for a copy of one's own message sent from
      // another device, the peer it was sent to.
      session_id: group || frame.from_user_id === this.#userId ? frame.to_session_id : frame.from_user_id,
      session_type: group ? SessionType.Group : SessionType.Single,
    };
    this.#sendFrame(ack);
    if (!this.#deduper.isFirst(frame)) return;
    // With the user id known, the synchronizer tracks what is held and holds back a conversation being caught up.
    if (this.#userId !== undefined) this.#sync.receive(frame, this.#userId);
    else this.emit('message', frame);
  }

  #onAck(frame: MsgDataAckFrame & ServerFrame): void {
    if (typeof frame.user_id === 'string' && frame.user_id !== '') this.#userId = frame.user_id;
    const entry =
      (frame.seq !== undefined ? this.#outbox.bySeq(frame.seq) : undefined) ??
      (typeof frame.client_msg_id === 'string' ? this.#outbox.get(frame.client_msg_id) : undefined);
    if (!entry) {
      this.emit('frame', frame); // A late duplicate of an ack already delivered.
      return;
    }
    this.#outbox.remove(entry);
    if (this.#userId !== undefined && typeof frame.session_id === 'string' && Number.isInteger(frame.session_type)) {
      this.#sync.recordSent(frame.session_type, frame.session_id, frame.msg_id);
    }
    entry.resolve(frame);
    this.emit('ack', frame);
  }

  #onErrorFrame(code: string, message: string, seq: number | undefined): void {
    const error = new ChatServerError(code, message, seq);
    if (seq !== undefined) {
      if (this.#heartbeat.claim(seq)) return; // A server without the heartbeat action.
      const entry = this.#outbox.bySeq(seq);
      if (entry) {
        this.#outbox.remove(entry);
        entry.reject(error);
        return;
      }
      const request = this.#requests.take(seq);
      if (request) {
        request.reject(error);
        return;
      }
    }
    this.emit('error', error);
  }
}

function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new ChatError(String(value));
}
