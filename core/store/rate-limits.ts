/**
 * RateLimits table: fixed one-second windows per user and budget, across all of the user's connections (TeamTalk
 * counted per connection; here a user could open many). One conditional UpdateItem per frame (1 write unit, no read):
 * frames of one user run on many Lambda instances at once, so the count has to live in the table, not in memory.
 * Budgets: `msg` (msg_data, TeamTalk's MAX_MSG_CNT_PER_SECOND) and `write` (the other requests that write), per
 * second; `members` (group members added or removed), per minute, weighted by the members a request changes.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateBudget, RateLimiter } from '../ports.js';
import { isConditionFailed } from './document-client.js';

/** Windows expire a minute after they close; TTL removes them for free. */
const WINDOW_TTL_SECONDS = 60;

export const RATE_WINDOW_SECONDS: Readonly<Record<RateBudget, number>> = { msg: 1, write: 1, members: 60 };

export class RateLimitTable implements RateLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limits: Readonly<Record<RateBudget, number>>,
  ) {}

  async tryAcquire(budget: RateBudget, userId: string, nowMs: number, weight = 1): Promise<boolean> {
    const limit = this.limits[budget];
    if (weight > limit) return false;
    const window = Math.floor(nowMs / 1000 / RATE_WINDOW_SECONDS[budget]) * RATE_WINDOW_SECONDS[budget];
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { bucket: `${budget}#${userId}#${window}` },
          UpdateExpression: 'ADD n :w SET expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(n) OR n <= :room',
          ExpressionAttributeValues: { ':w': weight, ':room': limit - weight, ':exp': window + RATE_WINDOW_SECONDS[budget] + WINDOW_TTL_SECONDS },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
