/**
 * Presence table: one item per user holding the set of its connection ids, kept beside the Connections rows by
 * $connect/$disconnect and 410 cleanup. It exists for fan-out to many users: the connections of 500 group members
 * are 5 BatchGetItems instead of 500 Queries.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PresenceStore } from '../ports.js';
import { batchGetAll } from './batch.js';

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
    const items = await batchGetAll(this.db, this.tableName, [...new Set(userIds)].map((u) => ({ user_id: u })), { consistent: true });
    const found = new Map<string, string[]>();
    for (const item of items) {
      const ids = item['connection_ids'] as Set<string> | undefined;
      if (ids && ids.size > 0) found.set(item['user_id'] as string, [...ids]);
    }
    return found;
  }

}
