/**
 * Presence table: one item per user holding the set of its connection ids, kept beside the Connections rows by
 * $connect/$disconnect and 410 cleanup. It exists for fan-out to many users (the connections of 500 group members
 * are 5 BatchGetItems instead of 500 Queries) and to cap a user's connections atomically: the add is conditional on
 * the set's size, so concurrent connects never exceed the cap.
 *
 * The same item carries the user's presence status (core/domain/presence.ts): `away_ids`, the open connections that
 * said `away` (a removed connection leaves both sets in the same update), and `announced`, the status last announced
 * to subscribers, moved only by a conditional update from the status it was, so two checks of one change announce it
 * once. Every update returns the item as it now is (ALL_NEW), so $connect and $disconnect learn whether a check is
 * needed without another read.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PresenceStatus } from '../../protocol/frames.js';
import { NO_PRESENCE, type PresenceState } from '../domain/presence.js';
import type { PresenceStore } from '../ports/stores.js';
import { batchGetAll } from './batch.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

export class PresenceTable implements PresenceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(userId: string, connectionId: string, max: number): Promise<PresenceState | false> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId },
          UpdateExpression: 'ADD connection_ids :c',
          ConditionExpression:
            'attribute_not_exists(connection_ids) OR size(connection_ids) < :max OR contains(connection_ids, :id)',
          ExpressionAttributeValues: { ':c': new Set([connectionId]), ':max': max, ':id': connectionId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stateOf(result.Attributes);
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async remove(userId: string, connectionId: string): Promise<PresenceState> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        UpdateExpression: 'DELETE connection_ids :c, away_ids :c',
        ExpressionAttributeValues: { ':c': new Set([connectionId]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return stateOf(result.Attributes);
  }

  /**
   * Puts the connection into the user's away set (or takes it out). Only an open connection of the user's set can be
   * away: for any other the item is left as it is (and returned as it is).
   */
  async setAway(userId: string, connectionId: string, away: boolean): Promise<PresenceState> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId },
          UpdateExpression: away ? 'ADD away_ids :c' : 'DELETE away_ids :c',
          ConditionExpression: 'contains(connection_ids, :id)',
          ExpressionAttributeValues: { ':c': new Set([connectionId]), ':id': connectionId },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return stateOf(result.Attributes);
    } catch (error) {
      if (isConditionFailed(error)) return stateOf(conditionFailure(error));
      throw error;
    }
  }

  /** One user's item, strongly consistent (the check reads what the last connect or disconnect wrote). */
  async stateOf(userId: string): Promise<PresenceState> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { user_id: userId }, ConsistentRead: true }),
    );
    return stateOf(result.Item);
  }

  /** Items by user for these users (absent users are absent): one BatchGetItem per 100, strongly consistent. */
  async statesOf(userIds: readonly string[]): Promise<Map<string, PresenceState>> {
    const items = await batchGetAll(
      this.db,
      this.tableName,
      [...new Set(userIds)].map((u) => ({ user_id: u })),
      { consistent: true },
    );
    return new Map(items.map((item) => [item['user_id'] as string, stateOf(item)]));
  }

  /** Moves `announced` from `from` to `to`; false when another check moved it first (nothing changes then). */
  async markAnnounced(userId: string, from: PresenceStatus, to: PresenceStatus): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId },
          UpdateExpression: 'SET announced = :to',
          // A user never announced reads offline (NO_PRESENCE).
          ConditionExpression:
            from === 'offline' ? 'attribute_not_exists(announced) OR announced = :from' : 'announced = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
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

function stateOf(item: Record<string, unknown> | undefined): PresenceState {
  if (!item) return NO_PRESENCE;
  const set = (name: string) => [...((item[name] as Set<string> | undefined) ?? [])];
  return {
    connectionIds: set('connection_ids'),
    awayIds: set('away_ids'),
    announced: (item['announced'] as PresenceStatus | undefined) ?? 'offline',
  };
}
