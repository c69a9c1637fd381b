/**
 * An account export's claim, in the user's Sessions partition (SK `x#<day>`, one per UTC day): one conditional
 * PutItem claims the day's export (`attribute_not_exists`), and a second request that day reads the first's id from
 * the failure (ALL_OLD, no read first), so it answers the same export_id and starts nothing. The job marks the claim
 * ready when the JSON is written. A claim still pending after EXPORT_STALE_SECONDS (its job died: the worker's
 * invocation failed into its dead-letter queue) may be taken again by a new request, which restarts the same export;
 * a fresh claim whose job could not be handed over (the bus refused it) is released, so the refused request leaves
 * nothing behind.
 * TTL removes a claim two days after its day, so the rule never needs a sweep.
 */
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ExportClaim, ExportClaimStore } from '../ports/moderation.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

const DAY_SECONDS = 86_400;
const claimKey = (day: number) => `x#${String(day).padStart(6, '0')}`;

export class ExportClaimTable implements ExportClaimStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(
    userId: string,
    day: number,
    exportId: string,
    nowS: number,
  ): Promise<{ claim: ExportClaim; fresh: boolean }> {
    const claim: ExportClaim = { userId, day, exportId, status: 'pending', requestedAt: nowS };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            user_id: userId,
            session_key: claimKey(day),
            export_id: exportId,
            export_status: 'pending',
            requested_at: nowS,
            expires_at: (day + 3) * DAY_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(session_key)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claim, fresh: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const old = conditionFailure(error) ?? {};
      return {
        claim: {
          userId,
          day,
          exportId: String(old['export_id']),
          status: old['export_status'] === 'ready' ? 'ready' : 'pending',
          requestedAt: Number(old['requested_at']),
        },
        fresh: false,
      };
    }
  }

  async retake(claim: ExportClaim, staleBeforeS: number, nowS: number): Promise<boolean> {
    return this.update(claim, 'SET requested_at = :now', 'export_status = :pending AND requested_at < :stale', {
      ':now': nowS,
      ':pending': 'pending',
      ':stale': staleBeforeS,
    });
  }

  async release(claim: Pick<ExportClaim, 'userId' | 'day' | 'exportId'>): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { user_id: claim.userId, session_key: claimKey(claim.day) },
          ConditionExpression: 'export_id = :id',
          ExpressionAttributeValues: { ':id': claim.exportId },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  async markReady(claim: Pick<ExportClaim, 'userId' | 'day'>, objectKey: string, nowS: number): Promise<void> {
    await this.update(
      claim,
      'SET export_status = :ready, object_key = :k, ready_at = :now',
      'attribute_exists(export_id)',
      {
        ':ready': 'ready',
        ':k': objectKey,
        ':now': nowS,
      },
    );
  }

  private async update(
    claim: Pick<ExportClaim, 'userId' | 'day'>,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: claim.userId, session_key: claimKey(claim.day) },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
