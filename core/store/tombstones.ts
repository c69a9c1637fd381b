/**
 * Tombstones on the Messages table (PK conversation_id, SK msg_id). A removed message keeps its item, msg_id, sender,
 * type and time, so no one's numbering gains a gap; its `msg_data` becomes empty and `deleted` true (the attachment
 * it described is deleted from the bucket first, by the use-case). Every read path reads the same item
 * (core/store/messages.ts maps `deleted`), so history, sessions' latest message, redelivery and catch-up show the
 * tombstone. A tombstone write is one UpdateItem (write units of the item's old size, ≤ 5 for a 4 KB message).
 *
 * There is no index by sender: the deletion job reads each of the user's conversations whole (a Query of 100 items a
 * page, projected to what it needs) and tombstones the user's messages in it. An index would cost one more write unit
 * on every message ever sent, to save reads only when an account is deleted.
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MessageContent, TombstoneStore } from '../ports/accounts.js';
import { isConditionFailed } from './document-client.js';

const PROJECTION = 'msg_id, from_user_id, msg_data, deleted';

export class MessageTombstoneTable implements TombstoneStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(conversationId: string, msgId: number): Promise<MessageContent | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId, msg_id: msgId },
        ConsistentRead: true,
        ProjectionExpression: PROJECTION,
      }),
    );
    return result.Item ? toContent(result.Item) : undefined;
  }

  async tombstone(conversationId: string, msgId: number, fromUserId?: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { conversation_id: conversationId, msg_id: msgId },
          UpdateExpression: 'SET msg_data = :empty, deleted = :yes',
          ConditionExpression: `attribute_exists(msg_id) AND attribute_not_exists(deleted)${fromUserId === undefined ? '' : ' AND from_user_id = :from'}`,
          ExpressionAttributeValues: {
            ':empty': '',
            ':yes': true,
            ...(fromUserId === undefined ? {} : { ':from': fromUserId }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async sentBy(
    conversationId: string,
    fromUserId: string,
    afterMsgId: number,
    limit: number,
  ): Promise<{ messages: MessageContent[]; lastMsgId: number; more: boolean }> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'conversation_id = :c AND msg_id > :after',
        ExpressionAttributeValues: { ':c': conversationId, ':after': afterMsgId },
        ProjectionExpression: PROJECTION,
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    const read = (result.Items ?? []).map(toContent);
    return {
      messages: read.filter((m) => m.fromUserId === fromUserId && !m.deleted),
      lastMsgId: read.at(-1)?.msgId ?? afterMsgId,
      more: result.LastEvaluatedKey !== undefined,
    };
  }
}

function toContent(item: Record<string, unknown>): MessageContent {
  return {
    msgId: item['msg_id'] as number,
    fromUserId: item['from_user_id'] as string,
    msgData: (item['msg_data'] as string | undefined) ?? '',
    deleted: item['deleted'] === true,
  };
}
