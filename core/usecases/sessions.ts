/**
 * A user's sessions (TeamTalk CID_BUDDY_LIST_RECENT_CONTACT_SESSION, CID_MSG_UNREAD_CNT,
 * CID_BUDDY_LIST_REMOVE_SESSION). A session is the user's row joined with the conversation's head, where the send
 * path keeps the counter, the per-side sent counts and the time of the last message. The user's session index (one
 * entry per session under the day it was last active, core/store/sessions.ts) gives the sessions newest day first, so
 * a page reads the entries of its days, then the rows, heads and latest messages of about a page of sessions:
 * the work per request does not grow with the sessions a user has accumulated.
 */
import { FrameError } from '../errors.js';
import { SessionType, sideOf, unixDay } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import { fitItems } from '../domain/reply-size.js';
import {
  isHidden,
  unreadCount,
  type ConversationHead,
  type SessionRow,
  type SessionIndexEntry,
} from '../domain/session.js';
import type { ConversationStore, GroupStore, MessageStore, PresenceStore, SessionStore } from '../ports/stores.js';
import type { Gateway } from '../ports/gateway.js';
import { resolveConversation } from './conversation-access.js';
import { notifyUsers } from './notify.js';
import { decodePageToken, encodePageToken } from '../domain/page-token.js';

export interface SessionPorts {
  readonly sessions: SessionStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly groups: GroupStore;
}

/** Sessions per recent_sessions page (TeamTalk's cap, but with a next page), and sessions scanned per unread_cnt page. */
export const SESSIONS_PAGE_SIZE = 100;

export interface ContactSession {
  session_id: string;
  session_type: number;
  updated_time: number;
  latest_msg_id: number;
  latest_msg_data: string;
  latest_msg_type: number;
  latest_msg_from_user_id: string;
  latest_msg_deleted?: true;
  latest_msg_recalled?: true;
  latest_msg_edited_at?: number;
  unread_cnt: number;
}

interface JoinedSession {
  readonly entry: SessionIndexEntry;
  readonly row: SessionRow;
  readonly head: ConversationHead;
}

/** Position in the newest-first order (updated_time descending, then session key) and the index day it was on. */
interface Cursor {
  readonly time: number;
  readonly key: string;
  readonly day: number;
}

const keyOf = (s: { sessionType: number; sessionId: string }) => `${s.sessionType}#${s.sessionId}`;

/**
 * The sessions of the index days from `cursor`'s day (or the newest) down to the day of `updatedAfter`, whole days
 * until at least a page: joined with their rows and heads, updated after `updatedAfter`, newest first, and after the
 * cursor. `more` when older days remain unread.
 */
async function sessionsFromIndex(
  ports: Pick<SessionPorts, 'sessions' | 'conversations'>,
  userId: string,
  options: { updatedAfter: number; cursor: Cursor | undefined },
): Promise<{ sessions: JoinedSession[]; more: boolean }> {
  const { entries, more } = await ports.sessions.listIndex(userId, {
    fromDay: unixDay(options.updatedAfter),
    ...(options.cursor ? { toDay: options.cursor.day } : {}),
    limit: SESSIONS_PAGE_SIZE,
  });
  const newest = new Map<string, SessionIndexEntry>();
  for (const entry of entries) if (!newest.has(keyOf(entry))) newest.set(keyOf(entry), entry);
  const [rows, heads] = await Promise.all([
    ports.sessions.getMany([...newest.values()]),
    ports.conversations.getMany([...newest.values()].map((e) => e.conversationId)),
  ]);
  const rowByKey = new Map(rows.map((r) => [keyOf(r), r]));
  const sessions = [...newest.values()].flatMap((entry): JoinedSession[] => {
    const row = rowByKey.get(keyOf(entry));
    const head = heads.get(entry.conversationId);
    // No row: the user left the group. An entry a day older than its head's last message is the one being replaced.
    if (
      !row ||
      !head ||
      head.lastMsgId === 0 ||
      head.updatedTime <= options.updatedAfter ||
      entry.day < unixDay(head.updatedTime) - 1
    )
      return [];
    return [{ entry, row, head }];
  });
  const ordered = sessions.sort(
    (a, b) => b.head.updatedTime - a.head.updatedTime || (keyOf(a.row) < keyOf(b.row) ? -1 : 1),
  );
  const cursor = options.cursor;
  return { sessions: cursor ? ordered.filter((s) => after(s, cursor)) : ordered, more };
}

