/**
 * Groups and GroupMembers as an account deletion needs them: the member who has been in the group longest
 * (`joined_time` on the member rows, then the smallest user id), the change of owner, the leaver's removal, and the
 * removal of a group its owner leaves empty. The change of owner and the removal are each one transaction — the
 * owner with the heir's owned-groups count (its quota row in Sessions), the member row with the group's
 * member_count — so a deletion page that dies between two writes and runs again never counts twice or not at all.
 */
import { DeleteCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GroupHandoverStore } from '../ports/accounts.js';
import { queryAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

export class GroupHandoverTables implements GroupHandoverStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly groupsTable: string,
    private readonly membersTable: string,
    /** Sessions: the heir's quota row (`q#counters`, core/store/sessions.ts). */
    private readonly sessionsTable: string,
  ) {}

  /** One Query of the member rows (≤ 1,000 members: a few pages of small items). */
  async longestStandingMember(groupId: string, except: string): Promise<string | undefined> {
    let best: { userId: string; joined: number } | undefined;
    for await (const item of queryAll(this.db, {
      TableName: this.membersTable,
      KeyConditionExpression: 'group_id = :g',
      ExpressionAttributeValues: { ':g': groupId },
      ProjectionExpression: 'user_id, joined_time',
      ConsistentRead: true,
    })) {
      const userId = item['user_id'] as string;
      const joined = (item['joined_time'] as number | undefined) ?? 0;
      // Rows come in user id order, so a strict `<` keeps the smallest id among equal join times.
      if (userId !== except && (!best || joined < best.joined)) best = { userId, joined };
    }
    return best?.userId;
  }

  async transferOwnership(groupId: string, from: string, to: string): Promise<boolean> {
    return this.transact([
      {
        Update: {
          TableName: this.groupsTable,
          Key: { group_id: groupId },
          UpdateExpression: 'SET owner_id = :to',
          ConditionExpression: 'owner_id = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        },
      },
      {
        // Past the cap if need be: the heir did not ask, and refusing would leave the group without an owner.
        Update: {
          TableName: this.sessionsTable,
          Key: { user_id: to, session_key: 'q#counters' },
          UpdateExpression: 'ADD groups_owned :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ]);
  }

  async removeMember(groupId: string, userId: string): Promise<boolean> {
    return this.transact([
      {
        Delete: {
          TableName: this.membersTable,
          Key: { group_id: groupId, user_id: userId },
          ConditionExpression: 'attribute_exists(user_id)',
        },
      },
      {
        Update: {
          TableName: this.groupsTable,
          Key: { group_id: groupId },
          UpdateExpression: 'ADD member_count :minus',
          ConditionExpression: 'attribute_exists(group_id)',
          ExpressionAttributeValues: { ':minus': -1 },
        },
      },
    ]);
  }

  /** One transaction; false when a condition held it back (nothing written). */
  private async transact(items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>) {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if ((error as Error).name === 'TransactionCanceledException') return false;
      throw error;
    }
  }

  async deleteGroup(groupId: string, ownerId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.groupsTable,
          Key: { group_id: groupId },
          ConditionExpression: 'owner_id = :owner',
          ExpressionAttributeValues: { ':owner': ownerId },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
}
