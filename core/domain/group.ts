/** Groups (TeamTalk IM.Group): a counter per group, members, an owner. */
import { randomBytes } from 'node:crypto';

export interface Group {
  readonly groupId: string;
  readonly groupName: string;
  readonly ownerId: string;
  readonly createdTime: number;
}

/** A new group id: `g:` and 22 random base64url characters (GROUP_ID_PATTERN), never a valid user id. */
export function newGroupId(): string {
  return `g:${randomBytes(16).toString('base64url')}`;
}

/** The conversation of a group: its own msg_id counter (TeamTalk `group_msg_id_<groupId>`). */
export function groupConversationId(groupId: string): string {
  return `g#${groupId}`;
}