function after(s: JoinedSession, cursor: Cursor): boolean {
  return s.head.updatedTime < cursor.time || (s.head.updatedTime === cursor.time && keyOf(s.row) > cursor.key);
}

function cursorOf(s: JoinedSession): Cursor {
  return { time: s.head.updatedTime, key: keyOf(s.row), day: s.entry.day };
}

function decodeCursor(token: string | undefined, action: string): Cursor | undefined {
  if (token === undefined) return undefined;
  const value = decodePageToken(token, action);
  if (typeof value === 'object' && value !== null) {
    const { time, key, day } = value as Record<string, unknown>;
    if (Number.isSafeInteger(time) && typeof key === 'string' && Number.isSafeInteger(day))
      return { time: time as number, key, day: day as number };
  }
  throw new FrameError('bad_request', `page_token: not a token from a ${action} reply`);
}

function unreadOf(userId: string, { row, head }: JoinedSession): number {
  return unreadCount(row, head, row.sessionType === SessionType.Group ? undefined : sideOf(row.sessionId, userId));
}

/**
 * The newest stored message of each conversation: one BatchGetItem at the counters, then a one-item Query for a
 * conversation whose counter points at a message not stored (in flight, or a send that failed after the counter).
 */
async function latestMessages(
  ports: SessionPorts,
  joined: readonly JoinedSession[],
): Promise<Map<string, MessageRecord>> {
  const found = await ports.messages.getMany(
    joined.map(({ head }) => ({ conversationId: head.conversationId, msgId: head.lastMsgId })),
  );
  const latest = new Map(found.map((m) => [m.conversationId, m]));
  await Promise.all(
    joined
      .filter(({ head }) => !latest.has(head.conversationId))
      .map(async ({ head }) => {
        const [message] = await ports.messages.listBefore(head.conversationId, head.lastMsgId, 1);
        if (message) latest.set(head.conversationId, message);
      }),
  );
  return latest;
}

function contactSession(userId: string, joined: JoinedSession, latest: MessageRecord | undefined): ContactSession {
  return {
    session_id: joined.row.sessionId,
    session_type: joined.row.sessionType,
    updated_time: joined.head.updatedTime,
    latest_msg_id: latest?.msgId ?? 0,
    latest_msg_data: latest?.msgData ?? '',
    latest_msg_type: latest?.msgType ?? 0,
    latest_msg_from_user_id: latest?.fromUserId ?? '',
    ...(latest?.deleted ? { latest_msg_deleted: true as const } : {}),
    ...(latest?.recalled ? { latest_msg_recalled: true as const } : {}),
    ...(latest?.editedAt === undefined ? {} : { latest_msg_edited_at: latest.editedAt }),
    unread_cnt: unreadOf(userId, joined),
  };
}

/**
 * Sessions updated after latest_update_time (0: all), newest first, a page at a time (100 sessions, fewer when they
 * would not fit in one frame); hidden sessions left out.
 */
export async function recentSessions(
  ports: SessionPorts,
  userId: string,
  request: { latest_update_time: number; page_token?: string | undefined },
): Promise<{ contact_session_list: ContactSession[]; next_page_token?: string }> {
  const cursor = decodeCursor(request.page_token, 'recent_sessions');
  const { sessions, more } = await sessionsFromIndex(ports, userId, {
    updatedAfter: request.latest_update_time,
    cursor,
  });
  const visible = sessions.filter((j) => !isHidden(j.row, j.head));
  const page = visible.slice(0, SESSIONS_PAGE_SIZE);
  const latest = await latestMessages(ports, page);
  const { fitted } = fitItems(page.map((j) => contactSession(userId, j, latest.get(j.head.conversationId))));
  const last = page[fitted.length - 1];
  return {
    contact_session_list: fitted,
    ...((more || visible.length > fitted.length) && last
      ? { next_page_token: encodePageToken('recent_sessions', cursorOf(last)) }
      : {}),
  };
}

