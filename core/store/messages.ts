/** Messages table: every stored message (PK conversation_id, SK msg_id). */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MessageAlreadyStoredError, type MessageRecord, type StoredMessage } from '../domain/message.js';
import type { MessageStore } from '../ports.js';
import { batchGetAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

export class MessageTable implements MessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Days a message is kept (TTL); 0 keeps it for ever. */
    private readonly retentionDays = 0,
  ) {}

  async put(message: StoredMessage, counts: { sentLo: number; sentHi: number }): Promise<'stored' | 'duplicate'> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            conversation_id: message.conversationId,
            msg_id: message.msgId,
            from_user_id: message.fromUserId,
            to_session_id: message.toSessionId,
            msg_type: message.msgType,
            msg_data: message.msgData,
            create_time: message.createTime,
            client_msg_id: message.clientMsgId,
            // Each side's sent count at this message: read marks and unread counts derive from them.
            sent_lo: counts.sentLo,
            sent_hi: counts.sentHi,
            expires_at: this.retentionDays > 0 ? message.createTime + this.retentionDays * 86_400 : undefined,
          },
          ConditionExpression: 'attribute_not_exists(msg_id)',
        }),
      );
      return 'stored';
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // The SDK retries a put whose response was lost; the retry then finds the row its first try wrote.
      const stored = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: { conversation_id: message.conversationId, msg_id: message.msgId }, ConsistentRead: true }),
      );
      if (stored?.Item && sameMessage(stored.Item, message)) return 'duplicate';
      throw new MessageAlreadyStoredError(`${message.conversationId} msg_id ${message.msgId} is already stored`);
    }
  }

  async get(conversationId: string, msgId: number): Promise<MessageRecord | undefined> {
    const key = { conversation_id: conversationId, msg_id: msgId };
    // Messages never change once written, so an eventually consistent read is right unless it is too fresh.
    const eventual = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key }));
    if (eventual.Item) return live(eventual.Item) ? toMessage(eventual.Item) : undefined;
    const strong = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return strong.Item && live(strong.Item) ? toMessage(strong.Item) : undefined;
  }

  /**
   * Newest first, msg_id ≤ beforeOrAt when it is not 0. Strongly consistent: a client catching up must see every
   * message acked before its request.
   */
  async listBefore(conversationId: string, beforeOrAt: number, limit: number): Promise<MessageRecord[]> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: beforeOrAt > 0 ? 'conversation_id = :c AND msg_id <= :m' : 'conversation_id = :c',
        ExpressionAttributeValues: { ':c': conversationId, ...(beforeOrAt > 0 ? { ':m': beforeOrAt } : {}) },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (result.Items ?? []).filter(live).map(toMessage);
  }

  async getMany(keys: readonly { conversationId: string; msgId: number }[]): Promise<MessageRecord[]> {
    const unique = [...new Map(keys.map((k) => [`${k.conversationId}\u0000${k.msgId}`, k])).values()];
    const items = await batchGetAll(this.db, this.tableName, unique.map((k) => ({ conversation_id: k.conversationId, msg_id: k.msgId })));
    return items.filter(live).map(toMessage);
  }

}

function sameMessage(item: Record<string, unknown>, message: StoredMessage): boolean {
  return (
    item['from_user_id'] === message.fromUserId &&
    item['create_time'] === message.createTime &&
    item['msg_data'] === message.msgData &&
    item['client_msg_id'] === message.clientMsgId
  );
}

/** TTL deletes lag by up to days: a message past its retention is gone for readers at once. */
function live(item: Record<string, unknown>): boolean {
  const expiresAt = item['expires_at'];
  return typeof expiresAt !== 'number' || expiresAt * 1000 > Date.now();
}

function toMessage(item: Record<string, unknown>): MessageRecord {
  return {
    counts: { sentLo: (item['sent_lo'] as number | undefined) ?? 0, sentHi: (item['sent_hi'] as number | undefined) ?? 0 },
    conversationId: item['conversation_id'] as string,
    msgId: item['msg_id'] as number,
    fromUserId: item['from_user_id'] as string,
    toSessionId: item['to_session_id'] as string,
    msgType: item['msg_type'] as number,
    msgData: item['msg_data'] as string,
    createTime: item['create_time'] as number,
    ...(typeof item['client_msg_id'] === 'string' ? { clientMsgId: item['client_msg_id'] } : {}),
  };
}
