/** Sessions table: a user's session rows (PK user_id, SK `${session_type}#${session_id}`). */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SessionStore } from '../ports.js';
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
}
