/**
 * The local chat page: log in as a user (a dev token from GET /local/token?user_id=), see your conversations with
 * unread badges, open one to read its history (scrolling to the top loads older pages) and chat, see when the peer
 * has read your messages, remove a conversation; create groups, chat in them, see and change their members, leave
 * them. Built on the client SDK, bundled for the browser by build.ts. The SDK's sync state is kept in localStorage per
 * user, so a reloaded page catches up from where it was.
 *
 * Stable hooks for browser tests: #user-id, #peer-id, #login, #logout, #status[data-state], #message-input, #send,
 * #messages[data-history] (more | loading | start)[data-session-type] > li[data-msg-id][data-state]
 * [data-client-msg-id][data-from][data-own][data-read][data-error-code], #notice, #load-older, #remove-session,
 * #unread-total[data-unread], #sessions > li[data-session-id][data-session-type][data-unread][data-selected] > button
 * (opens the conversation); groups: #group-form, #group-name, #group-members, #create-group, #group-panel[data-group-id]
 * [data-owner], #group-member-list > li[data-user-id][data-owner], #group-add-member, #add-member, #leave-group,
 * #group-events > li[data-change-type][data-user-ids].
 * `?user=alice&peer=bob` (or `&group=<group id>`) in the page URL fills the form and connects.
 */
import {
  AuthError,
  ChatClient,
  ChatServerError,
  MsgType,
  SessionType,
  conversationOf,
  createClientMsgId,
  isGroupMsgType,
  sessionKey,
  type ConnectionState,
  type ContactSession,
  type GroupChangeMemberNotifyFrame,
  type ListedMessage,
  type MsgDataFrame,
  type MsgReadNotifyFrame,
  type RemoveSessionNotifyFrame,
  type SyncState,
} from '../../client/index.js';

/** `sending` → `stored` (acked, has msg_id) or `failed` (error code); `received` for others' messages. */
type ItemState = 'sending' | 'stored' | 'failed' | 'received';

interface ChatItem {
  readonly clientMsgId: string | undefined;
  msgId: number | undefined;
  readonly from: string;
  readonly text: string;
  createTime: number | undefined;
  state: ItemState;
  errorCode: string | undefined;
  /** Order of arrival, for items without a msg_id yet. */
  readonly order: number;
  element: HTMLLIElement | undefined;
}

/** A conversation: a single chat with a peer (type 1) or a group (type 2), and its key (`sessionKey`). */
interface Conversation {
  readonly type: SessionType;
  readonly id: string;
  readonly key: string;
}

/** A session in the list. */
interface SessionEntry {
  readonly conversation: Conversation;
  unread: number;
  latestMsgId: number;
  latestText: string;
  latestFrom: string;
  updatedTime: number;
}

/** What the page knows of a group. */
interface GroupView {
  name: string | undefined;
  ownerId: string | undefined;
  members: string[] | undefined;
  /** When this page last learned first-hand that the user is a member (performance.now()): newer than a list. */
  seenAt: number;
  /** Member changes seen on this page, newest last. */
  readonly events: { readonly changeType: 'add' | 'del'; readonly userIds: readonly string[]; readonly time: number }[];
}

/** How much of a conversation's history is loaded. */
interface HistoryState {
  /** Lowest msg_id loaded from history. */
  oldest: number | undefined;
  /** The newest page was loaded. */
  loadedNewest: boolean;
  /** Nothing older exists. */
  atStart: boolean;
  loading: boolean;
}

const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;
const HISTORY_PAGE = 30;
const SYNC_STATE_KEY = 'teamtalk-sync:';
const MAX_GROUP_EVENTS = 20;

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

const ui = {
  loginForm: byId<HTMLFormElement>('login-form'),
  userId: byId<HTMLInputElement>('user-id'),
  peerId: byId<HTMLInputElement>('peer-id'),
  login: byId<HTMLButtonElement>('login'),
  logout: byId<HTMLButtonElement>('logout'),
  status: byId<HTMLElement>('status'),
  groupForm: byId<HTMLFormElement>('group-form'),
  groupName: byId<HTMLInputElement>('group-name'),
  groupMembers: byId<HTMLInputElement>('group-members'),
  createGroup: byId<HTMLButtonElement>('create-group'),
  sessions: byId<HTMLUListElement>('sessions'),
  sessionsEmpty: byId<HTMLElement>('sessions-empty'),
  unreadTotal: byId<HTMLElement>('unread-total'),
  conversation: byId<HTMLElement>('conversation'),
  removeSession: byId<HTMLButtonElement>('remove-session'),
  groupPanel: byId<HTMLElement>('group-panel'),
  groupMemberList: byId<HTMLUListElement>('group-member-list'),
  groupAddForm: byId<HTMLFormElement>('group-add-form'),
  groupAddMember: byId<HTMLInputElement>('group-add-member'),
  addMember: byId<HTMLButtonElement>('add-member'),
  leaveGroup: byId<HTMLButtonElement>('leave-group'),
  groupEvents: byId<HTMLOListElement>('group-events'),
  notice: byId<HTMLElement>('notice'),
  loadOlder: byId<HTMLButtonElement>('load-older'),
  messages: byId<HTMLOListElement>('messages'),
  composer: byId<HTMLFormElement>('composer'),
  input: byId<HTMLInputElement>('message-input'),
  send: byId<HTMLButtonElement>('send'),
};

