/**
 * Groups and GroupMembers tables. The Groups item holds name, owner and `member_count`, which membership changes
 * reserve atomically (a conditional ADD) before writing member rows, so concurrent changes never take a group past
 * its cap. Member rows are written one conditional put (or delete) each, so a change knows exactly whom it added or
 * removed, and the count is corrected for members that were there already.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { forEachWithConcurrency } from '../concurrency.js';
import type { Group } from '../domain/group.js';
import type { GroupStore } from '../ports/stores.js';
import { batchGetAll, queryAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

const MEMBER_WRITE_CONCURRENCY = 16;

export class GroupTables implements GroupStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly groupsTable: string,
    private readonly membersTable: string,
  ) {}

  async create(group: Group): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.groupsTable,
        Item: {
          group_id: group.groupId,
          group_name: group.groupName,
          owner_id: group.ownerId,
          created_time: group.createdTime,
          member_count: 0,
        },
        ConditionExpression: 'attribute_not_exists(group_id)',
      }),
    );
  }

  async get(groupId: string): Promise<Group | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.groupsTable, Key: { group_id: groupId }, ConsistentRead: true }),
    );
    return result.Item ? toGroup(result.Item) : undefined;
  }

  async getMany(groupIds: readonly string[]): Promise<Group[]> {
    return (
      await batchGetAll(
        this.db,
        this.groupsTable,
        [...new Set(groupIds)].map((g) => ({ group_id: g })),
      )
    ).map(toGroup);
  }

  /** Whether the user is a member now: one strongly consistent GetItem (a removal is seen at once). */
  async isMember(groupId: string, userId: string): Promise<boolean> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.membersTable,
        Key: { group_id: groupId, user_id: userId },
        ConsistentRead: true,
        ProjectionExpression: 'user_id',
      }),
    );
    return result.Item !== undefined;
  }

  /** The Groups item's member_count: one eventually consistent GetItem of one attribute (0.5 read unit). */
  async memberCount(groupId: string): Promise<number> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.groupsTable, Key: { group_id: groupId }, ProjectionExpression: 'member_count' }),
    );
    return (result.Item?.['member_count'] as number | undefined) ?? 0;
  }

  /** Every member's user id: one strongly consistent Query (paginated past 1 MB). */
  async members(groupId: string): Promise<string[]> {
    const members: string[] = [];
    for await (const item of queryAll(this.db, {
      TableName: this.membersTable,
      KeyConditionExpression: 'group_id = :g',
      ExpressionAttributeValues: { ':g': groupId },
      ProjectionExpression: 'user_id',
      ConsistentRead: true,
    })) {
      members.push(item['user_id'] as string);
    }
    return members;
  }

  async reserveMembers(groupId: string, n: number, max: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.groupsTable,
          Key: { group_id: groupId },
          UpdateExpression: 'ADD member_count :n',
          ConditionExpression:
            'attribute_exists(group_id) AND (attribute_not_exists(member_count) OR member_count <= :room)',
          ExpressionAttributeValues: { ':n': n, ':room': max - n },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async releaseMembers(groupId: string, n: number): Promise<void> {
    if (n <= 0) return;
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.groupsTable,
          Key: { group_id: groupId },
          UpdateExpression: 'ADD member_count :minus',
          ConditionExpression: 'attribute_exists(group_id)',
          ExpressionAttributeValues: { ':minus': -n },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailed(error)) throw error;
      });
  }

  async addMembers(groupId: string, userIds: readonly string[], joinedTime: number): Promise<string[]> {
    const added: string[] = [];
    await forEachWithConcurrency(userIds, MEMBER_WRITE_CONCURRENCY, async (userId) => {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.membersTable,
            Item: { group_id: groupId, user_id: userId, joined_time: joinedTime },
            ConditionExpression: 'attribute_not_exists(user_id)',
          }),
        );
        added.push(userId);
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    });
    return added;
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    await forEachWithConcurrency(userIds, MEMBER_WRITE_CONCURRENCY, async (userId) => {
      const result = await this.db.send(
        new DeleteCommand({
          TableName: this.membersTable,
          Key: { group_id: groupId, user_id: userId },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (result.Attributes) removed.push(userId);
    });
    return removed;
  }
}

function toGroup(item: Record<string, unknown>): Group {
  return {
    groupId: item['group_id'] as string,
    groupName: item['group_name'] as string,
    ownerId: item['owner_id'] as string,
    createdTime: item['created_time'] as number,
  };
}
