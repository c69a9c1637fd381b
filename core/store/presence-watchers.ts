/**
 * PresenceWatchers table: who watches whom. A subscription row lives under the WATCHED user (partition `user_id`) with
 * the subscribing connection as sort key (`watcher`), so a status change finds its audience with one Query of one
 * partition, bounded by a Limit, and never scans subscribers of others. Each subscribing connection also has one list
 * item (partition `conn#<connection id>`, sort key `#list`: `#` is outside the user-id alphabet, so no user's
 * partition is ever a list's) holding the ids it watches, so a `presence_subscribe` that replaces the list writes rows
 * only for the ids added and deletes those dropped. Rows and lists carry `expires_at` (TTL): a subscription ends
 * with its connection's lifetime, and rows of a connection that is gone are skipped by expiry, deleted when a post
 * answers 410, or left to TTL. A row is ~100 bytes: one write unit to put, one to delete.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { PresenceSubscription, PresenceWatcher, PresenceWatcherStore } from '../ports/presence.js';
import { batchWriteAll } from './batch.js';

const LIST = '#list';
const listKey = (connectionId: string) => ({ user_id: `conn#${connectionId}`, watcher: LIST });

export class PresenceWatcherTable implements PresenceWatcherStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async subscriptionOf(connectionId: string, nowSeconds: number): Promise<PresenceSubscription | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: listKey(connectionId), ConsistentRead: true }),
    );
    const item = result.Item;
    if (!item || (item['expires_at'] as number) <= nowSeconds) return undefined;
    return { userIds: item['user_ids'] as string[], expiresAt: item['expires_at'] as number };
  }

  async replace(
    watcher: PresenceWatcher,
    change: { readonly put: readonly string[]; readonly drop: readonly string[] },
    subscription: PresenceSubscription,
  ): Promise<void> {
    const expiresAt = subscription.expiresAt;
    await batchWriteAll(this.db, this.tableName, [
      ...change.put.map((watched) => ({
        PutRequest: {
          Item: {
            user_id: watched,
            watcher: watcher.connectionId,
            watcher_user_id: watcher.userId,
            expires_at: expiresAt,
          },
        },
      })),
      ...change.drop.map((watched) => ({
        DeleteRequest: { Key: { user_id: watched, watcher: watcher.connectionId } },
      })),
    ]);
    // The list last: a failure before it leaves the old list, and the retried request writes the same rows again.
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...listKey(watcher.connectionId), user_ids: [...subscription.userIds], expires_at: expiresAt },
      }),
    );
  }

  async watchersOf(
    userId: string,
    nowSeconds: number,
    limit: number,
  ): Promise<{ watchers: PresenceWatcher[]; more: boolean }> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'user_id = :u',
        // Expired rows (TTL deletes them up to days later) are read, counted against the Limit, and not returned.
        FilterExpression: 'expires_at > :now',
        ExpressionAttributeValues: { ':u': userId, ':now': nowSeconds },
        Limit: limit,
      }),
    );
    const watchers = (result.Items ?? []).map((item) => ({
      connectionId: item['watcher'] as string,
      userId: item['watcher_user_id'] as string,
    }));
    return { watchers, more: result.LastEvaluatedKey !== undefined };
  }

  async removeWatcher(userId: string, connectionId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { user_id: userId, watcher: connectionId } }),
    );
  }
}