let client: ChatClient | undefined;
let me = '';
/** The open conversation. */
let current: Conversation | undefined;
let arrival = 0;
/** Conversations by key, each item once (keyed by msg_id when known, else by client_msg_id). */
const conversations = new Map<string, ChatItem[]>();
const sessions = new Map<string, SessionEntry>();
const histories = new Map<string, HistoryState>();
const groups = new Map<string, GroupView>();
/** Per peer: the highest msg_id the peer has read (from msg_read_receipt). */
const readByPeer = new Map<string, number>();
/** Per conversation key: the highest msg_id this user marked read (sent, or told by msg_read_notify). */
const readMarks = new Map<string, number>();
let saveTimer: ReturnType<typeof setTimeout> | undefined;

function single(peerId: string): Conversation {
  return { type: SessionType.Single, id: peerId, key: sessionKey(SessionType.Single, peerId) };
}

function group(groupId: string): Conversation {
  return { type: SessionType.Group, id: groupId, key: sessionKey(SessionType.Group, groupId) };
}

const isGroup = (conversation: Conversation | undefined): boolean => conversation?.type === SessionType.Group;
const isOpen = (conversation: Conversation): boolean => current?.key === conversation.key;

function groupOf(groupId: string): GroupView {
  let view = groups.get(groupId);
  if (!view) {
    view = { name: undefined, ownerId: undefined, members: undefined, seenAt: 0, events: [] };
    groups.set(groupId, view);
  }
  return view;
}

/** A conversation's name in the list and the header: the peer, or the group's name (its id until known). */
function titleOf(conversation: Conversation): string {
  return isGroup(conversation) ? (groups.get(conversation.id)?.name ?? conversation.id) : conversation.id;
}

// -----------------------------------------------------------------------------------------------------------------
// Sync state in localStorage

function loadSyncState(userId: string): SyncState | undefined {
  try {
    const text = localStorage.getItem(SYNC_STATE_KEY + userId);
    const value: unknown = text ? JSON.parse(text) : undefined;
    if (typeof value === 'object' && value !== null && 'lastSyncTime' in value && 'latestMsgIds' in value) return value as SyncState;
  } catch {
    // No storage (private mode) or a value from an older page: start afresh.
  }
  return undefined;
}

function saveSyncState(): void {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  if (!client || !me) return;
  try {
    localStorage.setItem(SYNC_STATE_KEY + me, JSON.stringify(client.getSyncState()));
  } catch {
    // Storage full or unavailable: the next load catches up from further back.
  }
}

function saveSyncStateSoon(): void {
  saveTimer ??= setTimeout(saveSyncState, 1_000);
}

// -----------------------------------------------------------------------------------------------------------------
// Connection

async function fetchToken(userId: string): Promise<string> {
  const response = await fetch(`/local/token?user_id=${encodeURIComponent(userId)}`, { cache: 'no-store' });
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; message?: unknown };
  if (!response.ok || typeof body.token !== 'string') {
    const message = typeof body.message === 'string' ? body.message : `token endpoint answered ${response.status}`;
    // A 4xx will not get better by retrying: AuthError stops the client. Anything else is retried with backoff.
    throw response.status >= 400 && response.status < 500 ? new AuthError(message, response.status) : new Error(message);
  }
  return body.token;
}

