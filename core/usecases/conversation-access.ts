/**
 * Which conversation a request's (session_type, session_id) names from the asking user's view, refusing sessions
 * the user is not part of. Identity is the caller's verified user id; the client only names the other side.
 */
import { FrameError } from '../domain/frames.js';
import { SessionType, sideOf, singleConversationId } from '../domain/ids.js';

export interface ConversationRef {
  readonly conversationId: string;
  readonly sessionType: number;
  /** The other side from the caller's view. */
  readonly sessionId: string;
  /** Side of the peer in a single conversation (whose sent count is the caller's unread). */
  readonly peerSide: 'lo' | 'hi';
}

export function resolveConversation(userId: string, sessionType: number, sessionId: string): ConversationRef {
  if (sessionType === SessionType.Group) {
    // No group exists until group chat lands, so the caller is a member of none.
    throw new FrameError('not_member', `you are not a member of group ${sessionId}`);
  }
  if (sessionId === userId) throw new FrameError('not_member', 'a single chat session is with another user');
  return { conversationId: singleConversationId(userId, sessionId), sessionType, sessionId, peerSide: sideOf(sessionId, userId) };
}
