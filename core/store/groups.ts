/** Groups and GroupMembers tables. */
import {
  GetCommand,
  PutCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Group } from '../domain/group.js';
import type { GroupStore } from '../ports.js';
import { batchGetAll, batchWriteAll, queryAll } from './batch.js';

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
        Item: { group_id: group.groupId, group_name: group.groupName, owner_id: group.ownerId, created_time: group.createdTime },
        ConditionExpression: 'attribute_not_exists(group_id)',
      }),
    );
  }

  async get(groupId: string): Promise<Group | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.groupsTable, Key: { group_id: groupId }, ConsistentRead: true }));
    return result.Item ? toGroup(result.Item) : undefined;
  }

  async getMany(groupIds: readonly string[]): Promise<Group[]> {
    return (await batchGetAll(this.db, this.groupsTable, [...new Set(groupIds)].map((g) => ({ group_id: g })))).map(toGroup);
  }


  /** Whether the user is a member now: one strongly consistent GetItem (a removal is seen at once). */
  async isMember(groupId: string, userId: string): Promise<boolean> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.membersTable, Key: { group_id: groupId, user_id: userId }, ConsistentRead: true, ProjectionExpression: 'user_id' }),
    );
    return result.Item !== undefined;
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

  async addMembers(groupId: string, userIds: readonly string[], joinedTime: number): Promise<void> {
    await batchWriteAll(this.db, this.membersTable, userIds.map((u) => ({ PutRequest: { Item: { group_id: groupId, user_id: u, joined_time: joinedTime } } })));
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    await batchWriteAll(this.db, this.membersTable, userIds.map((u) => ({ DeleteRequest: { Key: { group_id: groupId, user_id: u } } })));
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