/**
 * Unread counts, a page of sessions at a time (newest first, at most 100 sessions looked at): the sessions of the page
 * with unread messages, each with its latest message; `total_cnt` sums this page.
 */
export async function unreadCounts(
  ports: SessionPorts,
  userId: string,
  request: { page_token?: string | undefined } = {},
): Promise<{ total_cnt: number; unreadinfo_list: Omit<ContactSession, 'updated_time'>[]; next_page_token?: string }> {
  const cursor = decodeCursor(request.page_token, 'unread_cnt');
  const { sessions, more } = await sessionsFromIndex(ports, userId, { updatedAfter: 0, cursor });
  const scanned = sessions.slice(0, SESSIONS_PAGE_SIZE);
  const unread = scanned.filter((j) => unreadOf(userId, j) > 0);
  const latest = await latestMessages(ports, unread);
  const entries = unread.map((j) => {
    const { updated_time: _updated, ...entry } = contactSession(userId, j, latest.get(j.head.conversationId));
    return { joined: j, entry };
  });
  const { fitted } = fitItems(entries.map((e) => e.entry));
  // The page ends at the last session listed, or at the last one scanned when every unread one fitted.
  const end = fitted.length < entries.length ? entries[fitted.length - 1]?.joined : scanned.at(-1);
  const hasMore = more || fitted.length < entries.length || sessions.length > scanned.length;
  return {
    total_cnt: fitted.reduce((sum, e) => sum + e.unread_cnt, 0),
    unreadinfo_list: fitted,
    ...(hasMore && end ? { next_page_token: encodePageToken('unread_cnt', cursorOf(end)) } : {}),
  };
}

/**
 * The user's total unread count over its newest page of sessions (at most SESSIONS_PAGE_SIZE, a few reads): a push's
 * badge at a bounded cost. A user with unread messages in more sessions than that sees the count of the newest.
 */
export async function unreadTotal(
  ports: Pick<SessionPorts, 'sessions' | 'conversations'>,
  userId: string,
): Promise<number> {
  const { sessions } = await sessionsFromIndex(ports, userId, { updatedAfter: 0, cursor: undefined });
  return sessions.slice(0, SESSIONS_PAGE_SIZE).reduce((sum, joined) => sum + unreadOf(userId, joined), 0);
}

export interface RemoveSessionPorts extends SessionPorts {
  readonly presence: PresenceStore;
  readonly gateway: Gateway;
  readonly config: { readonly fanoutConcurrency: number };
}

/** Hides a session from recent_sessions until its next message, and tells the user's other connections. */
export async function removeSession(
  ports: RemoveSessionPorts,
  caller: { userId: string; connectionId: string },
  request: { session_id: string; session_type: number },
): Promise<{ session_id: string; session_type: number }> {
  const conversation = await resolveConversation(ports, caller.userId, request.session_type, request.session_id);
  const row = await ports.sessions.get(caller.userId, conversation.sessionType, conversation.sessionId);
  if (!row) throw new FrameError('not_member', `you have no session with ${request.session_id}`);
  const head = await ports.conversations.get(conversation.conversationId);
  await ports.sessions.hide(row, head?.lastMsgId ?? 0);
  const notice = {
    type: 'remove_session_notify',
    user_id: caller.userId,
    session_id: request.session_id,
    session_type: request.session_type,
  };
  await notifyUsers(ports, [caller.userId], notice, caller.connectionId);
  return { session_id: request.session_id, session_type: request.session_type };
}
