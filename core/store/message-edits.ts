/**
 * Recall and edit on the Messages table (PK conversation_id, SK msg_id): both change the message's own item, so every
 * read path that reads the item (history, msg_by_ids, sessions' latest message, redelivery, catch-up, the push sender's
 * re-read) shows the new state with no second copy to keep in step. A recall sets `recalled` and empties `msg_data`
 * (like a tombstone, which sets `deleted`); an edit replaces `msg_data` and sets `edited_at`. Each is one conditional
 * UpdateItem (write units of the item's larger size, ≤ 5 for a 4 KB message) whose condition repeats the rules the
 * use-case checked on its read (core/usecases/edits.ts): the sender and window, or nothing for a group owner's recall;
 * never on a tombstone or a recalled message. A race that breaks a rule between the read and the write fails the
 * condition instead of writing.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EditableMessage, MessageEditStore, RecallRule } from '../ports/edits.js';
import { isConditionFailed } from './document-client.js';

const PROJECTION = 'msg_id, from_user_id, msg_type, msg_data, create_time, deleted, recalled, edited_at';
const UNCHANGED = 'attribute_exists(msg_id) AND attribute_not_exists(deleted) AND attribute_not_exists(recalled)';

export class MessageEditTable implements MessageEditStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(conversationId: string, msgId: number): Promise<EditableMessage | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId, msg_id: msgId },
        ConsistentRead: true,
        ProjectionExpression: PROJECTION,
      }),
    );
    return result.Item ? toEditable(result.Item) : undefined;
  }

  async recall(conversationId: string, msgId: number, rule: RecallRule): Promise<boolean> {
    const bySender = rule.kind === 'sender';
    return this.conditionalUpdate({
      Key: { conversation_id: conversationId, msg_id: msgId },
      UpdateExpression: 'SET msg_data = :empty, recalled = :yes REMOVE edited_at',
      ConditionExpression: bySender ? `${UNCHANGED} AND from_user_id = :from AND create_time >= :since` : UNCHANGED,
      ExpressionAttributeValues: {
        ':empty': '',
        ':yes': true,
        ...(bySender ? { ':from': rule.senderId, ':since': rule.createdSince } : {}),
      },
    });
  }

  async edit(
    conversationId: string,
    msgId: number,
    change: { senderId: string; createdSince: number; msgData: string; editedAt: number },
  ): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { conversation_id: conversationId, msg_id: msgId },
      UpdateExpression: 'SET msg_data = :data, edited_at = :at',
      ConditionExpression: `${UNCHANGED} AND from_user_id = :from AND create_time >= :since AND msg_type IN (:t1, :t17)`,
      ExpressionAttributeValues: {
        ':data': change.msgData,
        ':at': change.editedAt,
        ':from': change.senderId,
        ':since': change.createdSince,
        ':t1': 1,
        ':t17': 17,
      },
    });
  }

  private async conditionalUpdate(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}

function toEditable(item: Record<string, unknown>): EditableMessage {
  return {
    msgId: item['msg_id'] as number,
    fromUserId: item['from_user_id'] as string,
    msgType: item['msg_type'] as number,
    msgData: (item['msg_data'] as string | undefined) ?? '',
    createTime: item['create_time'] as number,
    deleted: item['deleted'] === true,
    recalled: item['recalled'] === true,
    ...(typeof item['edited_at'] === 'number' ? { editedAt: item['edited_at'] } : {}),
  };
}
