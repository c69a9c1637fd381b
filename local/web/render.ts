/**
 * Drawing the page from the store's snapshot (client/store/) and the page state (state.ts): the conversation's
 * messages, the session list, the group panel, the connection status, the notice line and the banner. Event handlers
 * come in as parameters, so this module calls no action itself.
 */
import {
  conversationKey,
  type ChatMessage,
  type ChatSnapshot,
  type ConnectionStatus,
  type Conversation,
  type ConversationState,
  type SessionSummary,
} from 'teamtalk-serverless-client';
import { markBlockedSender, renderBlockControl } from './blocks.js';
import { presenceDot, renderHeaderPresence } from './presence.js';
import { markChanges } from './edits.js';
import { renderTyping } from './typing.js';
import { fillBody, previewOf } from './attachment-view.js';
import { ui } from './dom.js';
import { page } from './state.js';

const TITLE = 'TeamTalk serverless · local chat';

/** Each message's element, by its stable key (pending → stored keeps it), so a picture is not loaded twice. */
const elements = new Map<string, { element: HTMLLIElement; data: string }>();

export function formatTime(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** The page's item states: `sending`, `stored` (own), `received` (others'), `failed`. */
function itemState(message: ChatMessage): string {
  if (message.status === 'pending') return 'sending';
  if (message.status === 'failed') return 'failed';
  return message.fromMe ? 'stored' : 'received';
}

function stateLabel(message: ChatMessage, read: boolean): string {
  const upload = message.upload?.state === 'uploading' ? ` ${message.upload.loaded}/${message.upload.total} B` : '';
  switch (itemState(message)) {
    case 'sending':
      return `sending…${upload}`;
    case 'stored':
      return read ? `stored #${message.msgId} · read` : `stored #${message.msgId}`;
    case 'failed':
      return `failed: ${message.error?.code ?? 'unknown'}`;
    default:
      return `#${message.msgId}`;
  }
}

function renderItem(message: ChatMessage, conversation: ConversationState): HTMLLIElement {
  let cached = elements.get(message.key);
  if (!cached || cached.data !== message.data) {
    const element = cached?.element ?? document.createElement('li');
    const meta = document.createElement('span');
    meta.className = 'meta';
    const body = document.createElement('span');
    body.className = 'body';
    fillBody(body, message);
    element.replaceChildren(meta, body);
    cached = { element, data: message.data };
    elements.set(message.key, cached);
  }
  const { element } = cached;
  const read = conversation.sessionType === 'single' && message.fromMe && isReadByPeer(message, conversation);
  const data = element.dataset;
  data['msgId'] = message.msgId === undefined ? '' : String(message.msgId);
  data['state'] = itemState(message);
  data['from'] = message.fromUserId;
  data['own'] = String(message.fromMe);
  if (message.fromMe && conversation.sessionType === 'single') data['read'] = String(read);
  else delete data['read'];
  if (message.deleted) data['deleted'] = 'true';
  else delete data['deleted'];
  if (message.clientMsgId !== undefined) data['clientMsgId'] = message.clientMsgId;
  if (message.error !== undefined) data['errorCode'] = message.error.code;
  else delete data['errorCode'];
  markBlockedSender(element, message);
  const meta = element.firstElementChild as HTMLElement;
  meta.textContent = [
    message.fromMe ? 'you' : message.fromUserId,
    formatTime(message.createTime),
    stateLabel(message, read),
  ]
    .filter(Boolean)
    .join(' · ');
  markChanges(element, message);
  return element;
}

const isReadByPeer = (message: ChatMessage, conversation: ConversationState) =>
  message.status === 'stored' && message.msgId !== undefined && message.msgId <= conversation.peerReadUpTo;

/** Runs `change` (which re-renders the list) keeping the messages in view where they were: for prepended pages. */
export function keepScrollWhile(change: () => void): void {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const fromBottom = list.scrollHeight - list.scrollTop;
  change();
  list.scrollTop = atBottom ? list.scrollHeight : list.scrollHeight - fromBottom;
}

/** The open conversation's state in the snapshot, when signed in and it has one. */
export function currentState(snapshot: ChatSnapshot | undefined): ConversationState | undefined {
  return page.current && snapshot ? snapshot.conversations[conversationKey(page.current)] : undefined;
}

function renderHistoryState(conversation: ConversationState | undefined): void {
  const history = conversation?.history;
  const state = !history ? 'start' : history.loading ? 'loading' : history.hasMore ? 'more' : 'start';
  ui.messages.dataset['history'] = state;
  ui.loadOlder.hidden = !history || state === 'start';
  ui.loadOlder.disabled = state === 'loading';
  ui.loadOlder.textContent = state === 'loading' ? 'Loading…' : 'Load older messages';
}

