/** Sessions table: a user's session rows (PK user_id, SK `${session_type}#${session_id}`). */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SessionRow } from '../domain/session.js';
import type { SessionStore } from '../ports.js';
import { batchWriteAll, queryAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

export function sessionKey(sessionType: number, sessionId: string): string {
  return `${sessionType}#${sessionId}`;
}

export class SessionTable implements SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async ensure(session: { userId: string; sessionType: number; sessionId: string; conversationId: string; createdTime: number }): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            user_id: session.userId,
            session_key: sessionKey(session.sessionType, session.sessionId),
            session_type: session.sessionType,
            session_id: session.sessionId,
            conversation_id: session.conversationId,
            created_time: session.createdTime,
          },
          ConditionExpression: 'attribute_not_exists(user_id)',
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /**
   * Writes new session rows in batches, unconditionally: for group members, whose rows are created on joining
   * (read mark at the group's last msg_id then) and deleted on leaving.
   */
  async putMany(rows: readonly Omit<SessionRow, 'readPeerCount' | 'hiddenAtMsgId'>[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      rows.map((row) => ({
        PutRequest: {
          Item: {
            user_id: row.userId,
            session_key: sessionKey(row.sessionType, row.sessionId),
            session_type: row.sessionType,
            session_id: row.sessionId,
            conversation_id: row.conversationId,
            created_time: row.createdTime,
            read_msg_id: row.readMsgId,
          },
        },
      })),
    );
  }

  async deleteMany(rows: readonly Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      rows.map((row) => ({ DeleteRequest: { Key: { user_id: row.userId, session_key: sessionKey(row.sessionType, row.sessionId) } } })),
    );
  }

  async get(userId: string, sessionType: number, sessionId: string): Promise<SessionRow | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { user_id: userId, session_key: sessionKey(sessionType, sessionId) }, ConsistentRead: true }),
    );
    return result.Item ? toSession(result.Item) : undefined;
  }

  /** Every session row of a user (one Query, paginated past 1 MB). */
  async listByUser(userId: string): Promise<SessionRow[]> {
    const rows: SessionRow[] = [];
    for await (const item of queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': userId },
      ConsistentRead: true,
    })) {
      rows.push(toSession(item));
    }
    return rows;
  }

  /** Moves the read mark forward to msgId, never back; false when it already was there or further. */
  async markRead(row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>, msgId: number, peerCount: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: row.userId, session_key: sessionKey(row.sessionType, row.sessionId) },
          UpdateExpression: 'SET read_msg_id = :m, read_peer_count = :c',
          ConditionExpression: 'attribute_exists(user_id) AND (attribute_not_exists(read_msg_id) OR read_msg_id < :m)',
          ExpressionAttributeValues: { ':m': msgId, ':c': peerCount },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** Hides the session until a message after atMsgId arrives (remove_session). */
  async hide(row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>, atMsgId: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { user_id: row.userId, session_key: sessionKey(row.sessionType, row.sessionId) },
        UpdateExpression: 'SET hidden_at_msg_id = :m',
        ConditionExpression: 'attribute_exists(user_id)',
        ExpressionAttributeValues: { ':m': atMsgId },
      }),
    );
  }
}

function toSession(item: Record<string, unknown>): SessionRow {
  return {
    userId: item['user_id'] as string,
    sessionType: item['session_type'] as number,
    sessionId: item['session_id'] as string,
    conversationId: item['conversation_id'] as string,
    createdTime: item['created_time'] as number,
    readMsgId: (item['read_msg_id'] as number | undefined) ?? 0,
    readPeerCount: (item['read_peer_count'] as number | undefined) ?? 0,
    hiddenAtMsgId: (item['hidden_at_msg_id'] as number | undefined) ?? 0,
  };
}
