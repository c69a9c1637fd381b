/** Messages table: every stored message (PK conversation_id, SK msg_id). */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MessageRecord, SideCounts, StoredMessage } from '../domain/message.js';
import { MessageAlreadyStoredError } from '../errors.js';
import type { MessageStore } from '../ports/stores.js';
import { batchGetAll, queryPages } from './batch.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

export class MessageTable implements MessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Days a message is kept (TTL); 0 keeps it for ever. */
    private readonly retentionDays = 0,
  ) {}

  async put(message: StoredMessage, counts: SideCounts): Promise<{ stored: MessageRecord; fresh: boolean }> {
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
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { stored: { ...message, counts: { sentLo: counts.sentLo, sentHi: counts.sentHi } }, fresh: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // The SDK retries a put whose response was lost and the retry finds the row its first try wrote; or a racing
      // attempt of the same send stored it first (with its own create_time, which is the one acked).
      const existing = conditionFailure(error);
      if (existing && sameMessage(existing, message)) return { stored: toMessage(existing), fresh: false };
      throw new MessageAlreadyStoredError(`${message.conversationId} msg_id ${message.msgId} is already stored`);
    }
  }

  async getConsistent(conversationId: string, msgId: number): Promise<MessageRecord | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId, msg_id: msgId },
        ConsistentRead: true,
      }),
    );
    return result.Item && live(result.Item) ? toMessage(result.Item) : undefined;
  }

  async get(conversationId: string, msgId: number): Promise<MessageRecord | undefined> {
    const key = { conversation_id: conversationId, msg_id: msgId };
    // Its callers need the message's key and create_time, which never change (a tombstone, recall or edit changes only
    // the content): an eventually consistent read is right unless it is too fresh.
    const eventual = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key }));
    if (eventual.Item) return live(eventual.Item) ? toMessage(eventual.Item) : undefined;
    return this.getConsistent(conversationId, msgId);
  }

  /**
   * Newest first, msg_id ≤ beforeOrAt when it is not 0. Strongly consistent: a client catching up must see every
   * message acked before its request.
   */
  async listBefore(conversationId: string, beforeOrAt: number, limit: number): Promise<MessageRecord[]> {
    const messages: MessageRecord[] = [];
    // Pages end at 1 MB: follow them until `limit` messages are read.
    for await (const page of queryPages(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: beforeOrAt > 0 ? 'conversation_id = :c AND msg_id <= :m' : 'conversation_id = :c',
      ExpressionAttributeValues: { ':c': conversationId, ...(beforeOrAt > 0 ? { ':m': beforeOrAt } : {}) },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    })) {
      messages.push(...page.filter(live).map(toMessage));
      if (messages.length >= limit) break;
    }
    return messages.slice(0, limit);
  }

  async getMany(keys: readonly { conversationId: string; msgId: number }[]): Promise<MessageRecord[]> {
    const unique = [...new Map(keys.map((k) => [`${k.conversationId}\u0000${k.msgId}`, k])).values()];
    const items = await batchGetAll(
      this.db,
      this.tableName,
      unique.map((k) => ({ conversation_id: k.conversationId, msg_id: k.msgId })),
    );
    return items.filter(live).map(toMessage);
  }
}

/** The same send: sender, key and content (not create_time: a racing attempt of the send may stamp another). */
function sameMessage(item: Record<string, unknown>, message: StoredMessage): boolean {
  return (
    item['from_user_id'] === message.fromUserId &&
    item['msg_type'] === message.msgType &&
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
    counts: {
      sentLo: (item['sent_lo'] as number | undefined) ?? 0,
      sentHi: (item['sent_hi'] as number | undefined) ?? 0,
    },
    conversationId: item['conversation_id'] as string,
    msgId: item['msg_id'] as number,
    fromUserId: item['from_user_id'] as string,
    toSessionId: item['to_session_id'] as string,
    msgType: item['msg_type'] as number,
    msgData: item['msg_data'] as string,
    createTime: item['create_time'] as number,
    ...(typeof item['client_msg_id'] === 'string' ? { clientMsgId: item['client_msg_id'] } : {}),
    ...(item['deleted'] === true ? { deleted: true as const } : {}),
    ...(item['recalled'] === true ? { recalled: true as const } : {}),
    ...(typeof item['edited_at'] === 'number' ? { editedAt: item['edited_at'] } : {}),
  };
}