function webSocketUrl(): string {
  const override = new URLSearchParams(location.search).get('ws');
  if (override) return override;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

async function logIn(userId: string): Promise<void> {
  logOut();
  me = userId;
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
  client = chat;
  const mine = <A extends unknown[]>(handler: (...args: A) => void) => (...args: A) => {
    if (chat === client) handler(...args);
  };
  chat.on('state', mine((state: ConnectionState) => {
    showState(state);
    if (state === 'open' && current) void openConversation(current, { reload: true });
  }));
  chat.on('synced', mine(() => {
    saveSyncState();
    void refreshSessions();
  }));
  chat.on('message', mine(onMessage));
  chat.on('msg_read_receipt', mine(onReadReceipt));
  chat.on('msg_read_notify', mine(onReadNotify));
  chat.on('remove_session_notify', mine((frame: RemoveSessionNotifyFrame) => {
    // Groups are listed from group_list, hidden or not; only leaving takes one off the list.
    if (frame.session_type === SessionType.Single) forgetSession(single(frame.session_id));
  }));
  chat.on('group_change_member_notify', mine(onGroupChange));
  chat.on('error', mine((error: Error) => {
    if (chat.state === 'closed') showState('closed', error.message);
    else showNotice(error instanceof ChatServerError ? `Server: ${error.code}` : error.message);
  }));
  setSignedIn(true);
  try {
    await chat.connect();
  } catch (error) {
    showState('closed', error instanceof Error ? error.message : String(error));
  }
}

function logOut(): void {
  saveSyncState();
  client?.close();
  client = undefined;
  me = '';
  conversations.clear();
  sessions.clear();
  histories.clear();
  groups.clear();
  readByPeer.clear();
  readMarks.clear();
  setSignedIn(false);
  showState('closed');
  render();
  renderSessions();
}

function serverErrorText(error: unknown): string {
  return error instanceof ChatServerError ? `Server: ${error.code}${error.message ? ` (${error.message})` : ''}` : String(error);
}

// -----------------------------------------------------------------------------------------------------------------
// Sessions

function upsertSession(conversation: Conversation): SessionEntry {
  let entry = sessions.get(conversation.key);
  if (!entry) {
    entry = { conversation, unread: 0, latestMsgId: 0, latestText: '', latestFrom: '', updatedTime: 0 };
    sessions.set(conversation.key, entry);
  }
  return entry;
}

/**
 * Reloads the session list: every page of recent_sessions (the server's unread counts replace the local ones) and
 * the user's groups (a group without messages has no recent session yet).
 */
async function refreshSessions(): Promise<void> {
  const chat = client;
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
  if (chat !== client) return;
  const listed = new Set<string>();
  for (const session of list) {
    if (session.session_type !== SessionType.Single && session.session_type !== SessionType.Group) continue;
    const conversation = session.session_type === SessionType.Group ? group(session.session_id) : single(session.session_id);
    listed.add(conversation.key);
    const entry = upsertSession(conversation);
    entry.unread = session.unread_cnt;
    if (session.latest_msg_id >= entry.latestMsgId) {
      entry.latestMsgId = session.latest_msg_id;
      entry.latestText = session.latest_msg_data;
      entry.latestFrom = session.latest_msg_from_user_id;
    }
    entry.updatedTime = Math.max(entry.updatedTime, session.updated_time);
  }
  if (groupList) {
    const groupKeys = new Set<string>();
    for (const { group_id, group_name } of groupList) {
      const conversation = group(group_id);
      groupKeys.add(conversation.key);
      listed.add(conversation.key);
      groupOf(group_id).name = group_name;
      upsertSession(conversation);
    }
    // A group the server lists no more: this user left it or was removed, on a connection that missed the notice.
    // One this page joined or created after asking is kept: the list is older than that.
    for (const [key, entry] of [...sessions]) {
      if (!isGroup(entry.conversation) || groupKeys.has(key)) continue;
      if ((groups.get(entry.conversation.id)?.seenAt ?? 0) >= startedAt) listed.add(key);
      else forgetSession(entry.conversation, { left: true });
    }
  } else {
    for (const entry of sessions.values()) if (isGroup(entry.conversation)) listed.add(entry.conversation.key);
  }
  // Sessions the server no longer lists were removed elsewhere; the open one stays.
  for (const key of [...sessions.keys()]) if (!listed.has(key) && key !== current?.key) sessions.delete(key);
  renderSessions();
  if (current && isGroup(current)) renderGroupPanel();
  if (current && (sessions.get(current.key)?.unread ?? 0) > 0) void markConversationRead(current);
}

/** Takes a conversation off the list (and closes it when open); `left` also forgets what the page held of a group. */
function forgetSession(conversation: Conversation, options: { left?: boolean } = {}): void {
  sessions.delete(conversation.key);
  if (options.left) {
    conversations.delete(conversation.key);
    histories.delete(conversation.key);
    groups.delete(conversation.id);
  }
  if (isOpen(conversation)) {
    current = undefined;
    ui.peerId.value = '';
    render();
  }
  renderSessions();
}

async function removeCurrentSession(): Promise<void> {
  const chat = client;
  const conversation = current;
  if (!chat || !conversation || isGroup(conversation)) return;
  try {
    await chat.removeSession(conversationOf({ session_id: conversation.id, session_type: conversation.type })!);
    forgetSession(conversation);
  } catch (error) {
    showNotice(serverErrorText(error));
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Groups

function parseUserIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((id) => id !== ''))];
}

async function createGroup(name: string, memberText: string): Promise<void> {
  const chat = client;
  if (!chat) return;
  const memberIds = parseUserIds(memberText).filter((id) => id !== me);
  const invalid = memberIds.filter((id) => !USER_ID.test(id));
  if (name === '' || invalid.length > 0) {
    showNotice(name === '' ? 'Give the group a name.' : `Not a user id: ${invalid.join(', ')}`);
    return;
  }
  ui.createGroup.disabled = true;
  try {
    const { group_id } = await chat.createGroup({ groupName: name, memberIds });
    if (chat !== client) return;
    const view = groupOf(group_id);
    view.name = name;
    view.ownerId = me;
    view.members = [me, ...memberIds];
    view.seenAt = performance.now();
    upsertSession(group(group_id)).updatedTime = Math.floor(Date.now() / 1000);
    ui.groupName.value = '';
    ui.groupMembers.value = '';
    selectConversation(group(group_id));
  } catch (error) {
    showNotice(serverErrorText(error));
  } finally {
    ui.createGroup.disabled = false;
  }
}

