/**
 * DeviceTokens table (PK user_id, SK token_key): one item per push token under its user, and one owner item per
 * token under `~token#<hash>` (no user id contains `~`), so a token belongs to one user at a time. Registering a token
 * no one holds (or the caller's own) takes it at once; registering a token another user holds changes nothing —
 * anyone who knows a token could otherwise take a stranger's notifications — but opens a challenge on the owner item
 * (the code's hash, its expiry and the registrant's platform; one open at a time, so the device gets one challenge
 * push per challenge). Whoever answers with the code the device received gets the token: one transaction moves the
 * owner item, deletes the holder's token item and writes the answerer's, conditional on the holder and the code it
 * read. A token item keeps the `device_id` it was registered with (the app's install), so a sign-out can remove an
 * install's tokens without naming them. Items are one token each (at most ~1 KB), so a registration costs a few write units whatever the user holds;
 * a user keeps its newest tokens up to the cap.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { DeviceToken } from '../domain/push.js';
import type { DeviceTokenStore } from '../ports/push.js';
import { batchWriteAll, queryAll } from './batch.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url').slice(0, 22);
const tokenKey = (token: string) => `t#${tokenHash(token)}`;
const ownerKey = (token: string) => ({ user_id: `~token#${tokenHash(token)}`, token_key: 'owner' });

export class DeviceTokenTable implements DeviceTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async register(
    userId: string,
    token: DeviceToken,
    nowMs: number,
    max: number,
  ): Promise<{ readonly heldBy?: string }> {
    try {
      // Keeps an open challenge when the owner registers again (it is still the device's to answer).
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ownerKey(token.token),
          UpdateExpression: 'SET owner_id = :u',
          ConditionExpression: 'attribute_not_exists(owner_id) OR owner_id = :u',
          ExpressionAttributeValues: { ':u': userId },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return { heldBy: conditionFailure(error)?.['owner_id'] as string };
    }
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.tokenItem(userId, token, nowMs) }));
    await this.trim(userId, max);
    return {};
  }

  async openChallenge(token: DeviceToken, codeHash: string, nowMs: number, ttlMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ownerKey(token.token),
          UpdateExpression: 'SET challenge_hash = :h, challenge_expires_ms = :exp, challenge_platform = :p',
          ConditionExpression:
            'attribute_exists(owner_id) AND (attribute_not_exists(challenge_expires_ms) OR challenge_expires_ms <= :now)',
          ExpressionAttributeValues: { ':h': codeHash, ':exp': nowMs + ttlMs, ':p': token.platform, ':now': nowMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async answerChallenge(
    userId: string,
    token: string,
    codeHash: string,
    nowMs: number,
    max: number,
  ): Promise<{ previousOwner: string; platform: string } | undefined> {
    const owner = (
      await this.db.send(new GetCommand({ TableName: this.tableName, Key: ownerKey(token), ConsistentRead: true }))
    ).Item;
    if (!owner || owner['challenge_hash'] !== codeHash || (owner['challenge_expires_ms'] as number) <= nowMs)
      return undefined;
    const previousOwner = owner['owner_id'] as string;
    const platform = owner['challenge_platform'] as string;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: ownerKey(token),
                UpdateExpression: 'SET owner_id = :u REMOVE challenge_hash, challenge_expires_ms, challenge_platform',
                ConditionExpression: 'owner_id = :prev AND challenge_hash = :h',
                ExpressionAttributeValues: { ':u': userId, ':prev': previousOwner, ':h': codeHash },
              },
            },
            ...(previousOwner === userId
              ? []
              : [
                  {
                    Delete: { TableName: this.tableName, Key: { user_id: previousOwner, token_key: tokenKey(token) } },
                  },
                ]),
            { Put: { TableName: this.tableName, Item: this.tokenItem(userId, { token, platform }, nowMs) } },
          ],
        }),
      );
    } catch (error) {
      // Another answer or registration changed the owner item since it was read: this answer is void.
      if ((error as Error).name === 'TransactionCanceledException') return undefined;
      throw error;
    }
    await this.trim(userId, max);
    return { previousOwner, platform };
  }

  private tokenItem(userId: string, token: DeviceToken, nowMs: number): Record<string, unknown> {
    return {
      user_id: userId,
      token_key: tokenKey(token.token),
      token: token.token,
      platform: token.platform,
      ...(token.deviceId === undefined ? {} : { device_id: token.deviceId }),
      updated_at: nowMs,
    };
  }

  /** Drops the user's oldest tokens past `max` (and their owner items). */
  private async trim(userId: string, max: number): Promise<void> {
    const held: { token: string; updatedAt: number }[] = [];
    for await (const item of this.tokenItems(userId, ['token', 'updated_at']))
      held.push({ token: item['token'] as string, updatedAt: item['updated_at'] as number });
    const stale = held.sort((a, b) => b.updatedAt - a.updatedAt).slice(max);
    if (stale.length === 0) return;
    await batchWriteAll(
      this.db,
      this.tableName,
      stale.flatMap((t) => [
        { DeleteRequest: { Key: { user_id: userId, token_key: tokenKey(t.token) } } },
        { DeleteRequest: { Key: ownerKey(t.token) } },
      ]),
    );
  }

  async unregister(userId: string, token: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { user_id: userId, token_key: tokenKey(token) } }),
    );
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
    for await (const item of this.tokenItems(userId, ['token', 'platform', 'device_id'])) {
      const deviceId = item['device_id'] as string | undefined;
      tokens.push({
        token: item['token'] as string,
        platform: item['platform'] as string,
        ...(deviceId ? { deviceId } : {}),
      });
    }
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
