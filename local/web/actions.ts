/**
 * What the chat page does: sign in and out, open conversations, load older pages, mark what is shown read, send, and
 * manage groups — all through the ChatStore (client/store/), which keeps the messages, sessions, unread counts, read
 * receipts and groups and saves them in localStorage per user (a reloaded page starts from there). The page keeps
 * only which conversation is open and its banners; it redraws from the store's snapshot whenever it changes.
 */
import {
  AuthError,
  ChatClient,
  ChatServerError,
  ChatStore,
  conversationKey,
  type ChatSnapshot,
  type Conversation,
  type KickFrame,
} from 'teamtalk-serverless-client';
import { loadBlocks } from './blocks.js';
import { listenPresence, watchShownPeers } from './presence.js';
import { ui } from './dom.js';
import { enablePush } from './push.js';
import {
  currentState,
  describeChange,
  hideBanner,
  keepScrollWhile,
  renderConversation,
  renderSessions,
  setSignedIn,
  showBanner,
  showNotice,
  showStatus,
} from './render.js';
import { page } from './state.js';

/** Messages per history page: the newest page on open, then one per scroll to the top. */
export const HISTORY_PAGE = 30;

// -----------------------------------------------------------------------------------------------------------------
// Redrawing

const snapshot = (): ChatSnapshot | undefined => page.store?.getSnapshot();

export function redraw(): void {
  renderConversation(snapshot(), removeMember);
  watchShownPeers([]);
}

export function redrawSessions(): void {
  renderSessions(snapshot(), selectConversation);
}

/** The store changed: draw it, mark what the open conversation shows read, fill the view with older pages. */
function onStoreChange(store: ChatStore): void {
  if (store !== page.store) return;
  keepScrollWhile(redraw);
  redrawSessions();
  watchShownPeers((snapshot()?.sessions ?? []).filter((s) => s.sessionType !== 'group').map((s) => s.conversation.id));
  const state = currentState(snapshot());
  const session = page.current && snapshot()?.sessions.find((s) => s.key === conversationKey(page.current!));
  const newest = state?.messages.filter((m) => m.msgId !== undefined).at(-1)?.msgId ?? 0;
  if (page.current && ((session?.unreadCount ?? 0) > 0 || newest > (state?.readUpTo ?? 0))) readSoon();
  fillViewport();
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

/** localStorage, when the browser lets the page have it (not in some private modes). */
function storage(): Storage | undefined {
  try {
    return localStorage;
  } catch {
    return undefined;
  }
}

export async function logIn(userId: string): Promise<void> {
  logOut();
  page.me = userId;
  const chat = new ChatClient({
    url: webSocketUrl(),
    getToken: () => fetchToken(userId),
    requestTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 500, maxDelayMs: 10_000, maxAttempts: 20 },
    // A conversation this page holds nothing of gets its newest page from catch-up; older ones come with scroll-back.
    catchUp: { maxNewSessionMessages: HISTORY_PAGE },
  });
  const local = storage();
  const store = new ChatStore(chat, {
    pageSize: HISTORY_PAGE,
    ...(local ? { storage: local, storageKey: `teamtalk-chat:${userId}` } : {}),
  });
  page.store = store;
  store.subscribe(() => onStoreChange(store));
  listen(store);
  listenPresence(chat, () => {
    redraw();
    redrawSessions();
  });
  setSignedIn(true);
  try {
    await store.start();
    if (page.current && store === page.store) void openConversation(page.current);
    void enablePush(chat).catch(() => undefined);
    void loadBlocks(redraw).catch(report);
  } catch (error) {
    if (store === page.store) showStatus(chat.connection, error instanceof Error ? error.message : String(error));
  }
}

/** The client's events the page shows beside the store's state: status, kicks, rates, errors. */
function listen(store: ChatStore): void {
  const chat = store.client;
  const mine =
    <T>(handler: (payload: T) => void) =>
    (payload: T) => {
      if (store === page.store) handler(payload);
    };
  chat.on(
    'state',
    mine(() => showStatus(chat.connection)),
  );
  chat.on(
    'kick',
    mine((kick: KickFrame) => onKick(chat, kick)),
  );
  chat.on(
    'send_retry',
    mine((retry) => {
      if (retry.error.code === 'rate_limited')
        showBanner('rate_limited', 'Sending faster than the server allows: messages wait and go out in order.');
    }),
  );
  chat.on(
    'message',
    mine((message) => {
      if (message.own || message.source === 'history' || page.isOpen(message.conversation)) return;
      const title = store.getSnapshot().conversations[conversationKey(message.conversation)]?.title;
      const text =
        message.conversation.type === 'group'
          ? `New message in ${title ?? message.conversation.id} from ${message.from_user_id}`
          : `New message from ${message.from_user_id}`;
      showNotice(text, () => selectConversation(message.conversation));
    }),
  );
  chat.on(
    'group_change_member_notify',
    mine((frame) => {
      const me = page.me;
      const conversation: Conversation = { type: 'group', id: frame.group_id };
      const title = () => store.getSnapshot().groups[frame.group_id]?.name ?? frame.group_id;
      if (frame.change_type === 'del' && frame.user_ids.includes(me)) {
        if (page.isOpen(conversation)) closeConversation();
        showNotice(`You are no longer a member of ${title()}.`);
      } else if (frame.change_type === 'add' && frame.user_ids.includes(me)) {
        showNotice(`You were added to ${title()}.`, () => selectConversation(conversation));
      } else if (page.isOpen(conversation)) {
        showNotice(`${describeChange(frame.change_type, frame.user_ids)} ${title()}.`);
      }
    }),
  );
  chat.on(
    'remove_session_notify',
    mine((frame) => {
      if (frame.session_type === 1 && page.current?.type === 'peer' && page.current.id === frame.session_id)
        closeConversation();
    }),
  );
  chat.on(
    'error',
    mine((error: Error) => {
      if (chat.state === 'closed') showStatus(chat.connection, error.message);
      else if (error instanceof ChatServerError) report(error);
      else showNotice(error.message);
    }),
  );
}

