/** Identifiers: user ids come from verified tokens; conversation ids are derived, never taken from a client. */

/** A user id: the token's `sub`, 1–128 characters of A-Za-z0-9_.@- (the contract). */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

/** TeamTalk SessionType. */
export const SessionType = { Single: 1, Group: 2 } as const;
export type SessionType = (typeof SessionType)[keyof typeof SessionType];

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