/** Name, owner and members of a group, from group_info. */
async function loadGroupInfo(groupId: string): Promise<void> {
  const chat = client;
  if (!chat) return;
  try {
    const info = await chat.groupInfo(groupId);
    if (chat !== client) return;
    const view = groupOf(groupId);
    view.name = info.group_name;
    view.ownerId = info.owner_id;
    view.members = [...info.cur_user_id_list];
    view.seenAt = performance.now();
  } catch (error) {
    if (error instanceof ChatServerError && error.code === 'not_member') forgetSession(group(groupId), { left: true });
    return;
  }
  renderSessions();
  if (current?.id === groupId && isGroup(current)) render();
}

async function changeMembers(groupId: string, changeType: 'add' | 'del', memberIds: string[]): Promise<void> {
  const chat = client;
  if (!chat || memberIds.length === 0) return;
  try {
    const reply = await chat.changeGroupMembers({ groupId, changeType, memberIds });
    if (chat !== client) return;
    const view = groupOf(groupId);
    const before = view.members ?? [];
    view.members = [...reply.cur_user_id_list];
    const changed = changeType === 'add' ? memberIds.filter((u) => !before.includes(u)) : memberIds.filter((u) => before.includes(u));
    if (changed.length > 0) noteGroupEvent(view, changeType, changed);
    if (current?.id === groupId) renderGroupPanel();
  } catch (error) {
    showNotice(serverErrorText(error));
  }
}

async function leaveCurrentGroup(): Promise<void> {
  const chat = client;
  const conversation = current;
  if (!chat || !conversation || !isGroup(conversation)) return;
  try {
    await chat.leaveGroup(conversation.id);
    forgetSession(conversation, { left: true });
    showNotice(`You left ${titleOf(conversation)}.`);
  } catch (error) {
    showNotice(serverErrorText(error));
  }
}

function noteGroupEvent(view: GroupView, changeType: 'add' | 'del', userIds: readonly string[]): void {
  view.events.push({ changeType, userIds, time: Math.floor(Date.now() / 1000) });
  if (view.events.length > MAX_GROUP_EVENTS) view.events.splice(0, view.events.length - MAX_GROUP_EVENTS);
}

function describeChange(changeType: 'add' | 'del', userIds: readonly string[]): string {
  const who = userIds.map((u) => (u === me ? 'you' : u)).join(', ');
  return changeType === 'add' ? `${who} joined` : `${who} left`;
}

/** A group was created with this user in it, or its members changed (on another connection of anyone). */
function onGroupChange(frame: GroupChangeMemberNotifyFrame): void {
  const conversation = group(frame.group_id);
  if (frame.change_type === 'del' && frame.user_ids.includes(me)) {
    const title = titleOf(conversation);
    forgetSession(conversation, { left: true });
    showNotice(`You are no longer a member of ${title}.`);
    return;
  }
  const known = groups.has(frame.group_id);
  const view = groupOf(frame.group_id);
  const joined = frame.change_type === 'add' && frame.user_ids.includes(me);
  view.members = [...frame.cur_user_id_list];
  view.seenAt = performance.now();
  noteGroupEvent(view, frame.change_type, frame.user_ids);
  const entry = upsertSession(conversation);
  if (joined) entry.updatedTime = Math.max(entry.updatedTime, Math.floor(Date.now() / 1000));
  if (!known || view.name === undefined || view.ownerId === undefined) void loadGroupInfo(frame.group_id);
  renderSessions();
  if (isOpen(conversation)) renderGroupPanel();
  if (joined) showNotice(`You were added to ${titleOf(conversation)}.`, conversation);
  else if (isOpen(conversation)) showNotice(`${describeChange(frame.change_type, frame.user_ids)} ${titleOf(conversation)}.`);
}

// -----------------------------------------------------------------------------------------------------------------
// History and read marks

function historyOf(conversation: Conversation): HistoryState {
  let history = histories.get(conversation.key);
  if (!history) {
    history = { oldest: undefined, loadedNewest: false, atStart: false, loading: false };
    histories.set(conversation.key, history);
  }
  return history;
}

/** Loads the page of messages with msg_id ≤ begin (0 = the newest page). */
async function loadPage(conversation: Conversation, begin: number): Promise<void> {
  const chat = client;
  const history = historyOf(conversation);
  if (!chat || history.loading) return;
  history.loading = true;
  if (isOpen(conversation)) renderHistoryState();
  try {
    const reply = await chat.listMessages({ sessionId: conversation.id, sessionType: conversation.type, msgIdBegin: begin, msgCnt: HISTORY_PAGE });
    if (chat !== client) return;
    const list = reply.msg_list;
    for (const message of list) addStored(conversation, message);
    for (const message of list) history.oldest = Math.min(history.oldest ?? message.msg_id, message.msg_id);
    if (begin === 0) history.loadedNewest = true;
    if (list.length < HISTORY_PAGE || (history.oldest ?? 0) <= 1) history.atStart = true;
  } catch {
    // A dropped connection: the next open loads again; live messages still arrive.
  } finally {
    history.loading = false;
  }
  if (isOpen(conversation)) {
    keepScrollWhile(render);
    fillViewport();
  }
}

/** The lowest msg_id the open conversation shows. */
function oldestShown(conversation: Conversation): number | undefined {
  let oldest = historyOf(conversation).oldest;
  for (const item of itemsOf(conversation)) if (item.msgId !== undefined) oldest = Math.min(oldest ?? item.msgId, item.msgId);
  return oldest;
}

