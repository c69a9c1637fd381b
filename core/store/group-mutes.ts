/**
 * Per-member push mute of a group (TeamTalk's group shield status), kept as a `muted` flag on the member's own
 * GroupMembers row: setting it is one conditional UpdateItem that also proves membership (no row, no mute: a
 * non-member is refused and nothing is written), leaving the group drops it with the row, and the push sender reads
 * the flags of up to 100 receivers of a group message in one BatchGetItem on keys it already has.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GroupMuteStore } from '../ports/push.js';
import { batchGetAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

export class GroupMuteTable implements GroupMuteStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly membersTable: string,
  ) {}

  /** Mutes or unmutes the group's pushes for a member; false (and nothing written) when the user is no member. */
  async setMuted(groupId: string, userId: string, muted: boolean): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.membersTable,
          Key: { group_id: groupId, user_id: userId },
          UpdateExpression: muted ? 'SET muted = :t' : 'REMOVE muted',
          ConditionExpression: 'attribute_exists(user_id)',
          ...(muted ? { ExpressionAttributeValues: { ':t': true } } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async mutedAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>> {
    const keys = [...new Set(userIds)].map((userId) => ({ group_id: groupId, user_id: userId }));
    const items = await batchGetAll(this.db, this.membersTable, keys, { projection: 'user_id, muted' });
    return new Set(items.filter((item) => item['muted'] === true).map((item) => item['user_id'] as string));
  }
}
