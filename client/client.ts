/**
 * ChatClient: one user's connection to the chat stack. It sends messages and resolves them with their
 * `msg_data_ack` (paced, in order per conversation, retried with the same `client_msg_id` until stored or refused),
 * acknowledges (in bulk) and de-duplicates incoming messages, catches up on what it missed after every (re)connect,
 * answers request/reply actions, and keeps the connection alive (connection.ts). Its parts: Connection, Outbox,
 * PendingRequests, AckBatcher, Synchronizer; this class wires them and holds the public API.
 */
import { AckBatcher, DEFAULT_ACK_WINDOW_MS } from './acks.js';
import type { AttachmentDescription, AttachmentKind } from '../protocol/attachments.js';
import * as attachments from './attachments.js';
import { DEFAULT_SEND_RETRY, resolveBackoff, resolveReconnectOptions } from './backoff.js';
import { Connection, toError, type ConnectionState, type ConnectionStatus } from './connection.js';
import { conversationOfMessage, group, sessionRefOf, type Conversation } from './conversation.js';
import * as safety from './safety-reports.js';
import { MessageDeduper } from './dedupe.js';
import { TypedEmitter } from './emitter.js';
import { withDeadline, type Deadline } from './deadline.js';
import {
  ChatError,
  ChatServerError,
  ConnectTimeoutError,
  ConnectionClosedError,
  ProtocolError,
  SendTimeoutError,
} from './errors.js';
import {
  DEVICE_ID_PATTERN,
  DEVICE_PLATFORMS,
  gatewayErrorOf,
  LIMIT_DEFAULTS,
  MAX_IDS_PER_REQUEST,
  isErrorFrame,
  isGroupChangeMemberNotifyFrame,
  isKickFrame,
  isMsgDataAckFrame,
  isMsgDataFrame,
  isReadNoticeFrame,
  isRemoveSessionNotifyFrame,
  parseServerFrame,
  type AccountExportReadyFrame,
  type ContactSession,
  type DevicePlatform,
  type GroupInfo,
  type GroupListEntry,
  type MsgDataAckFrame,
  type MsgDataFrame,
  type MsgEditedFrame,
  type ReplyFrame,
  type RequestAction,
  type RequestMap,
  type ServerFrame,
  type SettablePresenceStatus,
  type UserStat,
} from './frames.js';
import { createClientMsgId, tokenSubject } from './ids.js';
import { networkEventsOf, outgoingMessage, tokenSource } from './inputs.js';
import { Outbox, type OutboxEntry, type OutgoingMessage } from './outbox.js';
import { PACING_WINDOW_MS, RateGate } from './rate-gate.js';
import { PendingRequests } from './requests.js';
import * as blocks from './safety-blocks.js';
import { checkedUserIds, isPresenceFrame, PresenceSubscriptions } from './presence.js';
import * as edits from './edits.js';
import { isTypingFrame, TypingSender, TypingTracker } from './typing.js';
import type { WebSocketConstructor } from './socket.js';
import { Synchronizer, type MessageSource, type SyncResult, type SyncState, type SyncTransport } from './sync.js';
import type {
  ChangeGroupMembersInput,
  ChatClientEvents,
  ChatClientOptions,
  CreateGroupInput,
  ListMessagesInput,
  SendInput,
  UnreadCounts,
} from './types.js';

const DEFAULTS = {
  ackTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  heartbeatIntervalMs: 300_000,
  pingTimeoutMs: 10_000,
  connectTimeoutMs: 15_000,
  suspendAfterMs: 120_000,
  ackBatchMs: DEFAULT_ACK_WINDOW_MS,
  dedupeCapacity: 10_000,
  maxSendAttempts: 10,
} as const;

type RequestArgs<A extends RequestAction> =
  Record<never, never> extends RequestMap[A]['request']
    ? [fields?: RequestMap[A]['request']]
    : [fields: RequestMap[A]['request']];

/** How long `signOut()` may take to reach the server and remove the install's push tokens, by default. */
const SIGN_OUT_TIMEOUT_MS = 10_000;

