/**
 * What the chat page does: sign in and out, react to the client's events, keep the session list, load history
 * pages, mark conversations read, send, and manage groups. Each action changes the page state (state.ts), talks to
 * the SDK, and redraws through render.ts.
 */
import { enablePush } from './push.js';
import {
  AuthError,
  ChatClient,
  ChatServerError,
  conversationKey,
  conversationOf,
  createClientMsgId,
  group,
  peer,
  type ContactSession,
  type Conversation,
  type GroupChangeMemberNotifyFrame,
  type KickFrame,
  type MsgReadNotifyFrame,
  type ReceivedMessage,
  type SendRetry,
  type SyncState,
} from 'teamtalk-serverless-client';
import { ui } from './dom.js';
import {
  describeChange,
  hideBanner,
  keepScrollWhile,
  renderConversation,
  renderGroupPanel,
  renderHistoryState,
  renderSessions,
  setSignedIn,
  showBanner,
  showNotice,
  showStatus,
} from './render.js';
import { page } from './state.js';

/** Messages per history page: the newest page on open, then one per scroll to the top. */
export const HISTORY_PAGE = 30;
const SYNC_STATE_KEY = 'teamtalk-sync:';

/** `run` once, `ms` after the first of a burst of calls; `flush` runs it now. */
function debounced(run: () => void, ms: number): { soon(): void; now(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    soon: () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        run();
      }, ms);
    },
    now: () => {
      clearTimeout(timer);
      timer = undefined;
      run();
    },
  };
}

// -----------------------------------------------------------------------------------------------------------------
// Redrawing with this module's handlers

export function redraw(): void {
  renderConversation(removeMember);
}

export function redrawSessions(): void {
  renderSessions(selectConversation);
}

function redrawGroupPanel(): void {
  renderGroupPanel(removeMember);
}

