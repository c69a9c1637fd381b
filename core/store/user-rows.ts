/**
 * Every row of one user's Sessions partition (session rows, index entries, quota counters, attachment references,
 * export claims: core/store/sessions.ts), read in Query pages for the account export. Bounded by the caller's limit.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { UserRowReader } from '../ports/moderation.js';
import { queryPages } from './batch.js';

export class UserRowTable implements UserRowReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listAll(userId: string, limit: number): Promise<{ rows: Record<string, unknown>[]; truncated: boolean }> {
    const rows: Record<string, unknown>[] = [];
    for await (const page of queryPages(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': userId },
      ConsistentRead: true,
    })) {
      rows.push(...page);
      if (rows.length > limit) return { rows: rows.slice(0, limit), truncated: true };
    }
    return { rows, truncated: false };
  }
}