/** The install's id: the option, else the saved sync state's, else a new one (kept in getSyncState()). */
function deviceIdOf(options: Pick<ChatClientOptions, 'deviceId' | 'syncState'>): string {
  for (const candidate of [options.deviceId, options.syncState?.deviceId]) {
    if (candidate === undefined) continue;
    if (typeof candidate === 'string' && DEVICE_ID_PATTERN.test(candidate)) return candidate;
    throw new TypeError('ChatClient: deviceId must be 1–64 characters of A-Za-z0-9_.:-');
  }
  return createClientMsgId();
}

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
  /** This install's id, sent with every push token it registers, so that signOut() removes them all by it. */
  #deviceId: string;
  /** The `deviceId` option: it wins over a restored state's. */
  readonly #givenDeviceId: string | undefined;
  /** Platforms of tokens another user held when registered here (to register them with the device id once verified). */
  readonly #pendingTokens = new Map<string, DevicePlatform>();
  /**
   * The users whose presence this client watches (`presence.subscribe`, `unsubscribe`, `status`), subscribed again on
   * every (re)connect and renewed before the server's expiry; each change is a `presence` event.
   */
  readonly presence: PresenceSubscriptions;
  readonly #typingSender: TypingSender;
  readonly #typingTracker: TypingTracker;

  constructor(options: ChatClientOptions) {
    super();
    if (typeof options.url !== 'string' || options.url === '') throw new TypeError('ChatClient: url is required');
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl)
      throw new TypeError('ChatClient: no global WebSocket; pass one in options.WebSocket (in Node: `ws`)');
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
      maxSendAttempts: Math.max(1, options.maxSendAttempts ?? DEFAULTS.maxSendAttempts),
      retry: resolveBackoff(DEFAULT_SEND_RETRY, options.sendRetry, 'sendRetry'),
      gate: new RateGate(rates.rateLimitPerSecond, PACING_WINDOW_MS),
      transmit: (entry) => this.#transmit(entry),
      stalled: () => this.#connection.probe(),
      retrying: (entry, error, delayMs) =>
        this.emit('send_retry', {
          clientMsgId: entry.clientMsgId,
          conversation: entry.conversation,
          error,
          retryAt: Date.now() + delayMs,
        }),
    });
    this.#requests = new PendingRequests({
      timeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      gates: {
        write: new RateGate(rates.writeRateLimitPerSecond, PACING_WINDOW_MS),
        read: new RateGate(rates.readRateLimitPerSecond, PACING_WINDOW_MS),
      },
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
    this.#sync = new Synchronizer(catchUp, (frame, source) => this.#deliver(frame, source), options.syncState);
    this.#givenDeviceId = options.deviceId;
    this.#deviceId = deviceIdOf(options);
    this.presence = new PresenceSubscriptions({
      request: (action, fields) => this.request(action, fields),
      isOpen: () => this.state === 'open',
      changed: (stat) => this.emit('presence', stat),
      failed: (error) => {
        if (!(error instanceof ConnectionClosedError)) this.emit('error', toError(error));
      },
    });
    this.#typingSender = new TypingSender(options.typing ?? {}, (conversation, state) =>
      this.#connection.send({ action: 'typing', ...sessionRefOf(conversation), state }),
    );
    this.#typingTracker = new TypingTracker(options.typing ?? {}, (change) => this.emit('typing', change));
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

  /**
   * What this client holds (sync time, per-conversation marks, holes, the install's `deviceId`), to seed a later
   * client's `syncState`.
   */
  getSyncState(): SyncState {
    return { ...this.#sync.state(), deviceId: this.#deviceId };
  }

  /**
   * Takes a saved `getSyncState()` before the first `connect()` (for apps that read their storage after creating the
   * client, e.g. from AsyncStorage): the same as passing it as `syncState`. Throws once the client has connected.
   */
  restoreSyncState(state: SyncState): void {
    if (this.#opens > 0 || this.state !== 'initialized')
      throw new ChatError('restoreSyncState: only before the first connect()');
    this.#sync.load(state);
    if (state.deviceId !== undefined) this.#deviceId = deviceIdOf({ deviceId: this.#givenDeviceId, syncState: state });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection

  /**
   * Connects, and reconnects after unexpected closes until `close()`. While a reconnect waits for its backoff, it
   * attempts at once. Resolves when the connection is open; rejects when the client stops first (refused token:
   * {@link AuthError}; kicked: {@link KickedError}; `close()` or reconnect attempts exhausted: ConnectionClosedError),
   * or when `timeoutMs` passes ({@link ConnectTimeoutError}) or `signal` aborts ({@link AbortError}) first — then the
   * client goes on trying in the background: call `close()` to stop it.
   */
  connect(options?: Deadline): Promise<void> {
    return withDeadline(
      this.#connection.connect(),
      options,
      () => new ConnectTimeoutError(options?.timeoutMs ?? 0, { cause: this.connection.errorReason }),
    );
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
    // Acks still gathering go out first: dropped, their messages would come again by the next catch-up.
    this.#acks.flush();
    this.#typingTracker.clearAll();
    this.#connection.stop(new ConnectionClosedError('client closed'), 'closed_by_client', false);
  }

  /**
   * Signs out: removes the push tokens this install registered (`device_token_remove` by its device id, in this run
   * or an earlier one; `everywhere` removes every token of the user), then closes. Connects first when needed, for
   * at most `timeoutMs` (10 s by default); rejects when the tokens could not be removed (offline: the next account
   * that registers the token on this device takes it over by the challenge push) — the client is closed either way.
   */
  async signOut(options: Deadline & { readonly everywhere?: boolean } = {}): Promise<void> {
    try {
      const deadline = { timeoutMs: SIGN_OUT_TIMEOUT_MS, ...options };
      if (this.state !== 'open') await this.connect(deadline);
      const removal = options.everywhere ? { all: true as const } : { device_id: this.#deviceId };
      await withDeadline(
        this.request('device_token_remove', removal),
        deadline,
        () => new ChatError('sign-out timed out'),
      );
    } finally {
      this.close();
    }
  }

  /**
   * Deletes this user's account (`account_delete`): resolves once the server has accepted the deletion. The server
   * then kicks every connection of the user with `account_deleted` (this client goes `closed`, reason
   * `account_closed`) and refuses new ones, while a job erases the account: its messages become tombstones
   * (`deleted: true` for everyone else), its groups pass to their longest-standing members. Ask the user to
   * confirm first: it cannot be undone. Rejects like any request (ChatServerError `rate_limited`, timeouts).
   */
  async deleteAccount(options: Deadline = {}): Promise<void> {
    await withDeadline(
      this.request('account_delete', {}),
      { timeoutMs: SIGN_OUT_TIMEOUT_MS, ...options },
      () => new ChatError('account deletion timed out'),
    );
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
   * `rate_limited`, `internal`, an overdue ack or a reconnect, up to `maxSendAttempts` transmissions. Rejects with
   * ChatServerError when the server refuses it (for good, or too often), SendTimeoutError when its acks stay overdue
   * or `timeoutMs` passes, AbortError when `signal` aborts, or ConnectionClosedError / AuthError / KickedError when
   * the client stops first; a rejected send leaves the outbox. Sending a `clientMsgId` that is still waiting returns
   * the same promise.
   */
  send(input: SendInput): Promise<MsgDataAckFrame> {
    const closed = this.#closedError('send');
    if (closed) return Promise.reject(closed);
    let message: OutgoingMessage;
    try {
      message = outgoingMessage(input);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    const entry = this.#outbox.get(message.key, message.clientMsgId) ?? this.#outbox.add(message);
    return withDeadline(
      entry.promise,
      input,
      () => new SendTimeoutError(entry.clientMsgId, `within ${input.timeoutMs} ms`),
      (error) => this.#outbox.cancel(entry, error),
    );
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
  // Typing (client/typing.ts)

  /**
   * Call as the user types in a conversation (on every keystroke if you like): sends `start` at most once per 3.5 s,
   * the server's interval and a margin. Not queued: while not connected it does nothing.
   */
  typing(conversation: Conversation): void {
    this.#typingSender.typing(conversation);
  }

  /** Call when the user stops typing without sending (cleared the input, left): one `stop`, if a `start` went out. */
  stopTyping(conversation: Conversation): void {
    this.#typingSender.stopTyping(conversation);
  }

  /**
   * The users typing in a conversation now, by the `typing` frames received: each from its `start` until its `stop`,
   * its next message there, or 6 s without another `start`. The `typing` event tells each change.
   */
  typingUsers(conversation: Conversation): string[] {
    return this.#typingTracker.typists(conversation);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Attachments (client/attachments.ts)

  /**
   * Uploads a picture (image/jpeg, png, webp or gif; a File, Blob or React Native file URI) and sends the text message
   * that describes it. `onProgress` reports the upload; `signal` cancels it (AbortError); call again to retry.
   */
  sendPicture(input: attachments.SendPictureInput): Promise<MsgDataAckFrame> {
    return attachments.sendPicture(this.#attachmentTransport(), input);
  }

  /** Uploads a voice note (a MediaRecorder blob, or a file URI) and sends the audio message that describes it. */
  sendVoice(input: attachments.SendVoiceInput): Promise<MsgDataAckFrame> {
    return attachments.sendVoice(this.#attachmentTransport(), input);
  }

  /**
   * Uploads a picture or voice note without sending anything: resolves with the key, type and size a description
   * needs (for apps that build and send the message themselves, e.g. to show it while it uploads).
   */
  uploadAttachment(
    source: attachments.UploadSource,
    kind: AttachmentKind,
    options?: attachments.UploadOptions,
  ): Promise<Pick<AttachmentDescription, 'key' | 'content_type' | 'size'>> {
    return attachments.uploadAttachment(this.#attachmentTransport(), source, kind, options);
  }

  /** A short-lived URL to download an attachment a message of the conversation references (members only). */
  attachmentUrl(input: { readonly conversation: Conversation; readonly key: string }): Promise<string> {
    return attachments.attachmentUrl(this.#attachmentTransport(), input);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Safety (client/safety-reports.ts)

  /**
   * Reports a message of a conversation this user is in, or a user, with a reason (`spam`, `abuse`, `sexual`,
   * `violence`, `illegal`, `other`) and optional text. Resolves with the report id, the same for a repeated report of
   * the same target. Rejects with a TypeError for a bad reason or too long a text, ChatServerError `not_member`,
   * `bad_request` or `rate_limited` (past the daily cap).
   */
  async report(input: safety.ReportInput): Promise<string> {
    return (await this.request('report', safety.reportFields(input))).report_id;
  }

  /**
   * Asks for an export of this user's data (one a day; a second request the same day answers the same id and a fresh
   * URL). Resolves with the export id and `ready`, which resolves with the `account_export_ready` frame (its `url`
   * downloads the JSON until `expires_at`) or rejects with ExportTimeoutError after `timeoutMs` (default 5 minutes).
   * The frame also comes as the `account_export_ready` event, e.g. after a reconnect.
   */
  async exportAccount(options: { readonly timeoutMs?: number } = {}): Promise<{
    readonly exportId: string;
    readonly ready: Promise<AccountExportReadyFrame>;
  }> {
    // Listening before asking: the frame may arrive right after the reply.
    let exportId: string | undefined;
    const early: AccountExportReadyFrame[] = [];
    const off = this.on('account_export_ready', (frame) => early.push(frame));
    try {
      exportId = (await this.request('account_export', {})).export_id;
    } finally {
      off();
    }
    const id = exportId;
    const arrived = early.find((f) => f.export_id === id);
    const ready = arrived ? Promise.resolve(arrived) : safety.waitForExport(this, id, options.timeoutMs ?? 300_000);
    ready.catch(() => undefined);
    return { exportId: id, ready };
  }

  #attachmentTransport(): attachments.AttachmentTransport {
    return { request: (action, fields) => this.request(action, fields), send: (input) => this.send(input) };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Read side

  /**
   * `msg_list`: one page of messages, newest first, with msg_id ≤ `msgIdBegin` (0 = from the newest). `has_more`
   * says older ones remain: go on with `msgIdBegin` = the smallest msg_id returned − 1. A page may hold fewer than
   * `msgCnt` (replies stay under 128 KB), but at least one when there is one.
   */
  async listMessages(input: ListMessagesInput): Promise<ReplyFrame<'msg_list'>> {
    const { conversation } = input;
    const msgCnt = input.msgCnt ?? 20;
    const reply = await this.request('msg_list', {
      ...sessionRefOf(conversation),
      msg_id_begin: input.msgIdBegin ?? 0,
      msg_cnt: msgCnt,
    });
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
  async messagesByIds(input: {
    readonly conversation: Conversation;
    readonly msgIds: readonly number[];
  }): Promise<ReplyFrame<'msg_by_ids'>> {
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
  recentSessions(
    input: { readonly latestUpdateTime?: number; readonly pageToken?: string } = {},
  ): Promise<ReplyFrame<'recent_sessions'>> {
    const latest_update_time = input.latestUpdateTime ?? 0;
    return this.request(
      'recent_sessions',
      input.pageToken === undefined ? { latest_update_time } : { latest_update_time, page_token: input.pageToken },
    );
  }

  /** Every page of `recent_sessions`. */
  async allRecentSessions(latestUpdateTime = 0): Promise<ContactSession[]> {
    const pages = await this.#allPages((page_token) =>
      this.request('recent_sessions', { latest_update_time: latestUpdateTime, ...page_token }),
    );
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
  markRead(input: {
    readonly conversation: Conversation;
    readonly msgId: number;
  }): Promise<ReplyFrame<'msg_read_ack'>> {
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
    return this.request('group_change_member', {
      group_id: input.groupId,
      change_type: input.changeType,
      member_ids: input.memberIds,
    });
  }

  /** Leaves a group (a `del` of this user; the owner cannot leave). Needs the user id (the token's `sub`). */
  leaveGroup(groupId: string): Promise<ReplyFrame<'group_change_member'>> {
    const userId = this.#userId;
    if (userId === undefined)
      return Promise.reject(new ChatError('leaveGroup needs the user id: the token has no readable sub'));
    return this.changeGroupMembers({ groupId, changeType: 'del', memberIds: [userId] });
  }

  /** `session_mute`: stops (`mute`, the default) or restarts this user's push notifications of a group's messages. */
  muteGroup(groupId: string, mute = true): Promise<ReplyFrame<'session_mute'>> {
    return this.request('session_mute', { ...sessionRefOf(group(groupId)), mute });
  }

  /** Every page of `group_list`: this user's groups. */
  async listGroups(): Promise<{ readonly group_list: readonly GroupListEntry[] }> {
    const pages = await this.#allPages((page_token) => this.request('group_list', page_token));
    return { group_list: pages.flatMap((page) => page.group_list) };
  }

  /** Every page of `group_info`: a group's name, owner and members (members only; others get `not_member`). */
  async groupInfo(groupId: string): Promise<GroupInfo> {
    const pages = await this.#allPages((page_token) =>
      this.request('group_info', { group_id: groupId, ...page_token }),
    );
    const { group_id, group_name, owner_id, member_count } = pages[pages.length - 1]!;
    return { group_id, group_name, owner_id, member_count, cur_user_id_list: pages.flatMap((p) => p.cur_user_id_list) };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Blocks (client/safety-blocks.ts)

  /**
   * `user_block`: stops one-to-one messages and read receipts between this user and `userId` both ways, and marks
   * `userId`'s group messages `blocked_sender`. Blocking twice is one block; BlockLimitError past the server's cap.
   */
  block(userId: string): Promise<void> {
    return blocks.block((action, fields) => this.request(action, fields), userId);
  }

  /** `user_unblock`: lifts this user's block of `userId` (no error when there is none). */
  unblock(userId: string): Promise<void> {
    return blocks.unblock((action, fields) => this.request(action, fields), userId);
  }

  /** `block_list`, every page: the users this user blocks, in user id order (`for await (const id of chat.blockList())`). */
  blockList(): AsyncGenerator<string, void, undefined> {
    return blocks.blockList((action, fields) => this.request(action, fields));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Presence (client/presence.ts; watching users: `presence`)

  /** `users_stat`: the statuses of 1–100 users now (a blocked pair reads `offline`), without watching them. */
  async usersStat(userIds: readonly string[]): Promise<readonly UserStat[]> {
    const reply = await this.request('users_stat', { user_ids: checkedUserIds('usersStat', userIds) });
    return reply.user_stat_list;
  }

  /**
   * `presence_set`: this connection is `away` (e.g. the app went to the background) or `online` again; the user reads
   * `away` while every open connection is. Kept across reconnects: a new connection is set away again.
   */
  setPresence(status: SettablePresenceStatus): Promise<void> {
    return this.presence.set(status);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Recall and edit (client/edits.ts)

  /**
   * `msg_recall`: recalls a message for everyone — this user's own within the recall window (2 minutes by default), or
   * any message of a group this user owns. The members' other connections get `msg_recalled`.
   * MessageChangeNotAllowedError outside those rules.
   */
  async recall(conversation: Conversation, msgId: number): Promise<void> {
    await edits.change((action, fields) => this.request(action, fields), 'msg_recall', conversation, msgId);
  }

  /**
   * `msg_edit`: replaces the text of this user's text message within the edit window (15 minutes by default);
   * resolves with `edited_at`. The members' other connections get `msg_edited`. MessageChangeNotAllowedError outside
   * those rules.
   */
  async edit(conversation: Conversation, msgId: number, text: string): Promise<number> {
    const request: edits.EditRequester = (action, fields) => this.request(action, fields);
    return (await edits.change(request, 'msg_edit', conversation, msgId, text)).edited_at;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Push tokens

  /**
   * `device_token`: registers this device's push token for this user. `pending` when another account holds the
   * token: the device then gets a push whose data carries `device_token_code`; pass it to `verifyDeviceToken`.
   */
  async registerDeviceToken(input: {
    readonly token: string;
    readonly platform: DevicePlatform;
  }): Promise<{ readonly pending: boolean }> {
    const { token, platform } = input;
    if (typeof token !== 'string' || token === '' || token.length > LIMIT_DEFAULTS.maxDeviceTokenLength) {
      throw new TypeError(`registerDeviceToken: token must be 1–${LIMIT_DEFAULTS.maxDeviceTokenLength} characters`);
    }
    if (!(DEVICE_PLATFORMS as readonly string[]).includes(platform))
      throw new TypeError(`registerDeviceToken: platform must be one of ${DEVICE_PLATFORMS.join(', ')}`);
    const reply = await this.request('device_token', { token, platform, device_id: this.#deviceId });
    if (reply.pending === true) this.#pendingTokens.set(token, platform);
    return { pending: reply.pending === true };
  }

  /**
   * `device_token_verify`: takes this device's token with the code its challenge push carried (`data.device_token_code`);
   * then registers it with this install's device id when it was registered here (so `signOut()` removes it too).
   */
  async verifyDeviceToken(input: { readonly token: string; readonly code: string }): Promise<void> {
    await this.request('device_token_verify', { token: input.token, code: input.code });
    const platform = this.#pendingTokens.get(input.token);
    this.#pendingTokens.delete(input.token);
    if (platform) await this.request('device_token', { token: input.token, platform, device_id: this.#deviceId });
  }

  /** `device_token_remove`: stops pushes to this token for this user (`signOut()` removes this install's by itself). */
  async unregisterDeviceToken(token: string): Promise<void> {
    await this.request('device_token_remove', { token });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection events

  #onOpened(): void {
    this.#opens += 1;
    this.#sync.online(true);
    this.#outbox.opened();
    this.#requests.opened();
    this.presence.opened();
    this.#typingSender.reset();
  }

  #onStatus(status: ConnectionStatus): void {
    this.emit('state', status.state);
    // After the `open` event, so that its listeners hear of the connection before its first catch-up request.
    if (status.state === 'open' && this.#autoCatchUp && this.state === 'open') this.#autoSync();
  }

  #onLost(): void {
    this.#sync.online(false);
    this.#outbox.lost();
    this.#acks.reset();
    this.#requests.lost(new ConnectionClosedError('connection closed before the reply'));
    this.presence.lost();
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
    return new ConnectionClosedError(`${what}: the client is closed (${reason ?? 'closed'}); call connect() first`, {
      cause: errorReason,
    });
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
    if (userId === undefined)
      return Promise.reject(new ChatError('catch-up needs the user id: the token has no readable sub'));
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
  async #allPages<R extends { readonly next_page_token?: string }>(
    ask: (pageToken: { page_token?: string }) => Promise<R>,
  ): Promise<R[]> {
    const pages: R[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await ask(token === undefined ? {} : { page_token: token });
      pages.push(page);
      token =
        typeof page.next_page_token === 'string' && page.next_page_token !== '' && !seen.has(page.next_page_token)
          ? page.next_page_token
          : undefined;
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
    if (!frame) {
      const gatewayError = gatewayErrorOf(text);
      if (gatewayError !== undefined)
        return this.emit('error', new ChatServerError('internal', `API Gateway: ${gatewayError}`));
      return this.emit('error', new ProtocolError('server frame is not a JSON object with a string type', text));
    }
    if (frame.type === 'msg_data') {
      if (isMsgDataFrame(frame)) this.#onMessage(frame);
      else this.emit('error', new ProtocolError('msg_data frame with missing or mistyped fields', text));
      return;
    }
    if (isMsgDataAckFrame(frame)) return this.#onAck(frame);
    if (isErrorFrame(frame))
      return this.#onErrorFrame(
        new ChatServerError(frame.code, typeof frame.message === 'string' ? frame.message : '', frame.seq),
      );
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
    if (isReadNoticeFrame(frame))
      this.emit(frame.type === 'msg_read_notify' ? 'msg_read_notify' : 'msg_read_receipt', frame);
    else if (isRemoveSessionNotifyFrame(frame)) this.emit('remove_session_notify', frame);
    else if (isGroupChangeMemberNotifyFrame(frame)) this.emit('group_change_member_notify', frame);
    else if (safety.isAccountExportReadyFrame(frame)) this.emit('account_export_ready', frame);
    else if (isPresenceFrame(frame)) this.presence.received(frame);
    else if (isTypingFrame(frame)) this.#typingTracker.frame(frame);
    else if (edits.isMessageChangeFrame(frame)) {
      if (frame.type === 'msg_edited') this.emit('msg_edited', frame as MsgEditedFrame);
      else this.emit('msg_recalled', frame);
    } else this.emit('frame', frame);
  }

  #onMessage(frame: MsgDataFrame): void {
    this.#sync.observeServerTime(frame.create_time);
    // Acknowledged every time, duplicates too: a redelivery means the server did not get the earlier ack.
    this.#acks.add(sessionRefOf(conversationOfMessage(frame, this.#userId)), frame.msg_id);
    if (!this.#deduper.isFirst(frame)) return;
    // With the user id known, the synchronizer tracks what is held and holds back a conversation being caught up.
    if (this.#userId !== undefined) this.#sync.receive(frame, this.#userId);
    else this.#deliver(frame, 'live');
  }

  #deliver(frame: MsgDataFrame, source: MessageSource): void {
    const conversation = conversationOfMessage(frame, this.#userId);
    const own = frame.from_user_id === this.#userId;
    // A message ends its sender's typing there (its `stop` may never come).
    if (!own) this.#typingTracker.clear(conversation, frame.from_user_id);
    this.emit('message', { ...frame, conversation, live: source === 'live', source, own });
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
      if (this.#connection.claim(seq) || this.#acks.refused(seq, error.serverCode) || this.#outbox.refused(error))
        return;
      if (this.#requests.refused(seq, error)) return;
    }
    this.emit('error', error);
  }
}
