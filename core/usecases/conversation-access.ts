/**
 * Which conversation a request's (session_type, session_id) names from the asking user's view, refusing sessions
 * the user is not part of. Identity is the caller's verified user id; the client only names the other side.
 */
import { FrameError } from '../errors.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, isGroupId, sideOf, singleConversationId } from '../domain/ids.js';
import type { GroupStore } from '../ports/stores.js';

export interface ConversationRef {
  readonly conversationId: string;
  readonly sessionType: number;
  /** The other side from the caller's view: the peer, or the group. */
  readonly sessionId: string;
  /** Side of the peer in a single conversation (whose sent count is the caller's unread); undefined for groups. */
  readonly peerSide?: 'lo' | 'hi';
}

/** A single conversation with another user; self is refused. */
export function singleConversation(userId: string, peerId: string): ConversationRef {
  if (peerId === userId || isGroupId(peerId))
    throw new FrameError('not_member', 'a single chat session is with another user');
  return {
    conversationId: singleConversationId(userId, peerId),
    sessionType: SessionType.Single,
    sessionId: peerId,
    peerSide: sideOf(peerId, userId),
  };
}

/** A group conversation, only for a member now (one strongly consistent GetItem): a removed member reads nothing. */
export async function groupConversation(groups: GroupStore, userId: string, groupId: string): Promise<ConversationRef> {
  if (!isGroupId(groupId) || !(await groups.isMember(groupId, userId)))
    throw new FrameError('not_member', `you are not a member of group ${groupId}`);
  return { conversationId: groupConversationId(groupId), sessionType: SessionType.Group, sessionId: groupId };
}

export async function resolveConversation(
  ports: { readonly groups: GroupStore },
  userId: string,
  sessionType: number,
  sessionId: string,
): Promise<ConversationRef> {
  return sessionType === SessionType.Group
    ? groupConversation(ports.groups, userId, sessionId)
    : singleConversation(userId, sessionId);
}
