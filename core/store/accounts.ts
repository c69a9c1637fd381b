/**
 * Accounts table (PK user_id): the status of accounts that are not active. An active user has no item, so the one
 * strongly consistent GetItem $connect makes (1 read unit, $0.25 per million connects) finds nothing for nearly
 * everyone, and the table holds only suspended and deleted users. A deleted account keeps its item for good: tokens
 * an outside issuer still signs for the user are refused by it.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AccountStatus, AccountStore } from '../ports/accounts.js';
import { isConditionFailed } from './document-client.js';

export class AccountTable implements AccountStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async status(userId: string): Promise<AccountStatus> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        ConsistentRead: true,
        ProjectionExpression: 'account_status',
      }),
    );
    const status = result.Item?.['account_status'];
    return status === 'suspended' || status === 'deleted' ? status : 'active';
  }

  suspend(userId: string, nowSeconds: number): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: { user_id: userId, account_status: 'suspended', changed_at: nowSeconds },
        ConditionExpression: 'attribute_not_exists(account_status) OR account_status <> :deleted',
        ExpressionAttributeValues: { ':deleted': 'deleted' },
      }),
    );
  }

  unsuspend(userId: string): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        ConditionExpression: 'account_status = :suspended',
        ExpressionAttributeValues: { ':suspended': 'suspended' },
      }),
    );
  }

  markDeleted(userId: string, nowSeconds: number): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: { user_id: userId, account_status: 'deleted', changed_at: nowSeconds },
        ConditionExpression: 'attribute_not_exists(account_status) OR account_status <> :deleted',
        ExpressionAttributeValues: { ':deleted': 'deleted' },
      }),
    );
  }

  async markDeletionDone(userId: string, nowSeconds: number): Promise<number> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        UpdateExpression: 'SET deletion_done_at = if_not_exists(deletion_done_at, :now)',
        ExpressionAttributeValues: { ':now': nowSeconds },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return (result.Attributes?.['deletion_done_at'] as number | undefined) ?? nowSeconds;
  }

  /** Sends a conditional write: true when it was made, false when its condition held it back. */
  private async conditional(command: PutCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.db.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
