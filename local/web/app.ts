/**
 * The local chat page: log in as a user (a dev token from GET /local/token?user_id=), see your conversations with
 * unread badges, open one to read its history (scrolling to the top loads older pages) and chat, see when the peer
 * has read your messages, remove a conversation. Built on the client SDK, bundled for the browser by build.ts. The
 * SDK's sync state is kept in localStorage per user, so a reloaded page catches up from where it was.
 *
 * Stable hooks for browser tests: #user-id, #peer-id, #login, #logout, #status[data-state], #message-input, #send,
 * #messages[data-history] (more | loading | start) > li[data-msg-id][data-state][data-client-msg-id][data-from]
 * [data-own][data-read][data-error-code], #notice, #load-older, #remove-session, #unread-total[data-unread],
 * #sessions > li[data-session-id][data-unread][data-selected] > button (opens the conversation).
 * `?user=alice&peer=bob` in the page URL fills the form and connects.
 */
import {
  AuthError,
  ChatClient,
  ChatServerError,
  SessionType,
  createClientMsgId,
  type ConnectionState,
  type ContactSession,
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

/** A single-chat session in the list. */
interface SessionEntry {
  readonly sessionId: string;
  unread: number;
  latestMsgId: number;
  latestText: string;
  latestFrom: string;
  updatedTime: number;
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
  sessions: byId<HTMLUListElement>('sessions'),
  sessionsEmpty: byId<HTMLElement>('sessions-empty'),
  unreadTotal: byId<HTMLElement>('unread-total'),
  conversation: byId<HTMLElement>('conversation'),
  removeSession: byId<HTMLButtonElement>('remove-session'),
  notice: byId<HTMLElement>('notice'),
  loadOlder: byId<HTMLButtonElement>('load-older'),
  messages: byId<HTMLOListElement>('messages'),
  composer: byId<HTMLFormElement>('composer'),
  input: byId<HTMLInputElement>('message-input'),
  send: byId<HTMLButtonElement>('send'),
};

let client: ChatClient | undefined;
let me = '';
let peer = '';
let arrival = 0;
/** Conversations by peer id, each item once (keyed by msg_id when known, else by client_msg_id). */
const conversations = new Map<string, ChatItem[]>();
const sessions = new Map<string, SessionEntry>();
const histories = new Map<string, HistoryState>();
/** Per peer: the highest msg_id the peer has read (from msg_read_receipt). */
const readByPeer = new Map<string, number>();
/** Per peer: the highest msg_id this user marked read (sent, or told by msg_read_notify). */
const readMarks = new Map<string, number>();
let saveTimer: ReturnType<typeof setTimeout> | undefined;

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
    if (state === 'open' && peer) void openConversation(peer, { reload: true });
  }));
  chat.on('synced', mine(() => {
    saveSyncState();
    void refreshSessions();
  }));
  chat.on('message', mine(onMessage));
  chat.on('msg_read_receipt', mine(onReadReceipt));
  chat.on('msg_read_notify', mine(onReadNotify));
  chat.on('remove_session_notify', mine((frame: RemoveSessionNotifyFrame) => {
    if (frame.session_type === SessionType.Single) forgetSession(frame.session_id);
  }));
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
  readByPeer.clear();
  readMarks.clear();
  setSignedIn(false);
  showState('closed');
  render();
  renderSessions();
}

// -----------------------------------------------------------------------------------------------------------------
// Sessions

function upsertSession(sessionId: string): SessionEntry {
  let entry = sessions.get(sessionId);
  if (!entry) {
    entry = { sessionId, unread: 0, latestMsgId: 0, latestText: '', latestFrom: '', updatedTime: 0 };
    sessions.set(sessionId, entry);
  }
  return entry;
}

/** Reloads the session list (every page of recent_sessions): the server's unread counts replace the local ones. */
async function refreshSessions(): Promise<void> {
  const chat = client;
  if (!chat) return;
  let list: ContactSession[];
  try {
    list = await chat.allRecentSessions(0);
  } catch {
    return; // Dropped connection: the next catch-up refreshes again.
  }
  if (chat !== client) return;
  const listed = new Set<string>();
  for (const session of list) {
    if (session.session_type !== SessionType.Single) continue; // Group chat has no view on this page yet.
    listed.add(session.session_id);
    const entry = upsertSession(session.session_id);
    entry.unread = session.unread_cnt;
    if (session.latest_msg_id >= entry.latestMsgId) {
      entry.latestMsgId = session.latest_msg_id;
      entry.latestText = session.latest_msg_data;
      entry.latestFrom = session.latest_msg_from_user_id;
    }
    entry.updatedTime = Math.max(entry.updatedTime, session.updated_time);
  }
  // Sessions the server no longer lists were removed elsewhere; the open one stays.
  for (const sessionId of [...sessions.keys()]) if (!listed.has(sessionId) && sessionId !== peer) sessions.delete(sessionId);
  renderSessions();
  if (peer && (sessions.get(peer)?.unread ?? 0) > 0) void markConversationRead(peer);
}

