/**
 * A conversation as one typed value: a single chat with a peer, or a group. The wire names a conversation with two
 * fields (`session_id`, `session_type`) that must agree; the SDK takes one value instead, so a group cannot be
 * addressed as a user by leaving a field out.
 */
import {
  MsgType,
  SessionType,
  isGroupId,
  isGroupMsgType,
  isUserId,
  type MsgDataFrame,
  type SessionRef,
} from './frames.js';

/** A single chat with the user `id`, or the group `id`. Make one with {@link peer} or {@link group}. */
export interface Conversation {
  readonly type: 'peer' | 'group';
  readonly id: string;
}

/** The single chat with `userId` (1–128 characters of `A-Za-z0-9_.@-`, so never a group id). */
export function peer(userId: string): Conversation {
  if (!isUserId(userId))
    throw new TypeError(`peer: ${JSON.stringify(userId)} is not a user id (a group id? use group())`);
  return { type: 'peer', id: userId };
}

/** The group `groupId`, as `group_create` returned it (`g:` and 22 base64url characters, so never a user id). */
export function group(groupId: string): Conversation {
  if (!isGroupId(groupId))
    throw new TypeError(`group: ${JSON.stringify(groupId)} is not a group id (one group_create returned)`);
  return { type: 'group', id: groupId };
}

/** The wire's session type of a conversation: 1 single chat, 2 group. */
export function sessionTypeOf(conversation: Conversation): SessionType {
  return conversation.type === 'group' ? SessionType.Group : SessionType.Single;
}

/** The wire's `{ session_id, session_type }` of a conversation. */
export function sessionRefOf(conversation: Conversation): SessionRef {
  return { session_id: conversation.id, session_type: sessionTypeOf(conversation) };
}

/** The conversation a wire session names; undefined for a session type the SDK does not know. */
export function conversationOf(session: {
  readonly session_id: string;
  readonly session_type: number;
}): Conversation | undefined {
  if (session.session_type === SessionType.Single) return { type: 'peer', id: session.session_id };
  if (session.session_type === SessionType.Group) return { type: 'group', id: session.session_id };
  return undefined;
}

/** A conversation's key, `"<session_type>:<session_id>"`: the key of SyncState's maps. */
export function conversationKey(conversation: Conversation): string {
  return sessionKey(sessionTypeOf(conversation), conversation.id);
}

/** The key of a conversation from the user's view: `"1:alice"` (single chat with alice), `"2:g:…"` (a group). */
export function sessionKey(sessionType: number, sessionId: string): string {
  return `${sessionType}:${sessionId}`;
}

/** The inverse of {@link sessionKey}; undefined for a key it did not make. */
export function parseSessionKey(key: string): { sessionType: SessionType; sessionId: string } | undefined {
  const match = /^([12]):(.+)$/.exec(key);
  return match ? { sessionType: Number(match[1]) as SessionType, sessionId: match[2]! } : undefined;
}

/** The conversation a message belongs to from `userId`'s view: the group, or the peer (whichever side sent it). */
export function conversationOfMessage(
  frame: Pick<MsgDataFrame, 'from_user_id' | 'to_session_id' | 'msg_type'>,
  userId: string | undefined,
): Conversation {
  if (isGroupMsgType(frame.msg_type)) return { type: 'group', id: frame.to_session_id };
  return { type: 'peer', id: frame.from_user_id === userId ? frame.to_session_id : frame.from_user_id };
}

/** The msg_type of a message of `kind` in `conversation`. */
export function msgTypeOf(conversation: Conversation, kind: 'text' | 'audio' = 'text'): MsgType {
  if (conversation.type === 'group') return kind === 'audio' ? MsgType.GroupAudio : MsgType.GroupText;
  return kind === 'audio' ? MsgType.SingleAudio : MsgType.SingleText;
}
