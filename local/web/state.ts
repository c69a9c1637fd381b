/**
 * Everything the chat page knows, in one object: the signed-in user and their client, the open conversation, each
 * conversation's messages and history paging, the session list, the groups and the read marks. Actions change it;
 * render functions read it. Nothing here touches the DOM or the network.
 */
import { conversationKey, type ChatClient, type Conversation } from 'teamtalk-serverless-client';

/** `sending` → `stored` (acked, has msg_id) or `failed` (error code); `received` for others' messages. */
export type ItemState = 'sending' | 'stored' | 'failed' | 'received';

export interface ChatItem {
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

/** A session in the list. */
export interface SessionEntry {
  readonly conversation: Conversation;
  unread: number;
  latestMsgId: number;
  latestText: string;
  latestFrom: string;
  updatedTime: number;
}

/** What the page knows of a group. */
export interface GroupView {
  name: string | undefined;
  ownerId: string | undefined;
  members: string[] | undefined;
  /** When this page last learned first-hand that the user is a member (performance.now()): newer than a list. */
  seenAt: number;
  /** Member changes seen on this page, newest last. */
  readonly events: { readonly changeType: 'add' | 'del'; readonly userIds: readonly string[]; readonly time: number }[];
}

/** How much of a conversation's history is loaded. */
export interface HistoryState {
  /** Lowest msg_id loaded from history. */
  oldest: number | undefined;
  /** The newest page was loaded. */
  loadedNewest: boolean;
  /** Nothing older exists (`has_more: false`). */
  atStart: boolean;
  loading: boolean;
}

export const MAX_GROUP_EVENTS = 20;

export class PageState {
  client: ChatClient | undefined;
  /** The signed-in user; '' when signed out. */
  me = '';
  /** The open conversation. */
  current: Conversation | undefined;
  /** Per conversation key: its items, each message once (by msg_id when known, else by client_msg_id). */
  readonly conversations = new Map<string, ChatItem[]>();
  readonly sessions = new Map<string, SessionEntry>();
  readonly histories = new Map<string, HistoryState>();
  readonly groups = new Map<string, GroupView>();
  /** Per peer: the highest msg_id the peer has read (from msg_read_receipt). */
  readonly readByPeer = new Map<string, number>();
  /** Per conversation key: the highest msg_id this user marked read (sent, or told by msg_read_notify). */
  readonly readMarks = new Map<string, number>();
  #arrival = 0;

  /** Forgets everything of the signed-in user (the client is closed by the caller). */
  reset(): void {
    this.client = undefined;
    this.me = '';
    for (const map of [this.conversations, this.sessions, this.histories, this.groups, this.readByPeer, this.readMarks])
      map.clear();
  }

  isOpen(conversation: Conversation): boolean {
    return this.current !== undefined && conversationKey(this.current) === conversationKey(conversation);
  }

  itemsOf(conversation: Conversation): ChatItem[] {
    const key = conversationKey(conversation);
    let items = this.conversations.get(key);
    if (!items) {
      items = [];
      this.conversations.set(key, items);
    }
    return items;
  }

  newItem(fields: Pick<ChatItem, 'clientMsgId' | 'msgId' | 'from' | 'text' | 'createTime' | 'state'>): ChatItem {
    return { ...fields, errorCode: undefined, order: this.#arrival++, element: undefined };
  }

  historyOf(conversation: Conversation): HistoryState {
    const key = conversationKey(conversation);
    let history = this.histories.get(key);
    if (!history) {
      history = { oldest: undefined, loadedNewest: false, atStart: false, loading: false };
      this.histories.set(key, history);
    }
    return history;
  }

  groupOf(groupId: string): GroupView {
    let view = this.groups.get(groupId);
    if (!view) {
      view = { name: undefined, ownerId: undefined, members: undefined, seenAt: 0, events: [] };
      this.groups.set(groupId, view);
    }
    return view;
  }

  upsertSession(conversation: Conversation): SessionEntry {
    const key = conversationKey(conversation);
    let entry = this.sessions.get(key);
    if (!entry) {
      entry = { conversation, unread: 0, latestMsgId: 0, latestText: '', latestFrom: '', updatedTime: 0 };
      this.sessions.set(key, entry);
    }
    return entry;
  }

  sessionOf(conversation: Conversation): SessionEntry | undefined {
    return this.sessions.get(conversationKey(conversation));
  }

  /** A conversation's name in the list and the header: the peer, or the group's name (its id until known). */
  titleOf(conversation: Conversation): string {
    return conversation.type === 'group'
      ? (this.groups.get(conversation.id)?.name ?? conversation.id)
      : conversation.id;
  }

  /** Records a conversation's newest message on its session entry; true when it is newer than what the entry had. */
  noteLatest(conversation: Conversation, msgId: number, from: string, text: string, time: number): boolean {
    const entry = this.upsertSession(conversation);
    entry.updatedTime = Math.max(entry.updatedTime, time);
    if (msgId <= entry.latestMsgId) return false;
    entry.latestMsgId = msgId;
    entry.latestFrom = from;
    entry.latestText = text;
    return true;
  }

  noteGroupEvent(view: GroupView, changeType: 'add' | 'del', userIds: readonly string[]): void {
    view.events.push({ changeType, userIds, time: Math.floor(Date.now() / 1000) });
    if (view.events.length > MAX_GROUP_EVENTS) view.events.splice(0, view.events.length - MAX_GROUP_EVENTS);
  }

  /** Takes a conversation off the list (and closes it when open); `left` also forgets what the page held of a group. */
  forgetSession(conversation: Conversation, options: { left?: boolean } = {}): void {
    const key = conversationKey(conversation);
    this.sessions.delete(key);
    if (options.left) {
      this.conversations.delete(key);
      this.histories.delete(key);
      this.groups.delete(conversation.id);
    }
    if (this.isOpen(conversation)) this.current = undefined;
  }

  /** Adds a stored message (live or from history) unless the conversation already has it. */
  addStored(
    conversation: Conversation,
    message: { msg_id: number; from_user_id: string; create_time: number; msg_data: string; client_msg_id?: string },
  ): void {
    const items = this.itemsOf(conversation);
    const known = items.some(
      (item) =>
        item.msgId === message.msg_id ||
        (message.client_msg_id !== undefined && item.clientMsgId === message.client_msg_id),
    );
    if (known) return;
    const state = message.from_user_id === this.me ? 'stored' : 'received';
    items.push(
      this.newItem({
        clientMsgId: message.client_msg_id,
        msgId: message.msg_id,
        from: message.from_user_id,
        text: message.msg_data,
        createTime: message.create_time,
        state,
      }),
    );
  }

  /** A message of mine the peer has read (single chat only: groups have no read receipts). */
  isRead(item: ChatItem): boolean {
    const current = this.current;
    if (!current || current.type === 'group') return false;
    return (
      item.state === 'stored' &&
      item.from === this.me &&
      item.msgId !== undefined &&
      item.msgId <= (this.readByPeer.get(current.id) ?? 0)
    );
  }
}

/** The page's one state. */
export const page = new PageState();
