/**
 * The APNs provider token shared by every push sender instance, in one DeviceTokens item under `~apns` (no user id
 * contains `~`, as with the owner items). Apple answers TooManyProviderTokenUpdates when one team's token changes
 * more often than every 20 minutes, which separate Lambda instances each signing their own would do: so an instance
 * takes the stored token while it is fresh, and a renewal is a conditional put on the issue time it replaces — of
 * racing instances one wins, and the others get the winner's token back in the same call (ALL_OLD on failure).
 * The item is a bearer token valid for an hour, never the signing key.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProviderToken, ProviderTokenStore } from '../ports/push.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

const KEY = { user_id: '~apns', token_key: 'provider-token' };

export class SharedProviderTokenTable implements ProviderTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async current(): Promise<ProviderToken | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }));
    return Item ? { jwt: Item['jwt'] as string, issuedAtMs: Item['issued_at'] as number } : undefined;
  }

  async replace(next: ProviderToken, previousIssuedAtMs: number | undefined): Promise<ProviderToken> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEY, jwt: next.jwt, issued_at: next.issuedAtMs },
          ...(previousIssuedAtMs === undefined
            ? { ConditionExpression: 'attribute_not_exists(user_id)' }
            : {
                ConditionExpression: 'issued_at = :previous',
                ExpressionAttributeValues: { ':previous': previousIssuedAtMs },
              }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return next;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const winner = conditionFailure(error);
      if (winner && typeof winner['jwt'] === 'string')
        return { jwt: winner['jwt'], issuedAtMs: winner['issued_at'] as number };
      return (await this.current()) ?? next;
    }
  }
}