/** A refusal: the banner for rates and caps (they say what to do), the notice line for anything else. */
function report(error: unknown): void {
  if (error instanceof ChatServerError && error.code === 'rate_limited') {
    showBanner(
      'rate_limited',
      'Slow down: the server limits how many changes a user makes a second. Try again in a moment.',
    );
  } else if (error instanceof ChatServerError && error.code === 'limit_exceeded') {
    showBanner('limit_exceeded', `A limit was reached: ${error.message}`);
  } else {
    showNotice(
      error instanceof ChatServerError
        ? `Server: ${error.code}${error.message ? ` (${error.message})` : ''}`
        : String(error),
    );
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Sync state in localStorage

function loadSyncState(userId: string): SyncState | undefined {
  try {
    const text = localStorage.getItem(SYNC_STATE_KEY + userId);
    const value: unknown = text ? JSON.parse(text) : undefined;
    if (typeof value === 'object' && value !== null && 'lastSyncTime' in value && 'latestMsgIds' in value)
      return value as SyncState;
  } catch {
    // No storage (private mode) or a value from an older page: start afresh.
  }
  return undefined;
}

export const syncStateSaver = debounced(() => {
  if (!page.client || !page.me) return;
  try {
    localStorage.setItem(SYNC_STATE_KEY + page.me, JSON.stringify(page.client.getSyncState()));
  } catch {
    // Storage full or unavailable: the next load catches up from further back.
  }
}, 1_000);

// -----------------------------------------------------------------------------------------------------------------
// Signing in and out

async function fetchToken(userId: string): Promise<string> {
  const response = await fetch(`/local/token?user_id=${encodeURIComponent(userId)}`, { cache: 'no-store' });
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; message?: unknown };
  if (!response.ok || typeof body.token !== 'string') {
    const message = typeof body.message === 'string' ? body.message : `token endpoint answered ${response.status}`;
    // A 4xx will not get better by retrying: AuthError stops the client. Anything else is retried with backoff.
    throw response.status >= 400 && response.status < 500
      ? new AuthError(message, response.status)
      : new Error(message);
  }
  return body.token;
}

function webSocketUrl(): string {
  const override = new URLSearchParams(location.search).get('ws');
  if (override) return override;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

export async function logIn(userId: string): Promise<void> {
  logOut();
  page.me = userId;
  const syncState = loadSyncState(userId);
  const chat = new ChatClient({
    url: webSocketUrl(),
    getToken: () => fetchToken(userId),
    requestTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 500, maxDelayMs: 10_000, maxAttempts: 20 },
    // A conversation this page holds nothing of gets its newest page from catch-up; older ones come with scroll-back.
    catchUp: { maxNewSessionMessages: HISTORY_PAGE },
    ...(syncState ? { syncState } : {}),
  });
  page.client = chat;
  listen(chat);
  setSignedIn(true);
  try {
    await chat.connect();
    void enablePush(chat).catch(() => undefined);
  } catch (error) {
    if (chat === page.client) showStatus(chat.connection, error instanceof Error ? error.message : String(error));
  }
}

/** Wires the client's events to the page; a client replaced by a later sign-in is ignored. */
function listen(chat: ChatClient): void {
  const mine =
    <T>(handler: (payload: T) => void) =>
    (payload: T) => {
      if (chat === page.client) handler(payload);
    };
  chat.on(
    'state',
    mine(() => onState(chat)),
  );
  chat.on(
    'synced',
    mine(() => {
      syncStateSaver.now();
      void refreshSessions();
    }),
  );
  chat.on('message', mine(onMessage));
  chat.on(
    'kick',
    mine((kick: KickFrame) => onKick(chat, kick)),
  );
  chat.on(
    'send_retry',
    mine((retry: SendRetry) => {
      if (retry.error.code === 'rate_limited')
        showBanner('rate_limited', 'Sending faster than the server allows: messages wait and go out in order.');
    }),
  );
  chat.on('msg_read_receipt', mine(onReadReceipt));
  chat.on('msg_read_notify', mine(onReadNotify));
  chat.on(
    'remove_session_notify',
    mine((frame) => {
      // Groups are listed from group_list, hidden or not; only leaving takes one off the list.
      if (frame.session_type === 1) forgetSession(peer(frame.session_id));
    }),
  );
  chat.on('group_change_member_notify', mine(onGroupChange));
  chat.on(
    'error',
    mine((error: Error) => {
      if (chat.state === 'closed') showStatus(chat.connection, error.message);
      else if (error instanceof ChatServerError) report(error);
      else showNotice(error.message);
    }),
  );
}

function onState(chat: ChatClient): void {
  showStatus(chat.connection);
  if (chat.state === 'open' && page.current) void openConversation(page.current, { reload: true });
}

function onKick(chat: ChatClient, kick: KickFrame): void {
  if (kick.reason === 'token_expired') {
    showBanner('token_expired', 'Your session token expired: reconnecting with a fresh one.');
  } else {
    showBanner(
      'too_many_connections',
      `${page.me} is signed in on too many devices or tabs: this tab was disconnected.`,
      {
        label: 'Reconnect here',
        run: () => void chat.connect().catch(() => undefined),
      },
    );
  }
}

export function logOut(): void {
  syncStateSaver.now();
  page.client?.close();
  page.reset();
  setSignedIn(false);
  hideBanner();
  showStatus({ state: 'initialized' });
  redraw();
  redrawSessions();
}

// -----------------------------------------------------------------------------------------------------------------
// Sessions

/**
 * Reloads the session list: every page of recent_sessions (the server's unread counts replace the local ones) and
 * of the user's groups (a group without messages has no recent session yet).
 */
export async function refreshSessions(): Promise<void> {
  const chat = page.client;
  if (!chat) return;
  const startedAt = performance.now();
  let list: ContactSession[];
  let groupList: readonly { group_id: string; group_name: string }[] | undefined;
  try {
    [list, groupList] = await Promise.all([
      chat.allRecentSessions(0),
      chat.listGroups().then(
        (reply) => reply.group_list,
        (error: unknown) => {
          if (error instanceof ChatServerError) return undefined; // A server without groups: keep what is shown.
          throw error;
        },
      ),
    ]);
  } catch {
    return; // Dropped connection: the next catch-up refreshes again.
  }
  if (chat !== page.client) return;
  const listed = applySessions(list);
  applyGroupList(groupList, listed, startedAt);
  // Sessions the server no longer lists were removed elsewhere; the open one stays.
  const currentKey = page.current && conversationKey(page.current);
  for (const key of [...page.sessions.keys()]) if (!listed.has(key) && key !== currentKey) page.sessions.delete(key);
  redrawSessions();
  if (page.current?.type === 'group') redrawGroupPanel();
  if (page.current && (page.sessionOf(page.current)?.unread ?? 0) > 0) void markConversationRead(page.current);
}

/** Takes the server's sessions into the list; returns their keys. */
function applySessions(list: readonly ContactSession[]): Set<string> {
  const listed = new Set<string>();
  for (const session of list) {
    const conversation = conversationOf(session);
    if (!conversation) continue;
    listed.add(conversationKey(conversation));
    const entry = page.upsertSession(conversation);
    entry.unread = session.unread_cnt;
    if (session.latest_msg_id >= entry.latestMsgId) {
      entry.latestMsgId = session.latest_msg_id;
      entry.latestText = session.latest_msg_data;
      entry.latestFrom = session.latest_msg_from_user_id;
    }
    entry.updatedTime = Math.max(entry.updatedTime, session.updated_time);
  }
  return listed;
}

/**
 * Takes the user's groups into the list. A group the server lists no more was left on a connection that missed
 * the notice; one this page joined or created after asking is kept (the list is older than that).
 */
function applyGroupList(
  groupList: readonly { group_id: string; group_name: string }[] | undefined,
  listed: Set<string>,
  askedAt: number,
): void {
  const groupEntries = [...page.sessions.values()].filter((entry) => entry.conversation.type === 'group');
  if (!groupList) {
    for (const entry of groupEntries) listed.add(conversationKey(entry.conversation));
    return;
  }
  const groupKeys = new Set<string>();
  for (const { group_id, group_name } of groupList) {
    const conversation = group(group_id);
    groupKeys.add(conversationKey(conversation));
    listed.add(conversationKey(conversation));
    page.groupOf(group_id).name = group_name;
    page.upsertSession(conversation);
  }
  for (const entry of groupEntries) {
    const key = conversationKey(entry.conversation);
    if (groupKeys.has(key)) continue;
    if ((page.groups.get(entry.conversation.id)?.seenAt ?? 0) >= askedAt) listed.add(key);
    else forgetSession(entry.conversation, { left: true });
  }
}

/** Takes a conversation off the list (and closes it when open); `left` also forgets what the page held of a group. */
export function forgetSession(conversation: Conversation, options: { left?: boolean } = {}): void {
  const wasOpen = page.isOpen(conversation);
  page.forgetSession(conversation, options);
  if (wasOpen) {
    ui.peerId.value = '';
    redraw();
  }
  redrawSessions();
}

export async function removeCurrentSession(): Promise<void> {
  const chat = page.client;
  const conversation = page.current;
  if (!chat || conversation?.type !== 'peer') return;
  try {
    await chat.removeSession(conversation);
    forgetSession(conversation);
  } catch (error) {
    report(error);
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Conversations: opening, history pages, read marks

export function selectConversation(conversation: Conversation | undefined): void {
  page.current = conversation;
  ui.peerId.value = conversation?.type === 'peer' ? conversation.id : '';
  ui.notice.hidden = true;
  redraw();
  redrawSessions();
  ui.messages.scrollTop = ui.messages.scrollHeight;
  if (conversation && page.client?.state === 'open') void openConversation(conversation);
}

/** Opens a conversation: its newest page (again after a reconnect), a group's members, then marks it read. */
async function openConversation(conversation: Conversation, options: { reload?: boolean } = {}): Promise<void> {
  if (conversation.type === 'group' && (options.reload || page.groups.get(conversation.id)?.members === undefined))
    void loadGroupInfo(conversation.id);
  const history = page.historyOf(conversation);
  if (!history.loadedNewest || options.reload) await loadPage(conversation, 0);
  if (page.isOpen(conversation)) await markConversationRead(conversation);
}

/** Loads the page of messages with msg_id ≤ begin (0 = the newest page); `has_more: false` marks the start. */
async function loadPage(conversation: Conversation, begin: number): Promise<void> {
  const chat = page.client;
  const history = page.historyOf(conversation);
  if (!chat || history.loading) return;
  history.loading = true;
  if (page.isOpen(conversation)) renderHistoryState();
  try {
    const reply = await chat.listMessages({ conversation, msgIdBegin: begin, msgCnt: HISTORY_PAGE });
    if (chat !== page.client) return;
    for (const message of reply.msg_list) page.addStored(conversation, message);
    for (const message of reply.msg_list) history.oldest = Math.min(history.oldest ?? message.msg_id, message.msg_id);
    if (begin === 0) history.loadedNewest = true;
    if (!reply.has_more) history.atStart = true;
  } catch {
    // A dropped connection: the next open loads again; live messages still arrive.
  } finally {
    history.loading = false;
  }
  if (page.isOpen(conversation)) {
    keepScrollWhile(redraw);
    fillViewport();
  }
}

/** Scroll-back: the page before the oldest message shown. */
export async function loadOlder(): Promise<void> {
  const conversation = page.current;
  const history = conversation ? page.historyOf(conversation) : undefined;
  if (!conversation || !history || history.atStart || history.loading || !page.client) return;
  let oldest = history.oldest;
  for (const item of page.itemsOf(conversation))
    if (item.msgId !== undefined) oldest = Math.min(oldest ?? item.msgId, item.msgId);
  if (oldest === undefined) return loadPage(conversation, 0);
  if (oldest <= 1) {
    history.atStart = true;
    renderHistoryState();
    return;
  }
  await loadPage(conversation, oldest - 1);
}

/** Loads older pages while the list does not fill its box (nothing to scroll yet). */
function fillViewport(): void {
  const list = ui.messages;
  const history = page.current ? page.historyOf(page.current) : undefined;
  if (history && !history.atStart && !history.loading && list.scrollHeight <= list.clientHeight) void loadOlder();
}

/** msg_read_ack of the conversation's newest message, when something in it is unread. */
export async function markConversationRead(conversation: Conversation): Promise<void> {
  const chat = page.client;
  if (!chat || chat.state !== 'open') return;
  const key = conversationKey(conversation);
  const entry = page.sessions.get(key);
  let newest = entry?.latestMsgId ?? 0;
  let newestFromOthers = 0;
  for (const item of page.itemsOf(conversation)) {
    if (item.msgId === undefined) continue;
    newest = Math.max(newest, item.msgId);
    if (item.from !== page.me) newestFromOthers = Math.max(newestFromOthers, item.msgId);
  }
  const marked = page.readMarks.get(key) ?? 0;
  if (newest === 0 || newest <= marked || ((entry?.unread ?? 0) === 0 && newestFromOthers <= marked)) return;
  page.readMarks.set(key, newest);
  try {
    await chat.markRead({ conversation, msgId: newest });
    const now = page.sessions.get(key);
    if (now && now.latestMsgId <= newest) now.unread = 0;
    redrawSessions();
  } catch (error) {
    page.readMarks.set(key, marked); // Not stored: try again next time.
    if (error instanceof ChatServerError) report(error);
  }
}

/** One read ack for a burst of messages (a catch-up delivers many at once). */
const readSoon = debounced(() => {
  if (page.current) void markConversationRead(page.current);
}, 50);

function onReadReceipt(frame: MsgReadNotifyFrame): void {
  if (frame.session_type !== 1) return;
  page.readByPeer.set(frame.user_id, Math.max(page.readByPeer.get(frame.user_id) ?? 0, frame.msg_id));
  if (page.current?.type === 'peer' && frame.user_id === page.current.id) redraw();
}

function onReadNotify(frame: MsgReadNotifyFrame): void {
  const conversation = conversationOf(frame);
  if (!conversation) return;
  const key = conversationKey(conversation);
  page.readMarks.set(key, Math.max(page.readMarks.get(key) ?? 0, frame.msg_id));
  const entry = page.sessions.get(key);
  if (!entry) return;
  if (frame.msg_id >= entry.latestMsgId) {
    entry.unread = 0;
    redrawSessions();
  } else {
    void refreshSessions(); // Read up to an older message: the server knows what is left.
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Messages

/** A message for this user: live, or caught up after a reconnect (history: no notice for it). */
function onMessage(message: ReceivedMessage): void {
  const { conversation } = message;
  if (conversation.type === 'group' && !page.groups.has(conversation.id)) {
    page.groupOf(conversation.id); // Asked once, however many messages arrive meanwhile.
    void loadGroupInfo(conversation.id);
  }
  page.addStored(conversation, message);
  const isNew = page.noteLatest(
    conversation,
    message.msg_id,
    message.from_user_id,
    message.msg_data,
    message.create_time,
  );
  const fromOther = message.from_user_id !== page.me;
  const visible = page.isOpen(conversation) && document.visibilityState !== 'hidden';
  if (fromOther && isNew && message.msg_id > (page.readMarks.get(conversationKey(conversation)) ?? 0)) {
    if (visible) readSoon.soon();
    else page.upsertSession(conversation).unread += 1;
  }
  redrawSessions();
  if (page.isOpen(conversation)) redraw();
  else if (fromOther && message.live) {
    const text =
      conversation.type === 'group'
        ? `New message in ${page.titleOf(conversation)} from ${message.from_user_id}`
        : `New message from ${message.from_user_id}`;
    showNotice(text, () => selectConversation(conversation));
  }
  syncStateSaver.soon();
}

/** `kind` audio: a voice note's description (attachments.ts). */
export function sendMessage(text: string, kind: 'text' | 'audio' = 'text'): void {
  const chat = page.client;
  const to = page.current;
  if (!chat || !to || text === '') return;
  const item = page.newItem({
    clientMsgId: createClientMsgId(),
    msgId: undefined,
    from: page.me,
    text,
    createTime: undefined,
    state: 'sending',
  });
  const items = page.itemsOf(to);
  items.push(item);
  redraw();
  chat
    .send({ to, msgData: text, kind, clientMsgId: item.clientMsgId! })
    .then((ack) => {
      // History may have brought the same message in already: keep this item, drop that one.
      const duplicate = items.findIndex((other) => other !== item && other.msgId === ack.msg_id);
      if (duplicate >= 0) items.splice(duplicate, 1)[0]!.element?.remove();
      item.msgId = ack.msg_id;
      item.createTime = ack.create_time;
      item.state = 'stored';
      page.noteLatest(to, ack.msg_id, page.me, text, ack.create_time);
      redrawSessions();
      syncStateSaver.soon();
    })
    .catch((error: unknown) => {
      item.state = 'failed';
      item.errorCode = error instanceof ChatServerError ? error.code : error instanceof Error ? error.name : 'unknown';
      if (error instanceof ChatServerError && (error.code === 'rate_limited' || error.code === 'limit_exceeded'))
        report(error);
    })
    .finally(() => {
      if (page.isOpen(to)) redraw();
    });
}

// -----------------------------------------------------------------------------------------------------------------
// Groups

export function parseUserIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((id) => id !== ''))];
}

export async function createGroup(name: string, memberIds: string[]): Promise<void> {
  const chat = page.client;
  if (!chat) return;
  ui.createGroup.disabled = true;
  try {
    const { group_id } = await chat.createGroup({ groupName: name, memberIds });
    if (chat !== page.client) return;
    const view = page.groupOf(group_id);
    view.name = name;
    view.ownerId = page.me;
    view.members = [page.me, ...memberIds];
    view.seenAt = performance.now();
    page.upsertSession(group(group_id)).updatedTime = Math.floor(Date.now() / 1000);
    ui.groupName.value = '';
    ui.groupMembers.value = '';
    selectConversation(group(group_id));
  } catch (error) {
    report(error);
  } finally {
    ui.createGroup.disabled = false;
  }
}

/** Name, owner and members of a group, from group_info. */
async function loadGroupInfo(groupId: string): Promise<void> {
  const chat = page.client;
  if (!chat) return;
  try {
    const info = await chat.groupInfo(groupId);
    if (chat !== page.client) return;
    const view = page.groupOf(groupId);
    view.name = info.group_name;
    view.ownerId = info.owner_id;
    view.members = [...info.cur_user_id_list];
    view.seenAt = performance.now();
  } catch (error) {
    if (error instanceof ChatServerError && error.code === 'not_member') forgetSession(group(groupId), { left: true });
    return;
  }
  redrawSessions();
  if (page.current?.type === 'group' && page.current.id === groupId) redraw();
}

export async function changeMembers(groupId: string, changeType: 'add' | 'del', memberIds: string[]): Promise<void> {
  const chat = page.client;
  if (!chat || memberIds.length === 0) return;
  try {
    const reply = await chat.changeGroupMembers({ groupId, changeType, memberIds });
    if (chat !== page.client) return;
    const view = page.groupOf(groupId);
    const before = view.members ?? [];
    view.members = [...reply.cur_user_id_list];
    const changed = memberIds.filter((u) => before.includes(u) === (changeType === 'del'));
    if (changed.length > 0) page.noteGroupEvent(view, changeType, changed);
    if (page.current?.id === groupId) redrawGroupPanel();
  } catch (error) {
    report(error);
  }
}

function removeMember(groupId: string, userId: string): void {
  void changeMembers(groupId, 'del', [userId]);
}

export async function leaveCurrentGroup(): Promise<void> {
  const chat = page.client;
  const conversation = page.current;
  if (!chat || conversation?.type !== 'group') return;
  try {
    await chat.leaveGroup(conversation.id);
    const title = page.titleOf(conversation);
    forgetSession(conversation, { left: true });
    showNotice(`You left ${title}.`);
  } catch (error) {
    report(error);
  }
}

/** A group was created with this user in it, or its members changed (on another connection of anyone). */
function onGroupChange(frame: GroupChangeMemberNotifyFrame): void {
  const conversation = group(frame.group_id);
  if (frame.change_type === 'del' && frame.user_ids.includes(page.me)) {
    const title = page.titleOf(conversation);
    forgetSession(conversation, { left: true });
    showNotice(`You are no longer a member of ${title}.`);
    return;
  }
  const known = page.groups.has(frame.group_id);
  const view = page.groupOf(frame.group_id);
  const joined = frame.change_type === 'add' && frame.user_ids.includes(page.me);
  view.members = [...frame.cur_user_id_list];
  view.seenAt = performance.now();
  page.noteGroupEvent(view, frame.change_type, frame.user_ids);
  const entry = page.upsertSession(conversation);
  if (joined) entry.updatedTime = Math.max(entry.updatedTime, Math.floor(Date.now() / 1000));
  if (!known || view.name === undefined || view.ownerId === undefined) void loadGroupInfo(frame.group_id);
  redrawSessions();
  if (page.isOpen(conversation)) redrawGroupPanel();
  if (joined) showNotice(`You were added to ${page.titleOf(conversation)}.`, () => selectConversation(conversation));
  else if (page.isOpen(conversation))
    showNotice(`${describeChange(frame.change_type, frame.user_ids)} ${page.titleOf(conversation)}.`);
}