/** Scroll-back: the page before the oldest message shown. */
async function loadOlder(): Promise<void> {
  const conversation = current;
  const history = conversation ? historyOf(conversation) : undefined;
  if (!conversation || !history || history.atStart || history.loading || !client) return;
  const oldest = oldestShown(conversation);
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
  const history = current ? historyOf(current) : undefined;
  if (history && !history.atStart && !history.loading && list.scrollHeight <= list.clientHeight) void loadOlder();
}

/** Opens a conversation: its newest page (again after a reconnect), a group's members, then marks it read. */
async function openConversation(conversation: Conversation, options: { reload?: boolean } = {}): Promise<void> {
  if (isGroup(conversation) && (options.reload || groups.get(conversation.id)?.members === undefined)) void loadGroupInfo(conversation.id);
  const history = historyOf(conversation);
  if (!history.loadedNewest || options.reload) await loadPage(conversation, 0);
  if (isOpen(conversation)) await markConversationRead(conversation);
}

/** msg_read_ack of the conversation's newest message, when something in it is unread. */
async function markConversationRead(conversation: Conversation): Promise<void> {
  const chat = client;
  if (!chat || chat.state !== 'open') return;
  const entry = sessions.get(conversation.key);
  let newest = entry?.latestMsgId ?? 0;
  let newestFromOthers = 0;
  for (const item of itemsOf(conversation)) {
    if (item.msgId === undefined) continue;
    newest = Math.max(newest, item.msgId);
    if (item.from !== me) newestFromOthers = Math.max(newestFromOthers, item.msgId);
  }
  const marked = readMarks.get(conversation.key) ?? 0;
  if (newest === 0 || newest <= marked || ((entry?.unread ?? 0) === 0 && newestFromOthers <= marked)) return;
  readMarks.set(conversation.key, newest);
  try {
    await chat.markRead({ conversation: conversationOf({ session_id: conversation.id, session_type: conversation.type })!, msgId: newest });
    const now = sessions.get(conversation.key);
    if (now && now.latestMsgId <= newest) now.unread = 0;
    renderSessions();
  } catch {
    readMarks.set(conversation.key, marked); // Not stored: try again next time.
  }
}

let readTimer: ReturnType<typeof setTimeout> | undefined;

/** One read ack for a burst of messages (a catch-up delivers many at once). */
function markConversationReadSoon(conversation: Conversation): void {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    readTimer = undefined;
    if (isOpen(conversation)) void markConversationRead(conversation);
  }, 50);
}

function onReadReceipt(frame: MsgReadNotifyFrame): void {
  if (frame.session_type !== SessionType.Single) return;
  readByPeer.set(frame.user_id, Math.max(readByPeer.get(frame.user_id) ?? 0, frame.msg_id));
  if (current && !isGroup(current) && frame.user_id === current.id) render();
}