function forgetSession(sessionId: string): void {
  sessions.delete(sessionId);
  if (sessionId === peer) {
    peer = '';
    ui.peerId.value = '';
    render();
  }
  renderSessions();
}

async function removeCurrentSession(): Promise<void> {
  const chat = client;
  const sessionId = peer;
  if (!chat || !sessionId) return;
  try {
    await chat.removeSession({ sessionId });
    forgetSession(sessionId);
  } catch (error) {
    showNotice(error instanceof ChatServerError ? `Server: ${error.code}` : String(error));
  }
}

// -----------------------------------------------------------------------------------------------------------------
// History and read marks

function historyOf(peerId: string): HistoryState {
  let history = histories.get(peerId);
  if (!history) {
    history = { oldest: undefined, loadedNewest: false, atStart: false, loading: false };
    histories.set(peerId, history);
  }
  return history;
}

/** Loads the page of messages with msg_id ≤ begin (0 = the newest page). */
async function loadPage(peerId: string, begin: number): Promise<void> {
  const chat = client;
  const history = historyOf(peerId);
  if (!chat || history.loading) return;
  history.loading = true;
  if (peerId === peer) renderHistoryState();
  try {
    const reply = await chat.listMessages({ sessionId: peerId, msgIdBegin: begin, msgCnt: HISTORY_PAGE });
    if (chat !== client) return;
    const list = reply.msg_list;
    for (const message of list) addStored(peerId, message);
    for (const message of list) history.oldest = Math.min(history.oldest ?? message.msg_id, message.msg_id);
    if (begin === 0) history.loadedNewest = true;
    if (list.length < HISTORY_PAGE || (history.oldest ?? 0) <= 1) history.atStart = true;
  } catch {
    // A dropped connection: the next open loads again; live messages still arrive.
  } finally {
    history.loading = false;
  }
  if (peerId === peer) {
    keepScrollWhile(render);
    fillViewport();
  }
}

/** The lowest msg_id the open conversation shows. */
function oldestShown(peerId: string): number | undefined {
  let oldest = historyOf(peerId).oldest;
  for (const item of itemsOf(peerId)) if (item.msgId !== undefined) oldest = Math.min(oldest ?? item.msgId, item.msgId);
  return oldest;
}

/** Scroll-back: the page before the oldest message shown. */
async function loadOlder(): Promise<void> {
  const peerId = peer;
  const history = peerId ? historyOf(peerId) : undefined;
  if (!history || history.atStart || history.loading || !client) return;
  const oldest = oldestShown(peerId);
  if (oldest === undefined) return loadPage(peerId, 0);
  if (oldest <= 1) {
    history.atStart = true;
    renderHistoryState();
    return;
  }
  await loadPage(peerId, oldest - 1);
}

/** Loads older pages while the list does not fill its box (nothing to scroll yet). */
function fillViewport(): void {
  const list = ui.messages;
  const history = peer ? historyOf(peer) : undefined;
  if (history && !history.atStart && !history.loading && list.scrollHeight <= list.clientHeight) void loadOlder();
}

/** Opens a conversation: its newest page (again after a reconnect), then marks it read. */
async function openConversation(peerId: string, options: { reload?: boolean } = {}): Promise<void> {
  const history = historyOf(peerId);
  if (!history.loadedNewest || options.reload) await loadPage(peerId, 0);
  if (peerId === peer) await markConversationRead(peerId);
}

/** msg_read_ack of the conversation's newest message, when something in it is unread. */
async function markConversationRead(peerId: string): Promise<void> {
  const chat = client;
  if (!chat || chat.state !== 'open') return;
  const entry = sessions.get(peerId);
  let newest = entry?.latestMsgId ?? 0;
  let newestFromPeer = 0;
  for (const item of itemsOf(peerId)) {
    if (item.msgId === undefined) continue;
    newest = Math.max(newest, item.msgId);
    if (item.from === peerId) newestFromPeer = Math.max(newestFromPeer, item.msgId);
  }
  const marked = readMarks.get(peerId) ?? 0;
  if (newest === 0 || newest <= marked || ((entry?.unread ?? 0) === 0 && newestFromPeer <= marked)) return;
  readMarks.set(peerId, newest);
  try {
    await chat.markRead({ sessionId: peerId, msgId: newest });
    const current = sessions.get(peerId);
    if (current && current.latestMsgId <= newest) current.unread = 0;
    renderSessions();
  } catch {
    readMarks.set(peerId, marked); // Not stored: try again next time.
  }
}

