/** A user's view of a conversation (TeamTalk IMRecentSession) and the conversation's head. */
import type { SideCounts } from './message.js';

export interface SessionRow {
  readonly userId: string;
  readonly sessionType: number;
  /** The other side: the peer's user id, or the group id. */
  readonly sessionId: string;
  readonly conversationId: string;
  readonly createdTime: number;
  /** Last msg_id the user marked read (0: none). */
  readonly readMsgId: number;
  /** The peer's sent count as of readMsgId: unread = the peer's sent count now − this. */
  readonly readPeerCount: number;
  /** remove_session: hidden while the conversation's last msg_id is at most this (0: never hidden). */
  readonly hiddenAtMsgId: number;
}

export interface ConversationHead extends SideCounts {
  readonly conversationId: string;
  /** The counter: the last msg_id taken (its message may still be in flight, or lost: a gap). */
  readonly lastMsgId: number;
  /** Unix seconds of the last message. */
  readonly updatedTime: number;
  /** The activity day the members' session index entries were last written for (0: never). */
  readonly indexedDay: number;
}

/**
 * Unread messages: in a single conversation the peer's sent count since the read mark; in a group (no peerSide)
 * TeamTalk's counter − member mark, the mark moving on the member's own sends too.
 */
export function unreadCount(
  session: SessionRow,
  head: ConversationHead | undefined,
  peerSide: 'lo' | 'hi' | undefined,
): number {
  if (!head) return 0;
  if (peerSide === undefined) return Math.max(0, head.lastMsgId - session.readMsgId);
  const peerSent = peerSide === 'lo' ? head.sentLo : head.sentHi;
  return Math.max(0, peerSent - session.readPeerCount);
}

export function isHidden(session: SessionRow, head: ConversationHead | undefined): boolean {
  return session.hiddenAtMsgId > 0 && (head?.lastMsgId ?? 0) <= session.hiddenAtMsgId;
}

/** A user's entry in the session index: the conversation was active on `day` (unix day). */
export interface SessionIndexEntry {
  readonly userId: string;
  readonly sessionType: number;
  readonly sessionId: string;
  readonly conversationId: string;
  readonly day: number;
}
