/**
 * Conversations table: one head item per conversation holding its msg_id counter (TeamTalk's redis
 * `INCR msg_id_<relateId>`, but durable), the messages each side has sent and the time of the last message.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConversationHead } from '../domain/session.js';
import { batchGetAll } from './batch.js';
import type { ConversationStore, CounterResult } from '../ports.js';

export class ConversationTable implements ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async nextMsgId(conversationId: string, senderSide: 'lo' | 'hi' | undefined, nowSeconds: number): Promise<CounterResult> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId },
        UpdateExpression: senderSide ? 'ADD last_msg_id :one, #sent :one SET updated_time = :now' : 'ADD last_msg_id :one SET updated_time = :now',
        ...(senderSide ? { ExpressionAttributeNames: { '#sent': `sent_${senderSide}` } } : {}),
        ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const head = result.Attributes ?? {};
    return {
      msgId: head['last_msg_id'] as number,
      sentLo: (head['sent_lo'] as number | undefined) ?? 0,
      sentHi: (head['sent_hi'] as number | undefined) ?? 0,
      sessionsCreated: head['sessions_created'] === true,
    };
  }

  async markSessionsCreated(conversationId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId },
        UpdateExpression: 'SET sessions_created = :yes',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  async get(conversationId: string): Promise<ConversationHead | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { conversation_id: conversationId }, ConsistentRead: true }));
    return result.Item ? toHead(result.Item) : undefined;
  }

  /** Heads by conversation id (strongly consistent: the read side reports counters acked messages moved). */
  async getMany(conversationIds: readonly string[]): Promise<Map<string, ConversationHead>> {
    const keys = [...new Set(conversationIds)].map((id) => ({ conversation_id: id }));
    const items = await batchGetAll(this.db, this.tableName, keys, { consistent: true });
    return new Map(items.map((item) => [item['conversation_id'] as string, toHead(item)]));
  }

}

function toHead(item: Record<string, unknown>): ConversationHead {
  return {
    conversationId: item['conversation_id'] as string,
    lastMsgId: (item['last_msg_id'] as number | undefined) ?? 0,
    sentLo: (item['sent_lo'] as number | undefined) ?? 0,
    sentHi: (item['sent_hi'] as number | undefined) ?? 0,
    updatedTime: (item['updated_time'] as number | undefined) ?? 0,
  };
}
