/**
 * ChatStore: the state a chat UI binds to, kept by one ChatClient's events and requests — each conversation's
 * messages (history pages on demand, live and caught-up messages merged in msg_id order, this device's sends shown
 * at once as `pending` and matched with their stored copy by client_msg_id, failed ones kept with a retry), unread
 * counts, read receipts, the recent-sessions list kept live, groups and the connection. `subscribe(listener)` and
 * `getSnapshot()` are the shape React's `useSyncExternalStore`, Vue's and Svelte's stores take: a snapshot is an
 * immutable object that stays the same until something changes, and what did not change keeps its identity.
 * Listeners hear of a burst of changes (a catch-up's messages) once, after it.
 *
 * Its parts: ConversationRecord (one conversation's messages), SessionList, GroupList, model.ts (the snapshot types
 * and the wire's conversions), persistence.ts (what survives a restart); this class wires them to the client.
 */
import type { AttachmentKind } from '../../protocol/attachments.js';
import type { UploadSource } from '../attachments.js';
import type { ChatClient } from '../client.js';
import { conversationKey, conversationOf, msgTypeOf, type Conversation } from '../conversation.js';
import type { Deadline } from '../deadline.js';
import { AbortError, ChatServerError } from '../errors.js';
import type {
  GroupChangeMemberNotifyFrame,
  ListedMessage,
  MsgDataAckFrame,
  MsgEditedFrame,
  MsgReadNotifyFrame,
  MsgRecalledFrame,
  RemoveSessionNotifyFrame,
} from '../frames.js';
import { MAX_VOICE_SECONDS } from '../frames.js';
import { createClientMsgId } from '../ids.js';
import type { ReceivedMessage } from '../types.js';
import { ConversationRecord } from './conversation-record.js';
import { GroupList } from './groups.js';
import {
  contentOf,
  pendingMessage,
  previewOf,
  storedMessage,
  type ChatMessage,
  type ChatSnapshot,
  type ConnectionView,
  type StoredFields,
} from './model.js';
import { loadSaved, save, type KeyValueStorage, type SavedStore } from './persistence.js';
import { SessionList } from './session-list.js';
import { changedMessage, changedPreview, type MessageChange } from './message-changes.js';

/** A user or a group, whose name the app may know better than its id. */
export interface NameTarget {
  readonly type: 'user' | 'group';
  readonly id: string;
}

export interface ChatStoreOptions {
  /**
   * Display names of users and groups, from the app's own directory; may answer later (a promise): the id, or a
   * group's name, shows until then. Asked once per user or group.
   * @default a group's name from group_list / group_info, a user's id
   */
  readonly displayName?: (target: NameTarget) => string | undefined | Promise<string | undefined>;
  /** Where the state is kept across restarts: localStorage, AsyncStorage, … @default nothing is kept */
  readonly storage?: KeyValueStorage;
  /** The storage key: one per signed-in user. @default 'teamtalk-chat' */
  readonly storageKey?: string;
  /** Messages per history page (`open()`, `loadOlder()`). @default 30 */
  readonly pageSize?: number;
  /** How long after a change the state is saved, in ms. @default 500 */
  readonly saveDelayMs?: number;
}

/** What a retry needs of a send of this device. */
interface LocalSend {
  readonly conversation: Conversation;
  readonly msgType: number;
  readonly controller: AbortController;
  /** An attachment not uploaded yet: what to upload (again). */
  upload?: { readonly kind: AttachmentKind; readonly source: UploadSource; readonly extra: Record<string, number> };
}

const DEFAULTS = { storageKey: 'teamtalk-chat', pageSize: 30, saveDelayMs: 500 } as const;
const isAudio = (msgType: number) => msgType === 2 || msgType === 18;

