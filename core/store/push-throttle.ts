/**
 * The push flood bounds, on the RateLimits table (PK `bucket`, TTL `expires_at`) beside the per-user request windows,
 * since they are the same kind of row: a short-lived counter or claim under a key no user id can collide with.
 * - `pushwin#<receiver>#<collapse id>`: a conversation's push window for one receiver. A push claims it with one
 *   conditional PutItem that succeeds when the row is absent, its window is over, or this same message holds it (so
 *   an SQS redelivery of the event still sends); a refused claim means the receiver's devices got a push of this
 *   conversation less than a window ago, and this one is collapsed into it. One write unit per receiver with tokens,
 *   claimed or not.
 * - `pushes#<sender>#<minute>`: how many receivers one sender's messages pushed this minute. One conditional
 *   UpdateItem per event takes them all; when that would pass the budget it fails with the count that blocked it
 *   (ReturnValuesOnConditionCheckFailure ALL_OLD), and a second UpdateItem, conditional on that count, takes what is
 *   left. Racing events never take more than the budget together.
 * Rows outlive their window by a minute; TTL removes them for nothing.
 */
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PushThrottle } from '../ports/push.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

const TTL_MARGIN_SECONDS = 60;
/** Rounds of "take what is left" under contention before the event gives up its share (it then pushes no one). */
const BUDGET_ROUNDS = 3;

const expiresAt = (endMs: number) => Math.ceil(endMs / 1000) + TTL_MARGIN_SECONDS;

export class PushThrottleTable implements PushThrottle {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claimWindow(
    receiver: string,
    collapseId: string,
    msgId: number,
    nowMs: number,
    windowMs: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            bucket: `pushwin#${receiver}#${collapseId}`,
            until_ms: nowMs + windowMs,
            msg_id: msgId,
            expires_at: expiresAt(nowMs + windowMs),
          },
          ConditionExpression: 'attribute_not_exists(until_ms) OR until_ms <= :now OR msg_id = :msg',
          ExpressionAttributeValues: { ':now': nowMs, ':msg': msgId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async takeBudget(sender: string, wanted: number, nowMs: number, limit: number): Promise<number> {
    const minute = Math.floor(nowMs / 60_000);
    const key = { bucket: `pushes#${sender}#${minute}` };
    const take = (n: number, condition: string, values: Record<string, number>) =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD n :n SET expires_at = :exp',
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':n': n, ':exp': expiresAt((minute + 1) * 60_000), ...values },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    let n = Math.min(wanted, limit);
    let condition = 'attribute_not_exists(n) OR n <= :room';
    let values: Record<string, number> = { ':room': limit - n };
    for (let round = 0; round <= BUDGET_ROUNDS; round++) {
      if (n <= 0) return 0;
      try {
        await take(n, condition, values);
        return n;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        // Another event took some first: take what is left, if that count still stands.
        const used = (conditionFailure(error)?.['n'] as number | undefined) ?? 0;
        n = Math.min(wanted, limit - used);
        condition = 'n = :used';
        values = { ':used': used };
      }
    }
    return 0;
  }
}