export function describeChange(changeType: 'add' | 'del', userIds: readonly string[]): string {
  const who = userIds.map((u) => (u === page.me ? 'you' : u)).join(', ');
  return changeType === 'add' ? `${who} joined` : `${who} left`;
}

function memberItem(
  userId: string,
  owner: string | undefined,
  onRemove: ((userId: string) => void) | undefined,
): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset['userId'] = userId;
  li.dataset['owner'] = String(userId === owner);
  const name = document.createElement('span');
  name.textContent = userId === page.me ? `${userId} (you)` : userId;
  li.append(name);
  if (userId === owner) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = 'owner';
    li.append(tag);
  } else if (onRemove) {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-member';
    remove.title = `Remove ${userId} from the group`;
    remove.textContent = '×';
    remove.addEventListener('click', () => onRemove(userId));
    li.append(remove);
  }
  return li;
}

/** The open group's members (owner first), owner-only add and remove, leave, and the member changes seen. */
function renderGroupPanel(
  snapshot: ChatSnapshot | undefined,
  onRemoveMember: (groupId: string, userId: string) => void,
): void {
  const conversation = page.current;
  const view = conversation?.type === 'group' ? snapshot?.groups[conversation.id] : undefined;
  if (!page.me || conversation?.type !== 'group') {
    ui.groupPanel.hidden = true;
    delete ui.groupPanel.dataset['groupId'];
    ui.groupMemberList.replaceChildren();
    ui.groupEvents.replaceChildren();
    return;
  }
  const owner = view?.ownerId;
  const iOwn = owner === page.me;
  ui.groupPanel.hidden = false;
  ui.groupPanel.dataset['groupId'] = conversation.id;
  ui.groupPanel.dataset['owner'] = owner ?? '';
  const members = [...(view?.memberIds ?? [])].sort((a, b) =>
    a === owner ? -1 : b === owner ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  const onRemove = iOwn ? (userId: string) => onRemoveMember(conversation.id, userId) : undefined;
  ui.groupMemberList.replaceChildren(...members.map((userId) => memberItem(userId, owner, onRemove)));
  ui.groupAddForm.hidden = !iOwn;
  ui.leaveGroup.hidden = owner === undefined || iOwn; // The owner cannot leave.
  const changes = view?.changes ?? [];
  ui.groupEvents.replaceChildren(
    ...changes.map((event) => {
      const li = document.createElement('li');
      li.dataset['changeType'] = event.changeType;
      li.dataset['userIds'] = event.userIds.join(',');
      li.textContent = `${formatTime(event.time)} · ${describeChange(event.changeType, event.userIds)}`;
      return li;
    }),
  );
  ui.groupEvents.hidden = changes.length === 0;
}

function conversationHeading(snapshot: ChatSnapshot | undefined, state: ConversationState | undefined): string {
  const current = page.current;
  if (!page.me) return 'Connect, then pick someone to chat with.';
  if (!current) return `Signed in as ${page.me}. Pick a conversation, enter who to chat with, or create a group.`;
  if (current.type === 'peer') return `${page.me} ↔ ${current.id}`;
  const members = snapshot?.groups[current.id]?.memberIds;
  return `${state?.title ?? current.id} · group${members ? ` of ${members.length}` : ''}`;
}

/** The open conversation: its messages, heading, composer and group panel. */
export function renderConversation(
  snapshot: ChatSnapshot | undefined,
  onRemoveMember: (groupId: string, userId: string) => void,
): void {
  const list = ui.messages;
  const state = currentState(snapshot);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const items = state && page.me ? state.messages.map((message) => renderItem(message, state)) : [];
  list.replaceChildren(...items);
  list.dataset['sessionType'] = page.current ? (page.current.type === 'group' ? '2' : '1') : '';
  if (atBottom) list.scrollTop = list.scrollHeight;
  ui.conversation.textContent = conversationHeading(snapshot, state);
  ui.removeSession.hidden = !page.me || page.current?.type !== 'peer' || !sessionOf(snapshot, page.current);
  renderBlockControl();
  renderHeaderPresence();
  renderTyping(snapshot);
  const canSend = page.store !== undefined;
  ui.input.disabled = !canSend;
  ui.send.disabled = !canSend;
  ui.input.placeholder =
    page.current?.type === 'group' ? `Write to ${state?.title ?? page.current.id}` : 'Write a message';
  renderHistoryState(state);
  renderGroupPanel(snapshot, onRemoveMember);
}

function sessionOf(snapshot: ChatSnapshot | undefined, conversation: Conversation): SessionSummary | undefined {
  const key = conversationKey(conversation);
  return snapshot?.sessions.find((session) => session.key === key);
}

function sessionItem(session: SessionSummary, onSelect: (conversation: Conversation) => void): HTMLLIElement {
  const { conversation } = session;
  const li = document.createElement('li');
  li.dataset['sessionId'] = conversation.id;
  li.dataset['sessionType'] = session.sessionType === 'group' ? '2' : '1';
  li.dataset['unread'] = String(session.unreadCount);
  li.dataset['selected'] = String(page.isOpen(conversation));
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'session';
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = session.title;
  if (session.sessionType !== 'group') name.prepend(presenceDot(conversation.id), ' ');
  if (session.sessionType === 'group') {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = 'group';
    name.append(' ', tag);
  }
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.textContent = String(session.unreadCount);
  badge.hidden = session.unreadCount === 0;
  const preview = document.createElement('span');
  preview.className = 'preview';
  const latest = session.latestMessage;
  const by = latest?.fromMe ? 'you: ' : session.sessionType === 'group' && latest ? `${latest.fromUserId}: ` : '';
  preview.textContent = latest ? `${by}${previewOf(latest)}` : '';
  button.append(name, badge, preview);
  button.addEventListener('click', () => onSelect(conversation));
  li.append(button);
  return li;
}

/** The session list, newest first, with unread badges and the total in the heading and the tab title. */
export function renderSessions(
  snapshot: ChatSnapshot | undefined,
  onSelect: (conversation: Conversation) => void,
): void {
  const sessions = page.me && snapshot ? snapshot.sessions : [];
  ui.sessions.replaceChildren(...sessions.map((session) => sessionItem(session, onSelect)));
  ui.sessionsEmpty.hidden = sessions.length > 0 || !page.me;
  const total = page.me && snapshot ? snapshot.unreadTotal : 0;
  ui.unreadTotal.dataset['unread'] = String(total);
  ui.unreadTotal.textContent = String(total);
  ui.unreadTotal.hidden = total === 0;
  document.title = total > 0 ? `(${total}) ${TITLE}` : TITLE;
}

/** The status pill: the connection state, when the next attempt starts, why it closed. */
export function showStatus(status: ConnectionStatus, detail?: string): void {
  const failed =
    status.state === 'closed' &&
    (detail !== undefined || (status.reason !== undefined && status.reason !== 'closed_by_client'));
  ui.status.dataset['state'] = failed ? 'failed' : status.state;
  const retryIn =
    status.nextAttemptAt === undefined ? 0 : Math.max(0, Math.round((status.nextAttemptAt - Date.now()) / 1000));
  const labels: Record<ConnectionStatus['state'], string> = {
    initialized: 'signed out',
    connecting: 'connecting…',
    open: `online as ${page.me}`,
    reconnecting: retryIn > 0 ? `reconnecting in ${retryIn} s…` : 'reconnecting…',
    suspended: retryIn > 0 ? `offline, retrying in ${retryIn} s` : 'offline, retrying…',
    closed: page.me ? 'disconnected' : 'signed out',
  };
  const why = detail ?? status.errorReason?.message ?? status.reason;
  ui.status.textContent = failed ? `disconnected: ${why}` : labels[status.state];
}

/** The notice line, with an "Open" button when it is about another conversation. */
export function showNotice(text: string, open?: () => void): void {
  ui.notice.replaceChildren(text);
  if (open) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Open';
    button.addEventListener('click', open);
    ui.notice.append(button);
  }
  ui.notice.hidden = false;
}

