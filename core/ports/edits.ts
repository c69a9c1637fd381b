/** What recall and edit (core/usecases/edits.ts) need of the Messages table (core/store/message-edits.ts). */

/** A stored message as recall and edit see it. */
export interface EditableMessage {
  readonly msgId: number;
  readonly fromUserId: string;
  readonly msgType: number;
  readonly msgData: string;
  /** Unix seconds. */
  readonly createTime: number;
  readonly deleted: boolean;
  readonly recalled: boolean;
  /** Unix seconds of the last edit; absent when never edited. */
  readonly editedAt?: number;
}

/** Who may recall: the sender of a message created at or after `createdSince` (unix seconds), or anyone (an owner). */
export type RecallRule =
  | { readonly kind: 'sender'; readonly senderId: string; readonly createdSince: number }
  | { readonly kind: 'owner' };

export interface MessageEditStore {
  /** One message, strongly consistent; undefined when none is stored under the msg_id. */
  read(conversationId: string, msgId: number): Promise<EditableMessage | undefined>;
  /**
   * Empties `msg_data`, sets `recalled` (and drops `edited_at`) if the rule holds and the message is neither a
   * tombstone nor recalled; false when the condition failed (nothing changed).
   */
  recall(conversationId: string, msgId: number, rule: RecallRule): Promise<boolean>;
  /**
   * Replaces the text of a text message (msg_type 1 or 17) `senderId` sent at or after `createdSince` and sets
   * `edited_at`, unless it is a tombstone or recalled; false when the condition failed (nothing changed).
   */
  edit(
    conversationId: string,
    msgId: number,
    change: {
      readonly senderId: string;
      readonly createdSince: number;
      readonly msgData: string;
      readonly editedAt: number;
    },
  ): Promise<boolean>;
}
