/**
 * Presence table: one item per user holding the set of its connection ids, kept beside the Connections rows by
 * $connect/$disconnect and 410 cleanup. It exists for fan-out to many users: the connections of 500 group members
 * are 5 BatchGetItems instead of 500 Queries.
 */
import { BatchGetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PresenceStore } from '../ports.js';
import { withUnprocessedRetries } from './batch.js';

const BATCH_GET_LIMIT = 100;

export class PresenceTable implements PresenceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(userId: string, connectionId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        UpdateExpression: 'ADD connection_ids :c',
        ExpressionAttributeValues: { ':c': new Set([connectionId]) },
      }),
    );
  }

  async remove(userId: string, connectionId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        UpdateExpression: 'DELETE connection_ids :c',
        ExpressionAttributeValues: { ':c': new Set([connectionId]) },
      }),
    );
  }

  /** Connection ids by user, for users with at least one; strongly consistent, like the single-chat Query. */
  async connectionsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    const unique = [...new Set(userIds)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + BATCH_GET_LIMIT).map((u) => ({ user_id: u }));
      await withUnprocessedRetries(async () => {
        const result = await this.db.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys!, ConsistentRead: true } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const ids = item['connection_ids'] as Set<string> | undefined;
          if (ids && ids.size > 0) found.set(item['user_id'] as string, [...ids]);
        }
        const unprocessed = result.UnprocessedKeys?.[this.tableName]?.Keys;
        keys = unprocessed && unprocessed.length > 0 ? unprocessed : undefined;
        return keys !== undefined;
      });
    }
    return found;
  }
}