export class ChatStore {
  readonly client: ChatClient;
  readonly #options: ChatStoreOptions;
  readonly #conversations = new Map<string, ConversationRecord>();
  readonly #sessions = new SessionList();
  readonly #groups = new GroupList();
  /** Names the app's hook gave, by `user:<id>` / `group:<id>`, and the targets already asked about. */
  readonly #names = new Map<string, string>();
  readonly #askedNames = new Set<string>();
  /** Groups whose group_info was asked for, once each. */
  readonly #loadingGroups = new Set<string>();
  readonly #sends = new Map<string, LocalSend>();
  /** Read marks restored from storage, for records made later. */
  readonly #savedReads = new Map<string, { readUpTo: number; peerReadUpTo: number }>();
  readonly #listeners = new Set<() => void>();
  /** Who is typing, by conversation key (the client's `typing` events); not saved. */
  readonly #typing = new Map<string, readonly string[]>();
  readonly #offs: (() => void)[];
  #snapshot: ChatSnapshot | undefined;
  #connection: ConnectionView | undefined;
  #notifying = false;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Server time the session list was last refreshed up to (0: never; the next refresh is a full one). */
  #sessionsSince = 0;
  /** The conversation `open()` showed last. */
  #opened: ConversationRecord | undefined;
  /** The connection was lost since that conversation's newest page was read: read it again after the catch-up. */
  #awayFromOpened = false;

