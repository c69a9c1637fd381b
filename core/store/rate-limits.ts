/**
 * RateLimits table: fixed windows per user and budget, across all of the user's connections (TeamTalk counted per
 * connection; here a user could open many). One conditional UpdateItem per frame (1 write unit, no read): frames of
 * one user run on many Lambda instances at once, so the count has to live in the table, not in memory.
 * Budgets: `msg` (msg_data, TeamTalk's MAX_MSG_CNT_PER_SECOND) and `deliveries` (their receivers), per second, counted
 * together on one item (`n` frames, `d` receivers) so a send still costs one write; `write` (the other requests that
 * write) and `read` (the requests that read), per second; `members` (group members added or removed), per minute,
 * weighted by the members a request changes; `reports` (reports filed), per UTC day; `typing` (receivers of the
 * user's forwarded typing frames and presence_set announcements), per second; `subscriptions` (presence subscription rows written or deleted), per
 * minute.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateBudget, RateLimiter } from '../ports/stores.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

/** Windows expire a minute after they close; TTL removes them for free. */
const WINDOW_TTL_SECONDS = 60;

export const RATE_WINDOW_SECONDS: Readonly<Record<RateBudget, number>> = {
  msg: 1,
  deliveries: 1,
  write: 1,
  read: 1,
  members: 60,
  reports: 86_400,
  typing: 1,
  subscriptions: 60,
};

export class RateLimitTable implements RateLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limits: Readonly<Record<RateBudget, number>>,
  ) {}

  async tryAcquire(
    budget: Exclude<RateBudget, 'deliveries'>,
    userId: string,
    nowMs: number,
    weight = 1,
  ): Promise<boolean> {
    const limit = this.limits[budget];
    if (weight > limit) return false;
    try {
      await this.db.send(
        new UpdateCommand({
          ...this.window(budget, userId, nowMs),
          UpdateExpression: 'ADD n :w SET expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(n) OR n <= :room',
          ExpressionAttributeValues: { ':w': weight, ':room': limit - weight, ':exp': this.expiry(budget, nowMs) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async acquireSend(userId: string, nowMs: number, receivers: number): Promise<'msg' | 'deliveries' | undefined> {
    const { msg, deliveries } = this.limits;
    if (receivers > deliveries) return 'deliveries';
    try {
      await this.db.send(
        new UpdateCommand({
          ...this.window('msg', userId, nowMs),
          UpdateExpression: 'ADD n :one, d :r SET expires_at = :exp',
          ConditionExpression: '(attribute_not_exists(n) OR n <= :nRoom) AND (attribute_not_exists(d) OR d <= :dRoom)',
          ExpressionAttributeValues: {
            ':one': 1,
            ':r': receivers,
            ':nRoom': msg - 1,
            ':dRoom': deliveries - receivers,
            ':exp': this.expiry('msg', nowMs),
          },
          // What blocked it, so the refusal can say which budget: no read first.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const counted = conditionFailure(error);
      return ((counted?.['n'] as number | undefined) ?? 0) > msg - 1 ? 'msg' : 'deliveries';
    }
  }

  private window(budget: RateBudget, userId: string, nowMs: number) {
    const start = windowStart(budget, nowMs);
    return { TableName: this.tableName, Key: { bucket: `${budget}#${userId}#${start}` } };
  }

  private expiry(budget: RateBudget, nowMs: number): number {
    return windowStart(budget, nowMs) + RATE_WINDOW_SECONDS[budget] + WINDOW_TTL_SECONDS;
  }
}

const windowStart = (budget: RateBudget, nowMs: number) =>
  Math.floor(nowMs / 1000 / RATE_WINDOW_SECONDS[budget]) * RATE_WINDOW_SECONDS[budget];