/** What the banner reports: the server ended the connection (kick), or refused for a rate or a cap. */
export type BannerKind =
  | 'too_many_connections'
  | 'token_expired'
  | 'suspended'
  | 'account_deleted'
  | 'rate_limited'
  | 'limit_exceeded';

/** The banner above the page: `#banner[data-kind]`, with an action button when there is something to do. */
export function showBanner(
  kind: BannerKind,
  text: string,
  action?: { readonly label: string; readonly run: () => void },
): void {
  ui.banner.dataset['kind'] = kind;
  const message = document.createElement('span');
  message.textContent = text;
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'dismiss';
  dismiss.title = 'Dismiss';
  dismiss.textContent = '×';
  dismiss.addEventListener('click', hideBanner);
  const buttons: HTMLButtonElement[] = [];
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = action.label;
    button.addEventListener('click', () => {
      hideBanner();
      action.run();
    });
    buttons.push(button);
  }
  ui.banner.replaceChildren(message, ...buttons, dismiss);
  ui.banner.hidden = false;
}

export function hideBanner(): void {
  ui.banner.hidden = true;
  delete ui.banner.dataset['kind'];
  ui.banner.replaceChildren();
}

export function setSignedIn(signedIn: boolean): void {
  ui.userId.disabled = signedIn;
  ui.login.hidden = signedIn;
  ui.logout.hidden = !signedIn;
  ui.deleteAccount.hidden = !signedIn;
  ui.groupForm.hidden = !signedIn;
  ui.notice.hidden = true;
}
