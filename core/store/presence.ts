/**
 * Presence table: one item per user holding the set of its connection ids, kept beside the Connections rows by
 * $connect/$disconnect and 410 cleanup. It exists for fan-out to many users (the connections of 500 group members
 * are 5 BatchGetItems instead of 500 Queries) and to cap a user's connections atomically: the add is conditional on
 * the set's size, so concurrent connects never exceed the cap.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PresenceStore } from '../ports/stores.js';
import { batchGetAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

export class PresenceTable implements PresenceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(userId: string, connectionId: string, max: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId },
          UpdateExpression: 'ADD connection_ids :c',
          ConditionExpression:
            'attribute_not_exists(connection_ids) OR size(connection_ids) < :max OR contains(connection_ids, :id)',
          ExpressionAttributeValues: { ':c': new Set([connectionId]), ':max': max, ':id': connectionId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
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
    const items = await batchGetAll(
      this.db,
      this.tableName,
      [...new Set(userIds)].map((u) => ({ user_id: u })),
      { consistent: true },
    );
    const found = new Map<string, string[]>();
    for (const item of items) {
      const ids = item['connection_ids'] as Set<string> | undefined;
      if (ids && ids.size > 0) found.set(item['user_id'] as string, [...ids]);
    }
    return found;
  }
}