  constructor(client: ChatClient, options: ChatStoreOptions = {}) {
    this.client = client;
    this.#options = options;
    this.#offs = [
      client.on('message', (m) => this.#onMessage(m)),
      client.on('state', () => this.#changed(false)),
      client.on('synced', () => void this.refreshSessions().catch(() => undefined)),
      client.on('msg_read_receipt', (f) => this.#onReadReceipt(f)),
      client.on('msg_read_notify', (f) => this.#onReadNotify(f)),
      client.on('remove_session_notify', (f) => this.#onRemoveSession(f)),
      client.on('group_change_member_notify', (f) => this.#onGroupChange(f)),
      client.on('msg_recalled', (f) => this.#onMessageChange(f, { kind: 'recalled' })),
      client.on('msg_edited', (f) =>
        this.#onMessageChange(f, { kind: 'edited', text: f.msg_data, editedAt: f.edited_at }),
      ),
      // A recall or edit made while this client was away shows in the open conversation's newest page.
      client.on('state', (state) => state === 'reconnecting' && (this.#awayFromOpened = true)),
      client.on('synced', () => void this.#reloadOpened().catch(() => undefined)),
      client.on('typing', ({ conversation, userIds }) => {
        if (userIds.length > 0) this.#typing.set(conversationKey(conversation), Object.freeze([...userIds]));
        else this.#typing.delete(conversationKey(conversation));
        this.#changed(false);
      }),
    ];
  }

  // -------------------------------------------------------------------------------------------------------------
  // Binding

  /** Calls `listener` after changes (once per burst); returns a function that removes it. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The state now: the same object until something changes. */
  getSnapshot = (): ChatSnapshot => {
    this.#snapshot ??= Object.freeze({
      userId: this.client.userId,
      connection: this.#connectionView(),
      sessions: this.#sessions.view(),
      unreadTotal: this.#sessions.unreadTotal,
      conversations: Object.freeze(
        Object.fromEntries([...this.#conversations.values()].map((record) => [record.key, record.view()])),
      ),
      groups: this.#groups.view(),
      names: Object.freeze(
        Object.fromEntries(
          [...this.#names].filter(([id]) => id.startsWith('user:')).map(([id, name]) => [id.slice(5), name]),
        ),
      ),
      typing: Object.freeze(Object.fromEntries(this.#typing)),
    });
    return this.#snapshot;
  };

  /**
   * Restores what the storage kept (sync state, sessions, read marks, unsent messages, which go out again), then
   * connects. Resolves when connected; `timeoutMs` and `signal` bound the wait (the client goes on trying).
   */
  async start(deadline?: Deadline): Promise<void> {
    const { storage } = this.#options;
    const saved = storage ? await loadSaved(storage, this.#storageKey) : undefined;
    if (saved) this.#restore(saved);
    await this.client.connect(deadline);
  }

  /** Saves now (it also saves by itself after changes), e.g. when the app goes to the background. */
  async save(): Promise<void> {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    const { storage } = this.#options;
    if (storage) await save(storage, this.#storageKey, this.#saved());
  }

  /** Stops listening to the client (the client stays as it is). */
  dispose(): void {
    for (const off of this.#offs.splice(0)) off();
    clearTimeout(this.#saveTimer);
    this.#listeners.clear();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Conversations and history

  /**
   * Shows a conversation: its newest page is loaded once (catch-up and live messages keep it complete; after a
   * reconnect the newest page of the conversation opened last is read again, for recalls and edits made meanwhile).
   */
  async open(conversation: Conversation): Promise<void> {
    const record = this.#record(conversation);
    this.#opened = record;
    this.#changed();
    if (!record.history.loadedNewest) await this.#loadPage(record, 0);
  }

  /** Scroll-back: the page before the oldest message held; nothing when the start is reached. */
  async loadOlder(conversation: Conversation): Promise<void> {
    const record = this.#record(conversation);
    const { loading, hasMore, loadedNewest } = record.history;
    if (loading || !hasMore) return;
    const lowest = record.lowestMsgId;
    if (!loadedNewest || lowest === undefined) return this.#loadPage(record, 0);
    if (lowest <= 1) return this.#setHistory(record, { hasMore: false });
    await this.#loadPage(record, lowest - 1);
  }

  async #loadPage(record: ConversationRecord, begin: number): Promise<void> {
    this.#setHistory(record, { loading: true });
    try {
      const reply = await this.client.listMessages({
        conversation: record.conversation,
        msgIdBegin: begin,
        msgCnt: this.#options.pageSize ?? DEFAULTS.pageSize,
      });
      for (const listed of reply.msg_list) this.#addStored(record, fieldsOfListed(listed), 'history');
      this.#previewHeld(record);
      const loadedNewest = record.history.loadedNewest || begin === 0;
      this.#setHistory(record, { loading: false, hasMore: reply.has_more, loadedNewest });
    } catch (error) {
      this.#setHistory(record, { loading: false });
      throw error;
    }
  }

  async #reloadOpened(): Promise<void> {
    const record = this.#opened;
    if (!this.#awayFromOpened || !record?.history.loadedNewest || record.history.loading) return;
    this.#awayFromOpened = false;
    await this.#loadPage(record, 0);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Recall and edit

  /** Recalls a message for everyone (ChatClient.recall) and shows it recalled here at once. */
  async recall(conversation: Conversation, msgId: number): Promise<void> {
    await this.client.recall(conversation, msgId);
    this.#applyChange(conversation, msgId, { kind: 'recalled' });
  }

  /** Edits this user's text message (ChatClient.edit) and shows the new text here at once. */
  async edit(conversation: Conversation, msgId: number, text: string): Promise<void> {
    const editedAt = await this.client.edit(conversation, msgId, text);
    this.#applyChange(conversation, msgId, { kind: 'edited', text, editedAt });
  }

  /**
   * The session's preview takes the state of its message as held (a page re-read after a reconnect may show it recalled
   * or edited: a change does not move the session's updated_time, so the list's refresh does not list it again).
   */
  #previewHeld(record: ConversationRecord): void {
    const entry = this.#sessions.get(record.key);
    const held = entry?.latest && record.stored(entry.latest.msgId);
    if (!entry || !held) return;
    const { latest } = entry;
    if (held.recalled !== latest!.recalled || held.editedAt !== latest!.editedAt)
      this.#sessions.change(entry, (e) => (e.latest = previewOf(held)));
  }

  #onMessageChange(frame: MsgRecalledFrame | MsgEditedFrame, change: MessageChange): void {
    const conversation = conversationOf(frame);
    if (conversation) this.#applyChange(conversation, frame.msg_id, change);
  }

  /** A held message and the session's preview of it take the change; a message not held is read when listed. */
  #applyChange(conversation: Conversation, msgId: number, change: MessageChange): void {
    const record = this.#record(conversation);
    const known = record.stored(msgId);
    if (known) record.addStored(changedMessage(known, change));
    const entry = this.#sessions.get(record.key);
    if (entry?.latest?.msgId === msgId)
      this.#sessions.change(entry, (e) => (e.latest = changedPreview(e.latest!, change)));
    this.#changed();
  }

  #setHistory(record: ConversationRecord, change: Partial<ConversationRecord['history']>): void {
    record.history = Object.freeze({ ...record.history, ...change });
    record.touch();
    this.#changed();
  }

  /**
   * Marks the conversation read up to its newest message (`msg_read_ack`), when something in it is unread: its
   * unread count goes to 0 at once, the user's other devices and (single chat) the peer are told.
   */
  async markRead(conversation: Conversation): Promise<void> {
    const record = this.#record(conversation);
    const entry = this.#sessions.get(record.key);
    const newest = Math.max(record.newest?.msgId ?? 0, entry?.latest?.msgId ?? 0);
    const marked = record.readUpTo;
    const unread = entry?.unreadCount ?? 0;
    if (newest === 0 || newest <= marked || (unread === 0 && record.newestFromOthers <= marked)) return;
    this.#markedRead(record, newest);
    try {
      await this.client.markRead({ conversation, msgId: newest });
    } catch (error) {
      record.readUpTo = marked;
      record.touch();
      if (entry) this.#sessions.change(entry, (e) => (e.unreadCount = unread));
      this.#changed();
      throw error;
    }
  }

  #markedRead(record: ConversationRecord, msgId: number): void {
    if (msgId > record.readUpTo) {
      record.readUpTo = msgId;
      record.touch();
    }
    const entry = this.#sessions.get(record.key);
    if (entry && entry.unreadCount > 0 && msgId >= (entry.latest?.msgId ?? 0))
      this.#sessions.change(entry, (e) => (e.unreadCount = 0));
    this.#changed();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sending

  /** Sends a text (or an audio clip: `kind: 'audio'`, base64): shown at once as `pending`; returns that message. */
  send(conversation: Conversation, text: string, options: { readonly kind?: 'text' | 'audio' } = {}): ChatMessage {
    const msgType = msgTypeOf(conversation, options.kind);
    const clientMsgId = createClientMsgId();
    const message = pendingMessage(conversation, clientMsgId, this.client.userId ?? '', msgType, text);
    this.#record(conversation).addLocal(message);
    this.#sends.set(clientMsgId, { conversation, msgType, controller: new AbortController() });
    this.#changed();
    this.#transmit(clientMsgId, text);
    return message;
  }

  /** Uploads a picture (with progress, `cancel()`, `retry()`) and sends it; shown at once as `pending`. */
  sendPicture(
    conversation: Conversation,
    file: UploadSource,
    size: { readonly width?: number; readonly height?: number } = {},
  ): ChatMessage {
    return this.#sendAttachment(conversation, 'picture', file, { ...size });
  }

  /** Uploads a voice note of `duration` seconds (at most 3600) and sends it; shown at once as `pending`. */
  sendVoice(conversation: Conversation, recording: UploadSource, duration: number): ChatMessage {
    if (!(duration > 0 && duration <= MAX_VOICE_SECONDS))
      throw new TypeError(`sendVoice: duration must be more than 0 and at most ${MAX_VOICE_SECONDS} seconds`);
    return this.#sendAttachment(conversation, 'voice', recording, { duration: Math.round(duration * 1000) / 1000 });
  }

  /** Sends a failed message again (uploading it first when its upload failed), with the same client_msg_id. */
  retry(conversation: Conversation, key: string): void {
    const message = this.#localByKey(conversation, key);
    const send = message && this.#sends.get(message.clientMsgId!);
    if (!message || !send || message.status !== 'failed') return;
    const controller = new AbortController();
    this.#sends.set(message.clientMsgId!, { ...send, controller });
    const uploading = send.upload !== undefined;
    this.#record(conversation).replaceLocal(message.clientMsgId!, {
      status: 'pending',
      error: undefined,
      upload: uploading ? { state: 'uploading', loaded: 0, total: message.upload?.total ?? 0 } : message.upload,
    });
    this.#changed();
    if (uploading) this.#upload(message.clientMsgId!);
    else this.#transmit(message.clientMsgId!, message.data);
  }

  /**
   * Cancels a pending send (its upload stops; a message already transmitted may still be stored, and then shows up
   * as stored) or drops a failed one.
   */
  cancel(conversation: Conversation, key: string): void {
    const message = this.#localByKey(conversation, key);
    if (!message) return;
    const clientMsgId = message.clientMsgId!;
    this.#sends.get(clientMsgId)?.controller.abort();
    this.#sends.delete(clientMsgId);
    this.#record(conversation).removeLocal(clientMsgId);
    this.#changed();
  }

  #sendAttachment(
    conversation: Conversation,
    kind: AttachmentKind,
    source: UploadSource,
    extra: Record<string, number>,
  ): ChatMessage {
    const msgType = msgTypeOf(conversation, kind === 'voice' ? 'audio' : 'text');
    const clientMsgId = createClientMsgId();
    const total = 'size' in source ? source.size : 0;
    const message = pendingMessage(
      conversation,
      clientMsgId,
      this.client.userId ?? '',
      msgType,
      '',
      {
        state: 'uploading',
        loaded: 0,
        total,
      },
      kind,
    );
    this.#record(conversation).addLocal(message);
    this.#sends.set(clientMsgId, {
      conversation,
      msgType,
      controller: new AbortController(),
      upload: { kind, source, extra },
    });
    this.#changed();
    this.#upload(clientMsgId);
    return message;
  }

  #upload(clientMsgId: string): void {
    const send = this.#sends.get(clientMsgId)!;
    const { kind, source, extra } = send.upload!;
    const record = this.#record(send.conversation);
    const progress = (upload: ChatMessage['upload']) => {
      if (record.replaceLocal(clientMsgId, { upload })) this.#changed();
    };
    this.client
      .uploadAttachment(source, kind, {
        signal: send.controller.signal,
        onProgress: ({ loaded, total }) => progress({ state: 'uploading', loaded, total }),
      })
      .then((uploaded) => {
        const data = JSON.stringify({ attachment: kind, ...uploaded, ...extra });
        delete send.upload;
        progress({ state: 'done', loaded: uploaded.size, total: uploaded.size });
        record.replaceLocal(clientMsgId, { data, ...contentOf(send.msgType, data) });
        this.#transmit(clientMsgId, data);
      })
      .catch((error: unknown) => this.#failed(clientMsgId, error, true));
  }

  #transmit(clientMsgId: string, data: string): void {
    const send = this.#sends.get(clientMsgId)!;
    this.client
      .send({
        to: send.conversation,
        msgData: data,
        kind: isAudio(send.msgType) ? 'audio' : 'text',
        clientMsgId,
        signal: send.controller.signal,
      })
      .then((ack) => this.#acked(clientMsgId, data, ack))
      .catch((error: unknown) => this.#failed(clientMsgId, error, false));
  }

  #acked(clientMsgId: string, data: string, ack: MsgDataAckFrame): void {
    const send = this.#sends.get(clientMsgId);
    if (!send) return; // Cancelled meanwhile.
    this.#sends.delete(clientMsgId);
    const record = this.#record(send.conversation);
    const fields: StoredFields = {
      msgId: ack.msg_id,
      fromUserId: ack.user_id,
      createTime: ack.create_time,
      msgType: send.msgType,
      data,
      clientMsgId,
    };
    // Already there (a history page or the catch-up brought its stored copy first): the pending one goes.
    if (!this.#addStored(record, fields, 'sent')) record.removeLocal(clientMsgId);
    this.#changed();
  }

  #failed(clientMsgId: string, error: unknown, uploading: boolean): void {
    const send = this.#sends.get(clientMsgId);
    if (!send) return;
    const record = this.#record(send.conversation);
    if (error instanceof AbortError) {
      this.cancel(send.conversation, `c:${clientMsgId}`);
      return;
    }
    const message = record.local(clientMsgId);
    record.replaceLocal(clientMsgId, {
      status: 'failed',
      error: errorOf(error),
      ...(uploading && message?.upload ? { upload: { ...message.upload, state: 'failed' as const } } : {}),
    });
    this.#changed();
  }

  #localByKey(conversation: Conversation, key: string): ChatMessage | undefined {
    return key.startsWith('c:') ? this.#record(conversation).local(key.slice(2)) : undefined;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sessions and groups

  /**
   * Reloads the session list: every page the first time (and with `full`), after that the sessions changed since the
   * last refresh (with a minute's margin for the server's clocks). The server's unread counts replace the local ones.
   * The store does it after every catch-up.
   */
  async refreshSessions(options: { readonly full?: boolean } = {}): Promise<void> {
    const full = options.full === true || this.#sessionsSince === 0;
    const since = full ? 0 : Math.max(0, this.#sessionsSince - 60);
    const [sessions, groups] = await Promise.all([
      this.client.allRecentSessions(since),
      full ? this.client.listGroups().then((r) => r.group_list, ignoreRefusal) : undefined,
    ]);
    const listed = this.#sessions.applyServer(sessions, this.client.userId);
    for (const session of sessions) this.#sessionsSince = Math.max(this.#sessionsSince, session.updated_time);
    this.#sessionsSince = Math.max(this.#sessionsSince, 1);
    for (const entry of groups ?? []) {
      this.#groups.update(entry.group_id, { name: entry.group_name });
      listed.add(this.#sessions.upsert(groupOf(entry.group_id)).key);
    }
    if (full && groups) {
      // Listed by neither: removed on another device (a notice that did not come), or a group left.
      for (const key of this.#sessions.keys()) if (!listed.has(key) && !this.#hasLocal(key)) this.#sessions.remove(key);
    }
    this.#applyNames();
    this.#changed();
  }

  /** Hides a single chat from the list until its next message (`remove_session`); the user's other devices are told. */
  async removeSession(conversation: Conversation): Promise<void> {
    await this.client.removeSession(conversation);
    if (this.#sessions.remove(conversationKey(conversation))) this.#changed();
  }

  /** Creates a group with this user as owner; resolves with its conversation. */
  async createGroup(name: string, memberIds: readonly string[]): Promise<Conversation> {
    const { group_id } = await this.client.createGroup({ groupName: name, memberIds });
    const me = this.client.userId;
    this.#groups.update(group_id, { name, ownerId: me, memberIds: me ? [me, ...memberIds] : [...memberIds] });
    const conversation = groupOf(group_id);
    this.#sessions.change(this.#sessions.upsert(conversation), (e) => (e.updatedTime = nowSeconds()));
    this.#record(conversation);
    this.#applyNames();
    this.#changed();
    return conversation;
  }

  /** Adds or removes members (owner; a member may remove itself). */
  async changeGroupMembers(groupId: string, changeType: 'add' | 'del', memberIds: readonly string[]): Promise<void> {
    const before = this.#groups.view()[groupId]?.memberIds ?? [];
    const reply = await this.client.changeGroupMembers({ groupId, changeType, memberIds });
    this.#groups.update(groupId, { memberIds: reply.cur_user_id_list });
    const changed = memberIds.filter((id) => before.includes(id) === (changeType === 'del'));
    if (changed.length > 0) this.#groups.noteChange(groupId, changeType, changed, nowSeconds());
    this.#changed();
  }

  /** Leaves a group: it leaves the list and the store. */
  async leaveGroup(groupId: string): Promise<void> {
    await this.client.leaveGroup(groupId);
    this.#forgetGroup(groupId);
  }

  /** Loads a group's name, owner and members (every page); a group this user is no longer in is forgotten. */
  async loadGroup(groupId: string): Promise<void> {
    try {
      const info = await this.client.groupInfo(groupId);
      this.#groups.update(groupId, { name: info.group_name, ownerId: info.owner_id, memberIds: info.cur_user_id_list });
      this.#applyNames();
      this.#changed();
    } catch (error) {
      if (error instanceof ChatServerError && error.code === 'not_member') this.#forgetGroup(groupId);
      else throw error;
    }
  }

  /** Asks once for a group's name, owner and members when they are not known. */
  #learnGroup(groupId: string): void {
    if (this.#groups.known(groupId) || this.#loadingGroups.has(groupId)) return;
    this.#loadingGroups.add(groupId);
    void this.loadGroup(groupId)
      .catch(() => undefined)
      .finally(() => this.#loadingGroups.delete(groupId));
  }

  #forgetGroup(groupId: string): void {
    const key = conversationKey(groupOf(groupId));
    this.#groups.remove(groupId);
    this.#sessions.remove(key);
    this.#conversations.delete(key);
    this.#changed();
  }

  #hasLocal(key: string): boolean {
    const record = this.#conversations.get(key);
    return record !== undefined && record.pending().length > 0;
  }

  // -------------------------------------------------------------------------------------------------------------
  // The client's events

  #onMessage(m: ReceivedMessage): void {
    const record = this.#record(m.conversation);
    const fields: StoredFields = {
      msgId: m.msg_id,
      fromUserId: m.from_user_id,
      createTime: m.create_time,
      msgType: m.msg_type,
      data: m.msg_data,
      clientMsgId: m.client_msg_id,
      blockedSender: m.blocked_sender === true,
      deleted: m.deleted === true,
      recalled: m.recalled === true,
      editedAt: m.edited_at,
    };
    const entry = this.#sessions.get(record.key);
    const latestBefore = entry?.latest?.msgId ?? 0;
    if (!this.#addStored(record, fields, m.source)) return;
    // Live messages of others count as unread until read; a catch-up's are counted by the server (the refresh).
    const unread = !m.own && m.source === 'live' && m.msg_id > latestBefore && m.msg_id > record.readUpTo;
    if (unread) this.#sessions.change(this.#sessions.upsert(m.conversation), (e) => (e.unreadCount += 1));
    if (m.conversation.type === 'group') this.#learnGroup(m.conversation.id);
    this.#changed();
  }

  /** Adds a stored message to its conversation and the session list; false when it was there already. */
  #addStored(record: ConversationRecord, fields: StoredFields, source: ChatMessage['source']): boolean {
    const message = storedMessage(record.conversation, fields, this.client.userId, source);
    if (!record.addStored(message)) return false;
    const listed = this.#sessions.has(record.key);
    this.#sessions.noteMessage(record.conversation, previewOf(message)!, fields.createTime);
    if (!listed) this.#applyNames();
    // The user's own message moves the user's read mark (the server does the same).
    if (message.fromMe) this.#markedRead(record, fields.msgId);
    return true;
  }

  #onReadReceipt(frame: MsgReadNotifyFrame): void {
    if (frame.session_type !== 1) return;
    const record = this.#record(peerOf(frame.user_id));
    if (frame.msg_id <= record.peerReadUpTo) return;
    record.peerReadUpTo = frame.msg_id;
    record.touch();
    this.#changed();
  }

  #onReadNotify(frame: MsgReadNotifyFrame): void {
    const conversation = conversationOf(frame);
    if (!conversation) return;
    const record = this.#record(conversation);
    const entry = this.#sessions.get(record.key);
    this.#markedRead(record, frame.msg_id);
    // Read up to an older message than the newest: the server knows what is left.
    if (entry && frame.msg_id < (entry.latest?.msgId ?? 0)) void this.refreshSessions().catch(() => undefined);
  }

  #onRemoveSession(frame: RemoveSessionNotifyFrame): void {
    // A group stays listed while this user is in it (group_list lists it); a single chat leaves the list.
    if (frame.session_type === 1 && this.#sessions.remove(conversationKey(peerOf(frame.session_id)))) this.#changed();
  }

  #onGroupChange(frame: GroupChangeMemberNotifyFrame): void {
    const me = this.client.userId;
    const groupId = frame.group_id;
    if (frame.change_type === 'del' && me !== undefined && frame.user_ids.includes(me))
      return this.#forgetGroup(groupId);
    this.#groups.update(groupId, { memberIds: frame.cur_user_id_list });
    this.#groups.noteChange(groupId, frame.change_type, frame.user_ids, nowSeconds());
    const joined = frame.change_type === 'add' && me !== undefined && frame.user_ids.includes(me);
    const entry = this.#sessions.upsert(groupOf(groupId));
    if (joined) this.#sessions.change(entry, (e) => (e.updatedTime = Math.max(e.updatedTime, nowSeconds())));
    this.#learnGroup(groupId);
    this.#applyNames();
    this.#changed();
  }

  // -------------------------------------------------------------------------------------------------------------
  // State

  #record(conversation: Conversation): ConversationRecord {
    const key = conversationKey(conversation);
    let record = this.#conversations.get(key);
    if (!record) {
      record = new ConversationRecord(conversation);
      const saved = this.#savedReads.get(key);
      if (saved) Object.assign(record, saved);
      this.#conversations.set(key, record);
      this.#applyNames();
    }
    return record;
  }

  /** A conversation's title: the app's name for it, a group's name, else its id. */
  #titleOf(conversation: Conversation): string {
    const type = conversation.type === 'group' ? 'group' : 'user';
    const named = this.#names.get(`${type}:${conversation.id}`);
    return named ?? (type === 'group' ? this.#groups.name(conversation.id) : undefined) ?? conversation.id;
  }

  /** Asks the app's hook for names not asked yet, and sets every title. */
  #applyNames(): void {
    const hook = this.#options.displayName;
    if (hook) {
      for (const target of this.#nameTargets()) {
        const id = `${target.type}:${target.id}`;
        if (this.#askedNames.has(id)) continue;
        this.#askedNames.add(id);
        void Promise.resolve(hook(target)).then(
          (name) => name !== undefined && this.#setName(id, name),
          () => undefined,
        );
      }
    }
    for (const record of this.#conversations.values()) record.setTitle(this.#titleOf(record.conversation));
    for (const key of this.#sessions.keys()) {
      const entry = this.#sessions.get(key)!;
      this.#sessions.setTitle(key, this.#titleOf(entry.conversation));
    }
  }

  #nameTargets(): NameTarget[] {
    const targets = new Map<string, NameTarget>();
    const add = (type: NameTarget['type'], id: string) => targets.set(`${type}:${id}`, { type, id });
    for (const conversation of [...this.#conversations.values()].map((r) => r.conversation))
      add(conversation.type === 'group' ? 'group' : 'user', conversation.id);
    for (const key of this.#sessions.keys()) {
      const { conversation } = this.#sessions.get(key)!;
      add(conversation.type === 'group' ? 'group' : 'user', conversation.id);
    }
    return [...targets.values()];
  }

  #setName(id: string, name: string): void {
    this.#names.set(id, name);
    this.#applyNames();
    this.#changed();
  }

  #connectionView(): ConnectionView {
    const { state, nextAttemptAt, errorReason } = this.client.connection;
    const status =
      state === 'open' ? 'online' : state === 'closed' || state === 'initialized' ? 'offline' : 'connecting';
    const error = state === 'open' ? undefined : errorReason?.message;
    const previous = this.#connection;
    if (previous?.state === state && previous.nextAttemptAt === nextAttemptAt && previous.error === error)
      return previous;
    this.#connection = Object.freeze({ status, state, nextAttemptAt, error });
    return this.#connection;
  }

  /** Something changed: a new snapshot, listeners told once after the burst, and a save soon. */
  #changed(persist = true): void {
    this.#snapshot = undefined;
    if (!this.#notifying) {
      this.#notifying = true;
      void Promise.resolve().then(() => {
        this.#notifying = false;
        for (const listener of [...this.#listeners]) listener();
      });
    }
    if (persist && this.#options.storage && this.#saveTimer === undefined)
      this.#saveTimer = setTimeout(() => void this.save(), this.#options.saveDelayMs ?? DEFAULTS.saveDelayMs);
  }

  get #storageKey(): string {
    return this.#options.storageKey ?? DEFAULTS.storageKey;
  }

  #saved(): SavedStore {
    const reads: Record<string, { readUpTo: number; peerReadUpTo: number }> = {};
    const pending: SavedStore['pending'][number][] = [];
    for (const record of this.#conversations.values()) {
      if (record.readUpTo > 0 || record.peerReadUpTo > 0)
        reads[record.key] = { readUpTo: record.readUpTo, peerReadUpTo: record.peerReadUpTo };
      for (const message of record.pending()) {
        const send = this.#sends.get(message.clientMsgId!);
        if (send && !send.upload)
          pending.push({
            conversation: record.conversation,
            clientMsgId: message.clientMsgId!,
            msgType: send.msgType,
            data: message.data,
          });
      }
    }
    return {
      version: 1,
      sync: this.client.getSyncState(),
      sessions: this.#sessions.save(),
      reads,
      groupNames: this.#groups.names(),
      pending,
    };
  }

  #restore(saved: SavedStore): void {
    if (this.client.state === 'initialized') this.client.restoreSyncState(saved.sync);
    this.#sessions.load(saved.sessions);
    for (const [key, read] of Object.entries(saved.reads)) this.#savedReads.set(key, { ...read });
    for (const [groupId, name] of Object.entries(saved.groupNames)) this.#groups.update(groupId, { name });
    for (const send of saved.pending) {
      const record = this.#record(send.conversation);
      if (record.local(send.clientMsgId)) continue;
      record.addLocal(
        pendingMessage(send.conversation, send.clientMsgId, this.client.userId ?? '', send.msgType, send.data),
      );
      this.#sends.set(send.clientMsgId, {
        conversation: send.conversation,
        msgType: send.msgType,
        controller: new AbortController(),
      });
      this.#transmit(send.clientMsgId, send.data);
    }
    this.#applyNames();
    this.#changed(false);
  }
}

function fieldsOfListed(message: ListedMessage): StoredFields {
  return {
    msgId: message.msg_id,
    fromUserId: message.from_user_id,
    createTime: message.create_time,
    msgType: message.msg_type,
    data: message.msg_data,
    clientMsgId: message.client_msg_id,
    blockedSender: message.blocked_sender === true,
    deleted: message.deleted === true,
    recalled: message.recalled === true,
    editedAt: message.edited_at,
  };
}

function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof ChatServerError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'unknown', message: String(error) };
}

/** A refused group_list (a server without groups) leaves the groups as they are. */
function ignoreRefusal(error: unknown): undefined {
  if (error instanceof ChatServerError) return undefined;
  throw error;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Conversations of ids the server sent (not checked again as an app's input is). */
const groupOf = (groupId: string): Conversation => ({ type: 'group', id: groupId });
const peerOf = (userId: string): Conversation => ({ type: 'peer', id: userId });
