/**
 * DeviceTokens table (PK user_id, SK token_key): one item per push token under its user, and one owner item per
 * token under `~token#<hash>` (no user id contains `~`), so a token belongs to one user at a time: registering it
 * moves it from whoever had it (an account switch on a shared phone), and the old account's pushes stop. Items are
 * one token each (at most ~1 KB), so a registration costs a few write units whatever the user holds; a user keeps
 * its newest tokens up to the cap.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { DeviceToken } from '../domain/push.js';
import type { DeviceTokenStore } from '../ports.js';
import { batchWriteAll, queryAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url').slice(0, 22);
const tokenKey = (token: string) => `t#${tokenHash(token)}`;
const ownerKey = (token: string) => ({ user_id: `~token#${tokenHash(token)}`, token_key: 'owner' });

export class DeviceTokenTable implements DeviceTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async register(userId: string, token: DeviceToken, nowMs: number, max: number): Promise<void> {
    const previous = await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...ownerKey(token.token), owner_id: userId }, ReturnValues: 'ALL_OLD' }),
    );
    const previousOwner = previous.Attributes?.['owner_id'] as string | undefined;
    if (previousOwner !== undefined && previousOwner !== userId) {
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { user_id: previousOwner, token_key: tokenKey(token.token) } }));
    }
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { user_id: userId, token_key: tokenKey(token.token), token: token.token, platform: token.platform, updated_at: nowMs },
      }),
    );
    await this.trim(userId, max);
  }

  /** Drops the user's oldest tokens past `max` (and their owner items). */
  private async trim(userId: string, max: number): Promise<void> {
    const held: { token: string; updatedAt: number }[] = [];
    for await (const item of this.tokenItems(userId, ['token', 'updated_at'])) held.push({ token: item['token'] as string, updatedAt: item['updated_at'] as number });
    const stale = held.sort((a, b) => b.updatedAt - a.updatedAt).slice(max);
    if (stale.length === 0) return;
    await batchWriteAll(
      this.db,
      this.tableName,
      stale.flatMap((t) => [{ DeleteRequest: { Key: { user_id: userId, token_key: tokenKey(t.token) } } }, { DeleteRequest: { Key: ownerKey(t.token) } }]),
    );
  }

  async unregister(userId: string, token: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { user_id: userId, token_key: tokenKey(token) } }));
    try {
      // Only if this user still owns it: after a move, the new owner keeps it.
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: ownerKey(token),
          ConditionExpression: 'owner_id = :u',
          ExpressionAttributeValues: { ':u': userId },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  async tokensOf(userId: string): Promise<DeviceToken[]> {
    const tokens: DeviceToken[] = [];
    for await (const item of this.tokenItems(userId, ['token', 'platform'])) tokens.push({ token: item['token'] as string, platform: item['platform'] as string });
    return tokens;
  }

  private tokenItems(userId: string, attributes: readonly string[]): AsyncGenerator<Record<string, unknown>> {
    // `token` is a reserved word of DynamoDB's expression language: every name goes through a placeholder.
    const names = Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a]));
    return queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'user_id = :u AND begins_with(token_key, :t)',
      ExpressionAttributeValues: { ':u': userId, ':t': 't#' },
      ExpressionAttributeNames: names,
      ProjectionExpression: Object.keys(names).join(', '),
      ConsistentRead: true,
    });
  }
}
