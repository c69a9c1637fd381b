/** Identifiers: user ids come from verified tokens; conversation ids are derived, never taken from a client. */
export { GROUP_ID_PATTERN, USER_ID_PATTERN, isGroupId, isUserId } from '../../protocol/limits.js';
export { SessionType } from '../../protocol/frames.js';

/**
 * The conversation of a single chat: the unordered pair of users (TeamTalk's relation), so both directions share
 * one msg_id counter. `#` cannot occur in a user id, so the id is unambiguous.
 */
export function singleConversationId(userA: string, userB: string): string {
  const [lo, hi] = userA < userB ? [userA, userB] : [userB, userA];
  return `s#${lo}#${hi}`;
}

/** Which side of a single conversation a user is: the lower or the higher id. */
export function sideOf(userId: string, peerId: string): 'lo' | 'hi' {
  return userId < peerId ? 'lo' : 'hi';
}

/** The unix day of a unix-seconds time: the granularity of the session index. */
export function unixDay(timeSeconds: number): number {
  return Math.floor(timeSeconds / 86_400);
}