let readTimer: ReturnType<typeof setTimeout> | undefined;

/** One read ack for a burst of messages (a catch-up delivers many at once). */
function markConversationReadSoon(peerId: string): void {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    readTimer = undefined;
    if (peerId === peer) void markConversationRead(peerId);
  }, 50);
}

function onReadReceipt(frame: MsgReadNotifyFrame): void {
  if (frame.session_type !== SessionType.Single) return;
  readByPeer.set(frame.user_id, Math.max(readByPeer.get(frame.user_id) ?? 0, frame.msg_id));
  if (frame.user_id === peer) render();
}

function onReadNotify(frame: MsgReadNotifyFrame): void {
  if (frame.session_type !== SessionType.Single) return;
  readMarks.set(frame.session_id, Math.max(readMarks.get(frame.session_id) ?? 0, frame.msg_id));
  const entry = sessions.get(frame.session_id);
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

function itemsOf(peerId: string): ChatItem[] {
  let items = conversations.get(peerId);
  if (!items) {
    items = [];
    conversations.set(peerId, items);
  }
  return items;
}

function newItem(fields: Pick<ChatItem, 'clientMsgId' | 'msgId' | 'from' | 'text' | 'createTime' | 'state'>): ChatItem {
  return { ...fields, errorCode: undefined, order: arrival++, element: undefined };
}

/** Adds a stored message (live or from history) unless the conversation already has it. */
function addStored(
  peerId: string,
  message: Pick<ListedMessage, 'msg_id' | 'from_user_id' | 'create_time' | 'msg_data'> & { client_msg_id?: string },
): void {
  const items = itemsOf(peerId);
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
function noteLatest(peerId: string, msgId: number, from: string, text: string, time: number): boolean {
  const entry = upsertSession(peerId);
  entry.updatedTime = Math.max(entry.updatedTime, time);
  if (msgId <= entry.latestMsgId) return false;
  entry.latestMsgId = msgId;
  entry.latestFrom = from;
  entry.latestText = text;
  return true;
}

/** A message for this user, live or caught up after a reconnect (the SDK delivers each once). */
function onMessage(frame: MsgDataFrame): void {
  if (frame.msg_type !== 1 && frame.msg_type !== 2) return; // Group messages have no view on this page.
  // The conversation is the other side: the sender, or the receiver when another tab of mine sent it.
  const peerId = frame.from_user_id === me ? frame.to_session_id : frame.from_user_id;
  addStored(peerId, frame);
  const isNew = noteLatest(peerId, frame.msg_id, frame.from_user_id, frame.msg_data, frame.create_time);
  const fromPeer = frame.from_user_id !== me;
  const open = peerId === peer && document.visibilityState !== 'hidden';
  if (fromPeer && isNew && frame.msg_id > (readMarks.get(peerId) ?? 0)) {
    if (open) markConversationReadSoon(peerId);
    else upsertSession(peerId).unread += 1;
  }
  renderSessions();
  if (peerId === peer) render();
  else if (fromPeer && !client?.syncing) showNotice(`New message from ${frame.from_user_id}`, peerId);
  saveSyncStateSoon();
}

function sendMessage(text: string): void {
  const chat = client;
  const to = peer;
  if (!chat || !to || text === '') return;
  const item = newItem({ clientMsgId: createClientMsgId(), msgId: undefined, from: me, text, createTime: undefined, state: 'sending' });
  const items = itemsOf(to);
  items.push(item);
  render();
  chat
    .send({ toSessionId: to, msgData: text, clientMsgId: item.clientMsgId })
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
      if (to === peer) render();
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

function isRead(item: ChatItem): boolean {
  return item.state === 'stored' && item.from === me && item.msgId !== undefined && item.msgId <= (readByPeer.get(peer) ?? 0);
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
  if (own) element.dataset['read'] = String(isRead(item));
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
  const history = peer && me ? historyOf(peer) : undefined;
  const state = !history ? 'start' : history.loading ? 'loading' : history.atStart ? 'start' : 'more';
  ui.messages.dataset['history'] = state;
  ui.loadOlder.hidden = !history || state === 'start';
  ui.loadOlder.disabled = state === 'loading';
  ui.loadOlder.textContent = state === 'loading' ? 'Loading…' : 'Load older messages';
}

function render(): void {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const items = peer && me ? [...itemsOf(peer)].sort(compareItems) : [];
  list.replaceChildren(...items.map(renderItem));
  if (atBottom) list.scrollTop = list.scrollHeight;
  ui.conversation.textContent = !me
    ? 'Connect, then pick someone to chat with.'
    : peer
      ? `${me} ↔ ${peer}`
      : `Signed in as ${me}. Pick a conversation or enter who to chat with.`;
  ui.removeSession.hidden = !me || !peer || !sessions.has(peer);
  const canSend = client !== undefined;
  ui.input.disabled = !canSend;
  ui.send.disabled = !canSend;
  renderHistoryState();
}

function renderSessions(): void {
  const entries = [...sessions.values()].sort((a, b) => b.updatedTime - a.updatedTime || (a.sessionId < b.sessionId ? -1 : 1));
  ui.sessions.replaceChildren(
    ...entries.map((entry) => {
      const li = document.createElement('li');
      li.dataset['sessionId'] = entry.sessionId;
      li.dataset['unread'] = String(entry.unread);
      li.dataset['selected'] = String(entry.sessionId === peer);
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'session';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = entry.sessionId;
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = String(entry.unread);
      badge.hidden = entry.unread === 0;
      const preview = document.createElement('span');
      preview.className = 'preview';
      preview.textContent = entry.latestText === '' ? '' : `${entry.latestFrom === me ? 'you: ' : ''}${entry.latestText}`;
      button.append(name, badge, preview);
      button.addEventListener('click', () => selectPeer(entry.sessionId));
      li.append(button);
      return li;
    }),
  );
  ui.sessionsEmpty.hidden = entries.length > 0 || !me;
  const total = entries.reduce((sum, entry) => sum + entry.unread, 0);
  ui.unreadTotal.dataset['unread'] = String(total);
  ui.unreadTotal.textContent = String(total);
  ui.unreadTotal.hidden = total === 0;
  ui.removeSession.hidden = !me || !peer || !sessions.has(peer);
  document.title = total > 0 ? `(${total}) TeamTalk serverless · local chat` : 'TeamTalk serverless · local chat';
}

function showState(state: ConnectionState, detail?: string): void {
  const failed = state === 'closed' && detail !== undefined;
  ui.status.dataset['state'] = failed ? 'failed' : state;
  const label: Record<ConnectionState, string> = {
    connecting: 'connecting…',
    open: `online as ${me}`,
    reconnecting: 'reconnecting…',
    closed: me ? 'disconnected' : 'signed out',
  };
  ui.status.textContent = failed ? `disconnected: ${detail}` : label[state];
}

function showNotice(text: string, switchTo?: string): void {
  ui.notice.replaceChildren(text);
  if (switchTo) {
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = 'Open';
    open.addEventListener('click', () => selectPeer(switchTo));
    ui.notice.append(open);
  }
  ui.notice.hidden = false;
}

function setSignedIn(signedIn: boolean): void {
  ui.userId.disabled = signedIn;
  ui.login.hidden = signedIn;
  ui.logout.hidden = !signedIn;
  ui.notice.hidden = true;
}

function selectPeer(peerId: string): void {
  peer = peerId;
  ui.peerId.value = peerId;
  ui.notice.hidden = true;
  render();
  renderSessions();
  ui.messages.scrollTop = ui.messages.scrollHeight;
  if (peerId && client?.state === 'open') void openConversation(peerId);
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
  peer = USER_ID.test(ui.peerId.value.trim()) ? ui.peerId.value.trim() : '';
  void logIn(userId);
  render();
});

ui.logout.addEventListener('click', logOut);

ui.peerId.addEventListener('change', () => {
  const value = ui.peerId.value.trim();
  if (value === '' || USER_ID.test(value)) selectPeer(value);
});

ui.messages.addEventListener('scroll', () => {
  if (ui.messages.scrollTop < 24) void loadOlder();
});
ui.loadOlder.addEventListener('click', () => void loadOlder());
ui.removeSession.addEventListener('click', () => void removeCurrentSession());

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && peer) void markConversationRead(peer);
});
window.addEventListener('pagehide', saveSyncState);

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  // A peer typed but not yet committed (no change event) still counts.
  const typedPeer = ui.peerId.value.trim();
  if (typedPeer !== peer && USER_ID.test(typedPeer)) selectPeer(typedPeer);
  const text = ui.input.value;
  if (text.trim() === '') return;
  if (!peer) {
    showNotice('Enter who to chat with first.');
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
if (presetPeer) ui.peerId.value = presetPeer;
if (presetUser) {
  ui.userId.value = presetUser;
  ui.loginForm.requestSubmit();
}
render();
renderSessions();
