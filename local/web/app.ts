/**
 * The local chat page: log in as a user (a dev token from GET /local/token?user_id=), chat with one peer, watch
 * messages arrive live. Built on the client SDK, bundled for the browser by build.ts.
 *
 * Stable hooks for browser tests: #user-id, #peer-id, #login, #logout, #status[data-state], #message-input, #send,
 * #messages > li[data-msg-id][data-state][data-client-msg-id][data-from][data-own][data-error-code], #notice.
 * `?user=alice&peer=bob` in the page URL fills the form and connects.
 */
import {
  AuthError,
  ChatClient,
  ChatServerError,
  SessionType,
  createClientMsgId,
  type ConnectionState,
  type ListedMessage,
  type MsgDataFrame,
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

const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;
const HISTORY_PAGE = 50;

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
  conversation: byId<HTMLElement>('conversation'),
  notice: byId<HTMLElement>('notice'),
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
  const chat = new ChatClient({
    url: webSocketUrl(),
    getToken: () => fetchToken(userId),
    requestTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 500, maxDelayMs: 10_000, maxAttempts: 20 },
  });
  client = chat;
  chat.on('state', (state) => {
    showState(state);
    if (state === 'open') void loadHistory(peer);
  });
  chat.on('message', onMessage);
  chat.on('error', (error) => {
    if (chat !== client) return;
    if (chat.state === 'closed') showState('closed', error.message);
    else showNotice(error instanceof ChatServerError ? `Server: ${error.code}` : error.message);
  });
  setSignedIn(true);
  try {
    await chat.connect();
  } catch (error) {
    showState('closed', error instanceof Error ? error.message : String(error));
  }
}

function logOut(): void {
  client?.close();
  client = undefined;
  me = '';
  conversations.clear();
  setSignedIn(false);
  showState('closed');
  render();
}

/** Loads the newest page of the conversation (to catch up after a reconnect); silent if the server lacks msg_list. */
async function loadHistory(peerId: string): Promise<void> {
  const chat = client;
  if (!chat || !peerId) return;
  try {
    const reply = await chat.request('msg_list', {
      session_id: peerId,
      session_type: SessionType.Single,
      msg_id_begin: 0,
      msg_cnt: HISTORY_PAGE,
    });
    if (chat !== client || !Array.isArray(reply.msg_list)) return;
    for (const message of reply.msg_list as ListedMessage[]) addStored(peerId, message);
    if (peerId === peer) render();
  } catch {
    // An older server without msg_list (unknown_action) or a dropped connection: live messages still arrive.
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

function onMessage(frame: MsgDataFrame): void {
  if (frame.msg_type !== 1 && frame.msg_type !== 2) return; // Group messages have no view on this page.
  // The conversation is the other side: the sender, or the receiver when another tab of mine sent it.
  const peerId = frame.from_user_id === me ? frame.to_session_id : frame.from_user_id;
  addStored(peerId, frame);
  if (peerId === peer) render();
  else showNotice(`New message from ${frame.from_user_id}`, peerId);
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

function stateLabel(item: ChatItem): string {
  switch (item.state) {
    case 'sending':
      return 'sending…';
    case 'stored':
      return `stored #${item.msgId ?? '?'}`;
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
  if (item.clientMsgId !== undefined) element.dataset['clientMsgId'] = item.clientMsgId;
  if (item.errorCode !== undefined) element.dataset['errorCode'] = item.errorCode;
  else delete element.dataset['errorCode'];
  const meta = element.firstElementChild as HTMLElement;
  meta.textContent = [own ? 'you' : item.from, formatTime(item.createTime), stateLabel(item)].filter(Boolean).join(' · ');
  return element;
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
      : `Signed in as ${me}. Enter who to chat with.`;
  const canSend = client !== undefined;
  ui.input.disabled = !canSend;
  ui.send.disabled = !canSend;
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
  if (client?.state === 'open') void loadHistory(peerId);
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