function onReadNotify(frame: MsgReadNotifyFrame): void {
  if (frame.session_type !== SessionType.Single && frame.session_type !== SessionType.Group) return;
  const conversation = frame.session_type === SessionType.Group ? group(frame.session_id) : single(frame.session_id);
  readMarks.set(conversation.key, Math.max(readMarks.get(conversation.key) ?? 0, frame.msg_id));
  const entry = sessions.get(conversation.key);
  if (!entry) return;
  if (frame.msg_id >= entry.latestMsgId) {
    entry.unread = 0;
    renderSessions();
  } else {
    void refreshSessions(); // Read up to an older message: the server knows what is left.
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Messages

function itemsOf(conversation: Conversation): ChatItem[] {
  let items = conversations.get(conversation.key);
  if (!items) {
    items = [];
    conversations.set(conversation.key, items);
  }
  return items;
}

function newItem(fields: Pick<ChatItem, 'clientMsgId' | 'msgId' | 'from' | 'text' | 'createTime' | 'state'>): ChatItem {
  return { ...fields, errorCode: undefined, order: arrival++, element: undefined };
}

/** Adds a stored message (live or from history) unless the conversation already has it. */
function addStored(
  conversation: Conversation,
  message: Pick<ListedMessage, 'msg_id' | 'from_user_id' | 'create_time' | 'msg_data'> & { client_msg_id?: string },
): void {
  const items = itemsOf(conversation);
  const existing = items.find(
    (item) =>
      item.msgId === message.msg_id ||
      (message.client_msg_id !== undefined && item.clientMsgId === message.client_msg_id),
  );
  if (existing) return;
  items.push(
    newItem({
      clientMsgId: message.client_msg_id,
      msgId: message.msg_id,
      from: message.from_user_id,
      text: message.msg_data,
      createTime: message.create_time,
      state: message.from_user_id === me ? 'stored' : 'received',
    }),
  );
}

/** Records a conversation's newest message on its session entry; true when it is newer than what the entry had. */
function noteLatest(conversation: Conversation, msgId: number, from: string, text: string, time: number): boolean {
  const entry = upsertSession(conversation);
  entry.updatedTime = Math.max(entry.updatedTime, time);
  if (msgId <= entry.latestMsgId) return false;
  entry.latestMsgId = msgId;
  entry.latestFrom = from;
  entry.latestText = text;
  return true;
}

/** A message for this user, live or caught up after a reconnect (the SDK delivers each once). */
function onMessage(frame: MsgDataFrame): void {
  const inGroup = isGroupMsgType(frame.msg_type);
  if (!inGroup && frame.msg_type !== MsgType.SingleText && frame.msg_type !== MsgType.SingleAudio) return;
  // The conversation is the group, or the other side: the sender, or the receiver when another tab of mine sent it.
  const conversation = inGroup ? group(frame.to_session_id) : single(frame.from_user_id === me ? frame.to_session_id : frame.from_user_id);
  if (inGroup && !groups.has(conversation.id)) {
    groupOf(conversation.id); // Asked once, however many messages arrive meanwhile.
    void loadGroupInfo(conversation.id);
  }
  addStored(conversation, frame);
  const isNew = noteLatest(conversation, frame.msg_id, frame.from_user_id, frame.msg_data, frame.create_time);
  const fromOther = frame.from_user_id !== me;
  const open = isOpen(conversation) && document.visibilityState !== 'hidden';
  if (fromOther && isNew && frame.msg_id > (readMarks.get(conversation.key) ?? 0)) {
    if (open) markConversationReadSoon(conversation);
    else upsertSession(conversation).unread += 1;
  }
  renderSessions();
  if (isOpen(conversation)) render();
  else if (fromOther && !client?.syncing) {
    showNotice(inGroup ? `New message in ${titleOf(conversation)} from ${frame.from_user_id}` : `New message from ${frame.from_user_id}`, conversation);
  }
  saveSyncStateSoon();
}

function sendMessage(text: string): void {
  const chat = client;
  const to = current;
  if (!chat || !to || text === '') return;
  const item = newItem({ clientMsgId: createClientMsgId(), msgId: undefined, from: me, text, createTime: undefined, state: 'sending' });
  const items = itemsOf(to);
  items.push(item);
  render();
  chat
    .send({ toSessionId: to.id, msgType: isGroup(to) ? MsgType.GroupText : MsgType.SingleText, msgData: text, clientMsgId: item.clientMsgId })
    .then((ack) => {
      // History may have brought the same message in already: keep this item, drop that one.
      const duplicate = items.findIndex((other) => other !== item && other.msgId === ack.msg_id);
      if (duplicate >= 0) {
        items[duplicate]!.element?.remove();
        items.splice(duplicate, 1);
      }
      item.msgId = ack.msg_id;
      item.createTime = ack.create_time;
      item.state = 'stored';
      noteLatest(to, ack.msg_id, me, text, ack.create_time);
      renderSessions();
      saveSyncStateSoon();
    })
    .catch((error: unknown) => {
      item.state = 'failed';
      item.errorCode =
        error instanceof ChatServerError ? error.code : error instanceof Error ? error.name : 'unknown';
    })
    .finally(() => {
      if (isOpen(to)) render();
    });
}

// -----------------------------------------------------------------------------------------------------------------
// Rendering

function compareItems(a: ChatItem, b: ChatItem): number {
  // Stored messages in msg_id order (the relation's sequence), then those still sending or failed, as typed.
  if (a.msgId !== undefined && b.msgId !== undefined) return a.msgId - b.msgId || a.order - b.order;
  if (a.msgId !== undefined) return -1;
  if (b.msgId !== undefined) return 1;
  return a.order - b.order;
}

function formatTime(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A message of mine the peer has read (single chat only: groups have no read receipts). */
function isRead(item: ChatItem): boolean {
  if (!current || isGroup(current)) return false;
  return item.state === 'stored' && item.from === me && item.msgId !== undefined && item.msgId <= (readByPeer.get(current.id) ?? 0);
}

function stateLabel(item: ChatItem): string {
  switch (item.state) {
    case 'sending':
      return 'sending…';
    case 'stored':
      return isRead(item) ? `stored #${item.msgId ?? '?'} · read` : `stored #${item.msgId ?? '?'}`;
    case 'failed':
      return `failed: ${item.errorCode ?? 'unknown'}`;
    case 'received':
      return `#${item.msgId ?? '?'}`;
  }
}

function renderItem(item: ChatItem): HTMLLIElement {
  let element = item.element;
  if (!element) {
    element = document.createElement('li');
    const meta = document.createElement('span');
    meta.className = 'meta';
    const body = document.createElement('span');
    body.className = 'body';
    body.textContent = item.text;
    element.append(meta, body);
    item.element = element;
  }
  const own = item.from === me;
  element.dataset['msgId'] = item.msgId === undefined ? '' : String(item.msgId);
  element.dataset['state'] = item.state;
  element.dataset['from'] = item.from;
  element.dataset['own'] = String(own);
  if (own && !isGroup(current)) element.dataset['read'] = String(isRead(item));
  else delete element.dataset['read'];
  if (item.clientMsgId !== undefined) element.dataset['clientMsgId'] = item.clientMsgId;
  if (item.errorCode !== undefined) element.dataset['errorCode'] = item.errorCode;
  else delete element.dataset['errorCode'];
  const meta = element.firstElementChild as HTMLElement;
  meta.textContent = [own ? 'you' : item.from, formatTime(item.createTime), stateLabel(item)].filter(Boolean).join(' · ');
  return element;
}

/** Runs `change` (which re-renders the list) keeping the messages in view where they were: for prepended pages. */
function keepScrollWhile(change: () => void): void {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const fromBottom = list.scrollHeight - list.scrollTop;
  change();
  list.scrollTop = atBottom ? list.scrollHeight : list.scrollHeight - fromBottom;
}

function renderHistoryState(): void {
  const history = current && me ? historyOf(current) : undefined;
  const state = !history ? 'start' : history.loading ? 'loading' : history.atStart ? 'start' : 'more';
  ui.messages.dataset['history'] = state;
  ui.loadOlder.hidden = !history || state === 'start';
  ui.loadOlder.disabled = state === 'loading';
  ui.loadOlder.textContent = state === 'loading' ? 'Loading…' : 'Load older messages';
}

/** The open group's members (owner first), owner-only add and remove, leave, and the member changes seen. */
function renderGroupPanel(): void {
  const conversation = current;
  if (!me || !conversation || !isGroup(conversation)) {
    ui.groupPanel.hidden = true;
    delete ui.groupPanel.dataset['groupId'];
    ui.groupMemberList.replaceChildren();
    ui.groupEvents.replaceChildren();
    return;
  }
  const view = groupOf(conversation.id);
  const owner = view.ownerId;
  const iOwn = owner === me;
  ui.groupPanel.hidden = false;
  ui.groupPanel.dataset['groupId'] = conversation.id;
  ui.groupPanel.dataset['owner'] = owner ?? '';
  const members = [...(view.members ?? [])].sort((a, b) => (a === owner ? -1 : b === owner ? 1 : a < b ? -1 : a > b ? 1 : 0));
  ui.groupMemberList.replaceChildren(
    ...members.map((userId) => {
      const li = document.createElement('li');
      li.dataset['userId'] = userId;
      li.dataset['owner'] = String(userId === owner);
      const name = document.createElement('span');
      name.textContent = userId === me ? `${userId} (you)` : userId;
      li.append(name);
      if (userId === owner) {
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = 'owner';
        li.append(tag);
      } else if (iOwn) {
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'remove-member';
        remove.title = `Remove ${userId} from the group`;
        remove.textContent = '×';
        remove.addEventListener('click', () => void changeMembers(conversation.id, 'del', [userId]));
        li.append(remove);
      }
      return li;
    }),
  );
  ui.groupAddForm.hidden = !iOwn;
  ui.leaveGroup.hidden = owner === undefined || iOwn; // The owner cannot leave.
  ui.groupEvents.replaceChildren(
    ...view.events.map((event) => {
      const li = document.createElement('li');
      li.dataset['changeType'] = event.changeType;
      li.dataset['userIds'] = event.userIds.join(',');
      li.textContent = `${formatTime(event.time)} · ${describeChange(event.changeType, event.userIds)}`;
      return li;
    }),
  );
  ui.groupEvents.hidden = view.events.length === 0;
}

function render(): void {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const items = current && me ? [...itemsOf(current)].sort(compareItems) : [];
  list.replaceChildren(...items.map(renderItem));
  list.dataset['sessionType'] = current ? String(current.type) : '';
  if (atBottom) list.scrollTop = list.scrollHeight;
  if (!me) ui.conversation.textContent = 'Connect, then pick someone to chat with.';
  else if (!current) ui.conversation.textContent = `Signed in as ${me}. Pick a conversation, enter who to chat with, or create a group.`;
  else if (isGroup(current)) {
    const members = groups.get(current.id)?.members;
    ui.conversation.textContent = `${titleOf(current)} · group${members ? ` of ${members.length}` : ''}`;
  } else ui.conversation.textContent = `${me} ↔ ${current.id}`;
  ui.removeSession.hidden = !me || !current || isGroup(current) || !sessions.has(current.key);
  const canSend = client !== undefined;
  ui.input.disabled = !canSend;
  ui.send.disabled = !canSend;
  ui.input.placeholder = current && isGroup(current) ? `Write to ${titleOf(current)}` : 'Write a message';
  renderHistoryState();
  renderGroupPanel();
}

function renderSessions(): void {
  const entries = [...sessions.values()].sort(
    (a, b) => b.updatedTime - a.updatedTime || (a.conversation.key < b.conversation.key ? -1 : 1),
  );
  ui.sessions.replaceChildren(
    ...entries.map((entry) => {
      const { conversation } = entry;
      const li = document.createElement('li');
      li.dataset['sessionId'] = conversation.id;
      li.dataset['sessionType'] = String(conversation.type);
      li.dataset['unread'] = String(entry.unread);
      li.dataset['selected'] = String(isOpen(conversation));
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'session';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = titleOf(conversation);
      if (isGroup(conversation)) {
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = 'group';
        name.append(' ', tag);
      }
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = String(entry.unread);
      badge.hidden = entry.unread === 0;
      const preview = document.createElement('span');
      preview.className = 'preview';
      const by = entry.latestFrom === me ? 'you: ' : isGroup(conversation) && entry.latestFrom !== '' ? `${entry.latestFrom}: ` : '';
      preview.textContent = entry.latestText === '' ? '' : `${by}${entry.latestText}`;
      button.append(name, badge, preview);
      button.addEventListener('click', () => selectConversation(conversation));
      li.append(button);
      return li;
    }),
  );
  ui.sessionsEmpty.hidden = entries.length > 0 || !me;
  const total = entries.reduce((sum, entry) => sum + entry.unread, 0);
  ui.unreadTotal.dataset['unread'] = String(total);
  ui.unreadTotal.textContent = String(total);
  ui.unreadTotal.hidden = total === 0;
  ui.removeSession.hidden = !me || !current || isGroup(current) || !sessions.has(current.key);
  document.title = total > 0 ? `(${total}) TeamTalk serverless · local chat` : 'TeamTalk serverless · local chat';
}

function showState(state: ConnectionState, detail?: string): void {
  const failed = state === 'closed' && detail !== undefined;
  ui.status.dataset['state'] = failed ? 'failed' : state;
  const label: Record<ConnectionState, string> = {
    initialized: 'signed out',
    connecting: 'connecting…',
    suspended: 'offline, retrying…',
    open: `online as ${me}`,
    reconnecting: 'reconnecting…',
    closed: me ? 'disconnected' : 'signed out',
  };
  ui.status.textContent = failed ? `disconnected: ${detail}` : label[state];
}

function showNotice(text: string, switchTo?: Conversation): void {
  ui.notice.replaceChildren(text);
  if (switchTo) {
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = 'Open';
    open.addEventListener('click', () => selectConversation(switchTo));
    ui.notice.append(open);
  }
  ui.notice.hidden = false;
}

function setSignedIn(signedIn: boolean): void {
  ui.userId.disabled = signedIn;
  ui.login.hidden = signedIn;
  ui.logout.hidden = !signedIn;
  ui.groupForm.hidden = !signedIn;
  ui.notice.hidden = true;
}

function selectConversation(conversation: Conversation | undefined): void {
  current = conversation;
  ui.peerId.value = conversation && !isGroup(conversation) ? conversation.id : '';
  ui.notice.hidden = true;
  render();
  renderSessions();
  ui.messages.scrollTop = ui.messages.scrollHeight;
  if (conversation && client?.state === 'open') void openConversation(conversation);
}

function selectPeer(peerId: string): void {
  selectConversation(peerId ? single(peerId) : undefined);
}

// -----------------------------------------------------------------------------------------------------------------
// Wiring

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = ui.userId.value.trim();
  if (!USER_ID.test(userId)) {
    showState('closed', 'user id must be 1–128 characters of A-Z a-z 0-9 _ . @ -');
    return;
  }
  const typedPeer = ui.peerId.value.trim();
  if (USER_ID.test(typedPeer)) current = single(typedPeer);
  else if (!isGroup(current)) current = undefined;
  void logIn(userId);
  render();
});

ui.logout.addEventListener('click', logOut);

ui.peerId.addEventListener('change', () => {
  const value = ui.peerId.value.trim();
  if (value === '') {
    if (!isGroup(current)) selectPeer('');
  } else if (USER_ID.test(value)) selectPeer(value);
});

ui.groupForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void createGroup(ui.groupName.value.trim(), ui.groupMembers.value);
});

