/**
 * Drawing the page from its state (state.ts): the conversation's messages, the session list, the group panel, the
 * connection status, the notice line and the banner. Event handlers come in as parameters, so this module calls no
 * action itself.
 */
import { conversationKey, type ConnectionStatus, type Conversation } from 'teamtalk-serverless-client';
import { fillBody, previewOf } from './attachment-view.js';
import { ui } from './dom.js';
import { page, type ChatItem } from './state.js';

const TITLE = 'TeamTalk serverless · local chat';

function compareItems(a: ChatItem, b: ChatItem): number {
  // Stored messages in msg_id order (the relation's sequence), then those still sending or failed, as typed.
  if (a.msgId !== undefined && b.msgId !== undefined) return a.msgId - b.msgId || a.order - b.order;
  if (a.msgId !== undefined) return -1;
  if (b.msgId !== undefined) return 1;
  return a.order - b.order;
}

export function formatTime(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function stateLabel(item: ChatItem): string {
  switch (item.state) {
    case 'sending':
      return 'sending…';
    case 'stored':
      return page.isRead(item) ? `stored #${item.msgId ?? '?'} · read` : `stored #${item.msgId ?? '?'}`;
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
    fillBody(body, item.text);
    element.append(meta, body);
    item.element = element;
  }
  const own = item.from === page.me;
  const data = element.dataset;
  data['msgId'] = item.msgId === undefined ? '' : String(item.msgId);
  data['state'] = item.state;
  data['from'] = item.from;
  data['own'] = String(own);
  if (own && page.current?.type !== 'group') data['read'] = String(page.isRead(item));
  else delete data['read'];
  if (item.clientMsgId !== undefined) data['clientMsgId'] = item.clientMsgId;
  if (item.errorCode !== undefined) data['errorCode'] = item.errorCode;
  else delete data['errorCode'];
  const meta = element.firstElementChild as HTMLElement;
  meta.textContent = [own ? 'you' : item.from, formatTime(item.createTime), stateLabel(item)]
    .filter(Boolean)
    .join(' · ');
  return element;
}

/** Runs `change` (which re-renders the list) keeping the messages in view where they were: for prepended pages. */
export function keepScrollWhile(change: () => void): void {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const fromBottom = list.scrollHeight - list.scrollTop;
  change();
  list.scrollTop = atBottom ? list.scrollHeight : list.scrollHeight - fromBottom;
}

export function renderHistoryState(): void {
  const history = page.current && page.me ? page.historyOf(page.current) : undefined;
  const state = !history ? 'start' : history.loading ? 'loading' : history.atStart ? 'start' : 'more';
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
export function renderGroupPanel(onRemoveMember: (groupId: string, userId: string) => void): void {
  const conversation = page.current;
  if (!page.me || conversation?.type !== 'group') {
    ui.groupPanel.hidden = true;
    delete ui.groupPanel.dataset['groupId'];
    ui.groupMemberList.replaceChildren();
    ui.groupEvents.replaceChildren();
    return;
  }
  const view = page.groupOf(conversation.id);
  const owner = view.ownerId;
  const iOwn = owner === page.me;
  ui.groupPanel.hidden = false;
  ui.groupPanel.dataset['groupId'] = conversation.id;
  ui.groupPanel.dataset['owner'] = owner ?? '';
  const members = [...(view.members ?? [])].sort((a, b) =>
    a === owner ? -1 : b === owner ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  const onRemove = iOwn ? (userId: string) => onRemoveMember(conversation.id, userId) : undefined;
  ui.groupMemberList.replaceChildren(...members.map((userId) => memberItem(userId, owner, onRemove)));
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

function conversationHeading(current: Conversation | undefined): string {
  if (!page.me) return 'Connect, then pick someone to chat with.';
  if (!current) return `Signed in as ${page.me}. Pick a conversation, enter who to chat with, or create a group.`;
  if (current.type === 'peer') return `${page.me} ↔ ${current.id}`;
  const members = page.groups.get(current.id)?.members;
  return `${page.titleOf(current)} · group${members ? ` of ${members.length}` : ''}`;
}

/** The open conversation: its messages, heading, composer and group panel. */
export function renderConversation(onRemoveMember: (groupId: string, userId: string) => void): void {
  const list = ui.messages;
  const { current } = page;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const items = current && page.me ? [...page.itemsOf(current)].sort(compareItems) : [];
  list.replaceChildren(...items.map(renderItem));
  list.dataset['sessionType'] = current ? (current.type === 'group' ? '2' : '1') : '';
  if (atBottom) list.scrollTop = list.scrollHeight;
  ui.conversation.textContent = conversationHeading(current);
  ui.removeSession.hidden = !page.me || current?.type !== 'peer' || !page.sessionOf(current);
  const canSend = page.client !== undefined;
  ui.input.disabled = !canSend;
  ui.send.disabled = !canSend;
  ui.input.placeholder = current?.type === 'group' ? `Write to ${page.titleOf(current)}` : 'Write a message';
  renderHistoryState();
  renderGroupPanel(onRemoveMember);
}

function sessionItem(
  entry: ReturnType<typeof page.upsertSession>,
  onSelect: (conversation: Conversation) => void,
): HTMLLIElement {
  const { conversation } = entry;
  const li = document.createElement('li');
  li.dataset['sessionId'] = conversation.id;
  li.dataset['sessionType'] = conversation.type === 'group' ? '2' : '1';
  li.dataset['unread'] = String(entry.unread);
  li.dataset['selected'] = String(page.isOpen(conversation));
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'session';
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = page.titleOf(conversation);
  if (conversation.type === 'group') {
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
  const by =
    entry.latestFrom === page.me
      ? 'you: '
      : conversation.type === 'group' && entry.latestFrom !== ''
        ? `${entry.latestFrom}: `
        : '';
  preview.textContent = entry.latestText === '' ? '' : `${by}${previewOf(entry.latestText)}`;
  button.append(name, badge, preview);
  button.addEventListener('click', () => onSelect(conversation));
  li.append(button);
  return li;
}

/** The session list, newest first, with unread badges and the total in the heading and the tab title. */
export function renderSessions(onSelect: (conversation: Conversation) => void): void {
  const entries = [...page.sessions.values()].sort(
    (a, b) =>
      b.updatedTime - a.updatedTime || (conversationKey(a.conversation) < conversationKey(b.conversation) ? -1 : 1),
  );
  ui.sessions.replaceChildren(...entries.map((entry) => sessionItem(entry, onSelect)));
  ui.sessionsEmpty.hidden = entries.length > 0 || !page.me;
  const total = entries.reduce((sum, entry) => sum + entry.unread, 0);
  ui.unreadTotal.dataset['unread'] = String(total);
  ui.unreadTotal.textContent = String(total);
  ui.unreadTotal.hidden = total === 0;
  ui.removeSession.hidden = !page.me || page.current?.type !== 'peer' || !page.sessionOf(page.current);
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
export type BannerKind = 'too_many_connections' | 'token_expired' | 'rate_limited' | 'limit_exceeded';

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
  ui.groupForm.hidden = !signedIn;
  ui.notice.hidden = true;
}
