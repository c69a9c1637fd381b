/**
 * Conversations table: one head item per conversation holding its msg_id counter (TeamTalk's redis
 * `INCR msg_id_<relateId>`, but durable), the messages each side has sent and the time of the last message.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConversationStore, CounterResult } from '../ports.js';

export class ConversationTable implements ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async nextMsgId(conversationId: string, senderSide: 'lo' | 'hi', nowSeconds: number): Promise<CounterResult> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId },
        UpdateExpression: 'ADD last_msg_id :one, #sent :one SET updated_time = :now',
        ExpressionAttributeNames: { '#sent': `sent_${senderSide}` },
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
}
