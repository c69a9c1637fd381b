/**
 * RateLimits table: a fixed one-second window per connection, as TeamTalk's m_msg_cnt_per_sec. One conditional
 * UpdateItem per message (1 write unit): frames of one connection run on many Lambda instances at once, so the
 * count has to live in the table, not in memory.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../ports.js';
import { isConditionFailed } from './document-client.js';

/** Windows expire a minute after they close; TTL removes them for free. */
const WINDOW_TTL_SECONDS = 60;

export class RateLimitTable implements RateLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limitPerSecond: number,
  ) {}

  async tryAcquire(connectionId: string, nowMs: number): Promise<boolean> {
    const second = Math.floor(nowMs / 1000);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { bucket: `${connectionId}#${second}` },
          UpdateExpression: 'ADD n :one SET expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': this.limitPerSecond, ':exp': second + WINDOW_TTL_SECONDS },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
