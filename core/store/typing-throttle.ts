/**
 * The typing throttle, on the RateLimits table (PK `bucket`, TTL `expires_at`) beside the per-user request windows:
 * one item per user and conversation, `typist#<user>#<conversation id>` (no user id contains `#`), holding when its
 * last forwarded `start` was (`started_at`, unix ms) and the state last forwarded (`state`).
 * - A `start` is one conditional UpdateItem that succeeds when the item is absent or its `start` is `intervalMs` old.
 * - A `stop` is one conditional UpdateItem that succeeds when the state is `start`: one stop per start.
 * So at most two frames per user and conversation are forwarded in any interval, whatever the client sends and on
 * however many Lambda instances; a refused frame costs the one write unit of its failed condition and nothing else.
 * Items outlive their interval by a minute; TTL removes them for nothing.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TypingState } from '../../protocol/frames.js';
import type { TypingThrottle } from '../ports/typing.js';
import { isConditionFailed } from './document-client.js';

const TTL_MARGIN_SECONDS = 60;

export class TypingThrottleTable implements TypingThrottle {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(
    userId: string,
    conversationId: string,
    state: TypingState,
    nowMs: number,
    intervalMs: number,
  ): Promise<boolean> {
    const expiresAt = Math.ceil((nowMs + intervalMs) / 1000) + TTL_MARGIN_SECONDS;
    const update =
      state === 'start'
        ? {
            UpdateExpression: 'SET started_at = :now, #state = :start, expires_at = :exp',
            ConditionExpression: 'attribute_not_exists(started_at) OR started_at <= :since',
            ExpressionAttributeValues: {
              ':now': nowMs,
              ':start': 'start',
              ':since': nowMs - intervalMs,
              ':exp': expiresAt,
            },
          }
        : {
            UpdateExpression: 'SET #state = :stop',
            ConditionExpression: '#state = :start',
            ExpressionAttributeValues: { ':stop': 'stop', ':start': 'start' },
          };
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { bucket: `typist#${userId}#${conversationId}` },
          ExpressionAttributeNames: { '#state': 'state' },
          ...update,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
