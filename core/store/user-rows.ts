/**
 * A user's partition of the Sessions table, whole: session rows (`1#…`, `2#…`: the conversations the user is in,
 * with its read marks), attachment references (`a#…`), session index entries (`d#…`), groups it left (`l#…`:
 * conversations it may have written in), quota rows (`q#…`) and export claims, in sort key order
 * (core/store/sessions.ts). The account export reads it all, bounded by its limit; the deletion job empties it, always
 * taking the first rows left, so a crashed page leaves nothing behind and a page run twice finds its work done.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { UserRow, UserRowStore } from '../ports/accounts.js';
import type { UserRowReader } from '../ports/moderation.js';
import { batchWriteAll, queryPages } from './batch.js';

const SESSION_KEY = /^([12])#(.+)$/;
/** A group left earlier (core/store/sessions.ts leftGroupKey): its messages are tombstoned, there is nothing to leave. */
const LEFT_GROUP_KEY = /^l#(.+)$/;

export class UserRowTable implements UserRowStore, UserRowReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listAll(userId: string, limit: number): Promise<{ rows: Record<string, unknown>[]; truncated: boolean }> {
    const rows: Record<string, unknown>[] = [];
    for await (const page of queryPages(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': userId },
      ConsistentRead: true,
    })) {
      rows.push(...page);
      if (rows.length > limit) return { rows: rows.slice(0, limit), truncated: true };
    }
    return { rows, truncated: false };
  }

  async first(userId: string, limit: number): Promise<UserRow[]> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'user_id = :u',
        ExpressionAttributeValues: { ':u': userId },
        ProjectionExpression: 'session_key, conversation_id',
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map(toRow);
  }

  async delete(userId: string, sessionKeys: readonly string[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      sessionKeys.map((key) => ({ DeleteRequest: { Key: { user_id: userId, session_key: key } } })),
    );
  }
}

function toRow(item: Record<string, unknown>): UserRow {
  const sessionKey = item['session_key'] as string;
  const conversationId = item['conversation_id'];
  if (typeof conversationId !== 'string') return { sessionKey };
  const session = SESSION_KEY.exec(sessionKey);
  if (session)
    return { sessionKey, session: { sessionType: Number(session[1]), sessionId: session[2]!, conversationId } };
  const left = LEFT_GROUP_KEY.exec(sessionKey);
  if (left) return { sessionKey, session: { sessionType: 2, sessionId: left[1]!, conversationId, left: true } };
  return { sessionKey };
}
