/**
 * DeviceTokens table: one item per user with a map of its push tokens (token → platform and time), so the tokens of
 * many offline receivers are one BatchGetItem per 100 users. A user keeps its 10 newest tokens.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeviceToken } from '../domain/push.js';
import type { DeviceTokenStore } from '../ports.js';
import { batchGetAll } from './batch.js';

const MAX_TOKENS_PER_USER = 10;

interface StoredToken {
  platform: string;
  updated_at: number;
}

export class DeviceTokenTable implements DeviceTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async register(userId: string, token: DeviceToken, nowMs: number): Promise<void> {
    // Tokens are opaque provider strings; the map key is an attribute name placeholder, so any characters are safe.
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        UpdateExpression: 'SET tokens = if_not_exists(tokens, :empty), updated_at = :now',
        ExpressionAttributeValues: { ':empty': {}, ':now': nowMs },
      }),
    );
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: userId },
        UpdateExpression: 'SET tokens.#t = :v',
        ExpressionAttributeNames: { '#t': token.token },
        ExpressionAttributeValues: { ':v': { platform: token.platform, updated_at: nowMs } satisfies StoredToken },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const tokens = (result.Attributes?.['tokens'] ?? {}) as Record<string, StoredToken>;
    const stale = Object.entries(tokens)
      .sort(([, a], [, b]) => b.updated_at - a.updated_at)
      .slice(MAX_TOKENS_PER_USER)
      .map(([t]) => t);
    if (stale.length > 0) {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId },
          UpdateExpression: `REMOVE ${stale.map((_, i) => `tokens.#s${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(stale.map((t, i) => [`#s${i}`, t])),
        }),
      );
    }
  }

  async tokensOf(userIds: readonly string[]): Promise<Map<string, DeviceToken[]>> {
    const items = await batchGetAll(this.db, this.tableName, [...new Set(userIds)].map((u) => ({ user_id: u })));
    return new Map(
      items.map((item) => {
        const tokens = (item['tokens'] ?? {}) as Record<string, StoredToken>;
        return [item['user_id'] as string, Object.entries(tokens).map(([token, t]) => ({ token, platform: t.platform }))];
      }),
    );
  }

}