function onKick(chat: ChatClient, kick: KickFrame): void {
  if (kick.reason === 'suspended') {
    showBanner('suspended', `${page.me} is suspended by an operator: this tab was disconnected.`);
  } else if (kick.reason === 'account_deleted') {
    showBanner('account_deleted', `The account ${page.me} was deleted.`);
  } else if (kick.reason === 'token_expired') {
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
  const store = page.store;
  if (store) {
    void store.save();
    store.dispose();
    store.client.close();
  }
  page.reset();
  setSignedIn(false);
  hideBanner();
  showStatus({ state: 'initialized' });
  redraw();
  redrawSessions();
}

/** The pagehide hook: what the store holds is saved before the page goes. */
export function saveNow(): void {
  void page.store?.save();
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

function closeConversation(): void {
  page.current = undefined;
  ui.peerId.value = '';
  redraw();
  redrawSessions();
}

/** Opens a conversation: its newest page once, a group's members, then marks it read. */
async function openConversation(conversation: Conversation): Promise<void> {
  const store = page.store;
  if (!store) return;
  if (conversation.type === 'group') void store.loadGroup(conversation.id).catch(() => undefined);
  try {
    await store.open(conversation);
  } catch {
    // A dropped connection: the next open loads again; live messages still arrive.
  }
  if (page.isOpen(conversation)) await markConversationRead(conversation);
}

/** Scroll-back: the page before the oldest message shown. */
export async function loadOlder(): Promise<void> {
  const conversation = page.current;
  if (!conversation || !page.store) return;
  await page.store.loadOlder(conversation).catch(() => undefined);
}

/** Loads older pages while the list does not fill its box (nothing to scroll yet). */
function fillViewport(): void {
  const list = ui.messages;
  const history = currentState(snapshot())?.history;
  if (history?.loadedNewest && history.hasMore && !history.loading && list.scrollHeight <= list.clientHeight)
    void loadOlder();
}

/** msg_read_ack of the conversation's newest message, when something in it is unread and the page is seen. */
export async function markConversationRead(conversation: Conversation): Promise<void> {
  const store = page.store;
  if (!store || store.client.state !== 'open' || document.visibilityState === 'hidden') return;
  try {
    await store.markRead(conversation);
  } catch (error) {
    if (error instanceof ChatServerError) report(error);
  }
}

/** One read ack for a burst of messages (a catch-up delivers many at once). */
let readTimer: ReturnType<typeof setTimeout> | undefined;
function readSoon(): void {
  readTimer ??= setTimeout(() => {
    readTimer = undefined;
    if (page.current) void markConversationRead(page.current);
  }, 50);
}

export async function removeCurrentSession(): Promise<void> {
  const conversation = page.current;
  if (!page.store || conversation?.type !== 'peer') return;
  try {
    await page.store.removeSession(conversation);
    closeConversation();
  } catch (error) {
    report(error);
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Messages

/** Sends a text to the open conversation: the store shows it at once as sending. */
export function sendMessage(text: string): void {
  if (!page.store || !page.current || text === '') return;
  page.store.send(page.current, text);
}

// -----------------------------------------------------------------------------------------------------------------
// Groups

export function parseUserIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((id) => id !== ''))];
}

export async function createGroup(name: string, memberIds: string[]): Promise<void> {
  const store = page.store;
  if (!store) return;
  ui.createGroup.disabled = true;
  try {
    const conversation = await store.createGroup(name, memberIds);
    if (store !== page.store) return;
    ui.groupName.value = '';
    ui.groupMembers.value = '';
    selectConversation(conversation);
  } catch (error) {
    report(error);
  } finally {
    ui.createGroup.disabled = false;
  }
}

export async function changeMembers(groupId: string, changeType: 'add' | 'del', memberIds: string[]): Promise<void> {
  if (!page.store || memberIds.length === 0) return;
  try {
    await page.store.changeGroupMembers(groupId, changeType, memberIds);
  } catch (error) {
    report(error);
  }
}

function removeMember(groupId: string, userId: string): void {
  void changeMembers(groupId, 'del', [userId]);
}

export async function leaveCurrentGroup(): Promise<void> {
  const store = page.store;
  const conversation = page.current;
  if (!store || conversation?.type !== 'group') return;
  const title = store.getSnapshot().groups[conversation.id]?.name ?? conversation.id;
  try {
    await store.leaveGroup(conversation.id);
    closeConversation();
    showNotice(`You left ${title}.`);
  } catch (error) {
    report(error);
  }
}
