/** Groups (TeamTalk IM.Group): a counter per group, members, an owner. */
import { randomUUID } from 'node:crypto';

export interface Group {
  readonly groupId: string;
  readonly groupName: string;
  readonly ownerId: string;
  readonly createdTime: number;
}

/** A new group id: server-made, in the user-id alphabet so it travels in session_id fields unchanged. */
export function newGroupId(): string {
  return `g-${randomUUID()}`;
}

/** The conversation of a group: its own msg_id counter (TeamTalk `group_msg_id_<groupId>`). */
export function groupConversationId(groupId: string): string {
  return `g#${groupId}`;
}
