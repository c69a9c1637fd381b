/** A message as stored: numbered per conversation, stamped with server time, sender from the token. */
export { GROUP_MSG_TYPES, MsgType, SINGLE_MSG_TYPES, isGroupMsgType } from '../../protocol/frames.js';

export interface StoredMessage {
  readonly conversationId: string;
  /** 1, 2, 3, … per conversation, from its counter. */
  readonly msgId: number;
  readonly fromUserId: string;
  /** The receiver's user id (single chat) or the group id. */
  readonly toSessionId: string;
  readonly msgType: number;
  readonly msgData: string;
  /** Unix seconds, server time. */
  readonly createTime: number;
  readonly clientMsgId?: string;
  /** A tombstone (core/store/tombstones.ts): content and attachment erased, msg_id kept. */
  readonly deleted?: true;
  /** Recalled by its sender or the group's owner (core/store/message-edits.ts): `msgData` is empty. */
  readonly recalled?: true;
  /** Unix seconds of its last edit (core/store/message-edits.ts): `msgData` is the new text. */
  readonly editedAt?: number;
}

/** Messages each side of a single conversation has sent: on the head now, on each message row as of that message. */
export interface SideCounts {
  readonly sentLo: number;
  readonly sentHi: number;
}

/** A message row as read back, with the side counts as of that message (read marks derive from them). */
export type MessageRecord = StoredMessage & { readonly counts: SideCounts };
