/**
 * A user's sessions (TeamTalk CID_BUDDY_LIST_RECENT_CONTACT_SESSION, CID_MSG_UNREAD_CNT,
 * CID_BUDDY_LIST_REMOVE_SESSION). A session is the user's row joined with the conversation's head, where the
 * send path keeps the counter, the per-side sent counts and the time of the last message: no write per message on
 * session rows. Each call is one Query of the user's rows, one BatchGetItem of heads and one of latest messages.
 */
import { FrameError } from '../domain/frames.js';
import { SessionType, sideOf } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import { isHidden, unreadCount, type ConversationHead, type SessionRow } from '../domain/session.js';
import type { Clock, ConnectionStore, ConversationStore, Gateway, GroupStore, MessageStore, SessionStore } from '../ports.js';
import { resolveConversation } from './conversation-access.js';
import { notifyUsers } from './notify.js';

export interface SessionPorts {
  readonly sessions: SessionStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly groups: GroupStore;
}

/** Sessions per recent_sessions page (TeamTalk's cap, but with a next page). */
export const RECENT_SESSIONS_PAGE_SIZE = 100;

export interface ContactSession {
  session_id: string;
  session_type: number;
  updated_time: number;
  latest_msg_id: number;
  latest_msg_data: string;
  latest_msg_type: number;
  latest_msg_from_user_id: string;
  unread_cnt: number;
}

interface JoinedSession {
  readonly row: SessionRow;
  readonly head: ConversationHead;
}

async function joinedSessions(ports: SessionPorts, userId: string): Promise<JoinedSession[]> {
  const rows = await ports.sessions.listByUser(userId);
  const heads = await ports.conversations.getMany(rows.map((r) => r.conversationId));
  return rows.flatMap((row) => {
    const head = heads.get(row.conversationId);
    return head && head.lastMsgId > 0 ? [{ row, head }] : [];
  });
}

function unreadOf(userId: string, { row, head }: JoinedSession): number {
  return unreadCount(row, head, row.sessionType === SessionType.Group ? undefined : sideOf(row.sessionId, userId));
}

/**
 * The newest stored message of each conversation: one BatchGetItem at the counters, then a one-item Query for a
 * conversation whose counter points at a message not stored (in flight, or a send that failed after the counter).
 */
async function latestMessages(ports: SessionPorts, joined: readonly JoinedSession[]): Promise<Map<string, MessageRecord>> {
  const found = await ports.messages.getMany(joined.map(({ head }) => ({ conversationId: head.conversationId, msgId: head.lastMsgId })));
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
    unread_cnt: unreadOf(userId, joined),
  };
}

/** Position in the newest-first order: updated_time descending, then session key ascending. */
type Cursor = [updatedTime: number, sessionKey: string];

const keyOf = (row: SessionRow) => `${row.sessionType}#${row.sessionId}`;

function after(joined: JoinedSession, [time, key]: Cursor): boolean {
  return joined.head.updatedTime < time || (joined.head.updatedTime === time && keyOf(joined.row) > key);
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return value as Cursor;
    }
  } catch {
    // fall through
  }
  throw new FrameError('bad_request', 'page_token: not a token from a recent_sessions reply');
}

/** Sessions updated after latestUpdateTime (0: all), newest first, a page at a time; hidden sessions left out. */
export async function recentSessions(
  ports: SessionPorts,
  userId: string,
  request: { latest_update_time: number; page_token?: string | undefined },
): Promise<{ contact_session_list: ContactSession[]; next_page_token?: string }> {
  const cursor = request.page_token === undefined ? undefined : decodeCursor(request.page_token);
  const ordered = (await joinedSessions(ports, userId))
    .filter((j) => j.head.updatedTime > request.latest_update_time && !isHidden(j.row, j.head))
    .sort((a, b) => b.head.updatedTime - a.head.updatedTime || (keyOf(a.row) < keyOf(b.row) ? -1 : 1));
  const remaining = cursor ? ordered.filter((j) => after(j, cursor)) : ordered;
  const page = remaining.slice(0, RECENT_SESSIONS_PAGE_SIZE);
  const latest = await latestMessages(ports, page);
  const last = page.at(-1);
  return {
    contact_session_list: page.map((j) => contactSession(userId, j, latest.get(j.head.conversationId))),
    ...(remaining.length > page.length && last ? { next_page_token: encodeCursor([last.head.updatedTime, keyOf(last.row)]) } : {}),
  };
}

/** Total and per-session unread counts, each with the session's latest message. */
export async function unreadCounts(
  ports: SessionPorts,
  userId: string,
): Promise<{ total_cnt: number; unreadinfo_list: Omit<ContactSession, 'updated_time'>[] }> {
  const unread = (await joinedSessions(ports, userId)).filter((j) => unreadOf(userId, j) > 0);
  const latest = await latestMessages(ports, unread);
  const list = unread.map((j) => {
    const { updated_time: _updated, ...entry } = contactSession(userId, j, latest.get(j.head.conversationId));
    return entry;
  });
  return { total_cnt: list.reduce((sum, e) => sum + e.unread_cnt, 0), unreadinfo_list: list };
}

export interface RemoveSessionPorts extends SessionPorts {
  readonly connections: ConnectionStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
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
  const notice = { type: 'remove_session_notify', user_id: caller.userId, session_id: request.session_id, session_type: request.session_type };
  await notifyUsers(ports, [caller.userId], notice, caller.connectionId);
  return { session_id: request.session_id, session_type: request.session_type };
}