ui.groupAddForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const conversation = current;
  if (!conversation || !isGroup(conversation)) return;
  const ids = parseUserIds(ui.groupAddMember.value);
  const invalid = ids.filter((id) => !USER_ID.test(id));
  if (invalid.length > 0) {
    showNotice(`Not a user id: ${invalid.join(', ')}`);
    return;
  }
  ui.groupAddMember.value = '';
  void changeMembers(conversation.id, 'add', ids);
});

ui.leaveGroup.addEventListener('click', () => void leaveCurrentGroup());

ui.messages.addEventListener('scroll', () => {
  if (ui.messages.scrollTop < 24) void loadOlder();
});
ui.loadOlder.addEventListener('click', () => void loadOlder());
ui.removeSession.addEventListener('click', () => void removeCurrentSession());

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && current) void markConversationRead(current);
});
window.addEventListener('pagehide', saveSyncState);

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  // A peer typed but not yet committed (no change event) still counts.
  const typedPeer = ui.peerId.value.trim();
  if (typedPeer !== '' && USER_ID.test(typedPeer) && (isGroup(current) || current?.id !== typedPeer)) selectPeer(typedPeer);
  const text = ui.input.value;
  if (text.trim() === '') return;
  if (!current) {
    showNotice('Enter who to chat with first, or pick a group.');
    ui.peerId.focus();
    return;
  }
  sendMessage(text);
  ui.input.value = '';
  ui.input.focus();
});

const params = new URLSearchParams(location.search);
const presetUser = params.get('user');
const presetPeer = params.get('peer');
const presetGroup = params.get('group');
if (presetPeer) ui.peerId.value = presetPeer;
else if (presetGroup && USER_ID.test(presetGroup)) current = group(presetGroup);
if (presetUser) {
  ui.userId.value = presetUser;
  ui.loginForm.requestSubmit();
}
render();
renderSessions();
