/** Connections table: one row per live connection under its user (PK user_id, SK connection_id). */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CONNECTION_ROW_TTL_SECONDS, type Connection } from '../domain/connection.js';
import type { ConnectionStore } from '../ports/stores.js';
import { queryAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

export class ConnectionTable implements ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(connection: Connection): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          user_id: connection.userId,
          connection_id: connection.connectionId,
          connected_at: connection.connectedAt,
          client_type: connection.clientType,
          token_expires_at: connection.tokenExpiresAt,
          expires_at: Math.floor(connection.connectedAt / 1000) + CONNECTION_ROW_TTL_SECONDS,
        },
      }),
    );
  }

  async delete(userId: string, connectionId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { user_id: userId, connection_id: connectionId } }),
    );
  }

  async deleteIfStartedBefore(userId: string, connectionId: string, startedBeforeMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { user_id: userId, connection_id: connectionId },
          ConditionExpression: 'attribute_not_exists(connected_at) OR connected_at < :before',
          ExpressionAttributeValues: { ':before': startedBeforeMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async listByUser(userId: string, nowMs: number): Promise<Connection[]> {
    const connections: Connection[] = [];
    const nowSeconds = Math.floor(nowMs / 1000);
    // Strongly consistent: a connection stored before its client could sync must be seen by any later send.
    for await (const item of queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': userId },
      ConsistentRead: true,
    })) {
      // TTL deletion lags: a row past its expiry is a connection API Gateway has already closed.
      if (typeof item['expires_at'] === 'number' && item['expires_at'] < nowSeconds) continue;
      connections.push({
        userId: item['user_id'] as string,
        connectionId: item['connection_id'] as string,
        connectedAt: item['connected_at'] as number,
        ...(typeof item['client_type'] === 'number' ? { clientType: item['client_type'] } : {}),
        ...(typeof item['token_expires_at'] === 'number' ? { tokenExpiresAt: item['token_expires_at'] } : {}),
      });
    }
    return connections;
  }
}
