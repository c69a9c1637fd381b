/**
 * Sessions table, one partition per user (PK user_id) holding three kinds of rows, told apart by the sort key:
 * - session rows, SK `${session_type}#${session_id}` (TeamTalk IMRecentSession): read mark, hidden mark;
 * - session index entries, SK `d#${day}#${session_type}#${session_id}`: the conversation was active on that unix day.
 *   One entry per session (the previous day's is removed when a new day's is written), written by the first message
 *   of a day in the conversation, not by every message: a page of recent_sessions or unread_cnt reads the newest
 *   days' entries and about a page of sessions, whatever the user has accumulated (issue: bounded work per frame);
 * - the quota row, SK `q#counters`: groups owned and joined, counted atomically against their caps;
 * - a group the user left, SK `l#<group id>`: the account deletion job tombstones the user's messages there too;
 * - attachment references and byte quota periods (SK `a#…`, `q#attachments#…`): core/store/attachment-records.ts.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { forEachWithConcurrency } from '../concurrency.js';
import type { SessionRow, SessionIndexEntry } from '../domain/session.js';
import type { SessionStore, UserQuotaStore } from '../ports/stores.js';
import { batchGetAll, batchWriteAll, queryPages } from './batch.js';
import { isConditionFailed } from './document-client.js';

export function sessionKey(sessionType: number, sessionId: string): string {
  return `${sessionType}#${sessionId}`;
}

const INDEX_PREFIX = 'd#';
/** A group the user left: its messages may still be the user's (core/store/user-rows.ts reads it). */
export const leftGroupKey = (groupId: string) => `l#${groupId}`;
const QUOTA_KEY = 'q#counters';
/** Days as 6 digits, so the string order of the sort key is the day order (day 999999 is in the year 4707). */
const dayKey = (day: number) => `${INDEX_PREFIX}${String(day).padStart(6, '0')}`;
const indexKey = (day: number, sessionType: number, sessionId: string) =>
  `${dayKey(day)}#${sessionKey(sessionType, sessionId)}`;

export class SessionTable implements SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async ensure(session: {
    userId: string;
    sessionType: number;
    sessionId: string;
    conversationId: string;
    createdTime: number;
  }): Promise<void> {
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
      rows.map((row) => ({
        DeleteRequest: { Key: { user_id: row.userId, session_key: sessionKey(row.sessionType, row.sessionId) } },
      })),
    );
  }

  async recordLeftGroup(userIds: readonly string[], groupId: string, conversationId: string): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      userIds.map((userId) => ({
        PutRequest: { Item: { user_id: userId, session_key: leftGroupKey(groupId), conversation_id: conversationId } },
      })),
    );
  }

  async get(userId: string, sessionType: number, sessionId: string): Promise<SessionRow | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { user_id: userId, session_key: sessionKey(sessionType, sessionId) },
        ConsistentRead: true,
      }),
    );
    return result.Item ? toSession(result.Item) : undefined;
  }

  async getMany(keys: readonly { userId: string; sessionType: number; sessionId: string }[]): Promise<SessionRow[]> {
    const unique = new Map(keys.map((k) => [`${k.userId}\u0000${sessionKey(k.sessionType, k.sessionId)}`, k]));
    const items = await batchGetAll(
      this.db,
      this.tableName,
      [...unique.values()].map((k) => ({ user_id: k.userId, session_key: sessionKey(k.sessionType, k.sessionId) })),
      { consistent: true },
    );
    return items.map(toSession);
  }

  async listByType(
    userId: string,
    sessionType: number,
    page: { after?: string; limit: number },
  ): Promise<{ rows: SessionRow[]; more: boolean }> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'user_id = :u AND begins_with(session_key, :type)',
        ExpressionAttributeValues: { ':u': userId, ':type': `${sessionType}#` },
        ...(page.after === undefined
          ? {}
          : { ExclusiveStartKey: { user_id: userId, session_key: sessionKey(sessionType, page.after) } }),
        Limit: page.limit,
        ConsistentRead: true,
      }),
    );
    return { rows: (result.Items ?? []).map(toSession), more: result.LastEvaluatedKey !== undefined };
  }

  /** Moves the read mark forward to msgId, never back; false when it already was there or further. */
  async markRead(
    row: Pick<SessionRow, 'userId' | 'sessionType' | 'sessionId'>,
    msgId: number,
    peerCount: number,
  ): Promise<boolean> {
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

  async index(entries: readonly Omit<SessionIndexEntry, 'day'>[], day: number, previousDay: number): Promise<void> {
    const writes = entries.flatMap((e) => [
      {
        PutRequest: {
          Item: {
            user_id: e.userId,
            session_key: indexKey(day, e.sessionType, e.sessionId),
            session_type: e.sessionType,
            session_id: e.sessionId,
            conversation_id: e.conversationId,
            day,
          },
        },
      },
      ...(previousDay > 0 && previousDay < day
        ? [
            {
              DeleteRequest: {
                Key: { user_id: e.userId, session_key: indexKey(previousDay, e.sessionType, e.sessionId) },
              },
            },
          ]
        : []),
    ]);
    await batchWriteAll(this.db, this.tableName, writes);
  }

  async unindex(entries: readonly SessionIndexEntry[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      entries.map((e) => ({
        DeleteRequest: { Key: { user_id: e.userId, session_key: indexKey(e.day, e.sessionType, e.sessionId) } },
      })),
    );
  }

  async listIndex(
    userId: string,
    options: { fromDay: number; toDay?: number; limit: number },
  ): Promise<{ entries: SessionIndexEntry[]; more: boolean }> {
    const entries: SessionIndexEntry[] = [];
    const upper = options.toDay === undefined ? `${INDEX_PREFIX}~` : `${dayKey(options.toDay)}#~`;
    for await (const page of queryPages(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'user_id = :u AND session_key BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':u': userId, ':lo': dayKey(options.fromDay), ':hi': upper },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: Math.max(options.limit, 25),
    })) {
      for (const item of page) {
        const entry = toIndexEntry(item);
        // Whole days only: past the limit, stop where a new (older) day begins.
        const lastDay = entries.at(-1)?.day;
        if (entries.length >= options.limit && lastDay !== undefined && entry.day !== lastDay)
          return { entries, more: true };
        entries.push(entry);
      }
    }
    return { entries, more: false };
  }
}

/** The quota row in the user's Sessions partition. */
export class UserQuotaTable implements UserQuotaStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async reserve(userId: string, counter: string, max: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId, session_key: QUOTA_KEY },
          UpdateExpression: 'ADD #c :one',
          ConditionExpression: 'attribute_not_exists(#c) OR #c < :max',
          ExpressionAttributeNames: { '#c': counter },
          ExpressionAttributeValues: { ':one': 1, ':max': max },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private async release(userId: string, counter: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId, session_key: QUOTA_KEY },
          UpdateExpression: 'ADD #c :minus',
          ConditionExpression: '#c > :zero',
          ExpressionAttributeNames: { '#c': counter },
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  reserveOwnedGroup(userId: string, max: number): Promise<boolean> {
    return this.reserve(userId, 'groups_owned', max);
  }

  releaseOwnedGroup(userId: string): Promise<void> {
    return this.release(userId, 'groups_owned');
  }

  async reserveJoinedGroups(userIds: readonly string[], max: number): Promise<{ refused: string[] }> {
    const reserved: string[] = [];
    const refused: string[] = [];
    await forEachWithConcurrency(userIds, QUOTA_CONCURRENCY, async (userId) => {
      if (await this.reserve(userId, 'groups_joined', max)) reserved.push(userId);
      else refused.push(userId);
    });
    // All or nothing: a change that would put one user past the cap changes nobody's count.
    if (refused.length > 0) await this.releaseJoinedGroups(reserved);
    return { refused };
  }

  async releaseJoinedGroups(userIds: readonly string[]): Promise<void> {
    await forEachWithConcurrency(userIds, QUOTA_CONCURRENCY, (userId) => this.release(userId, 'groups_joined'));
  }
}

const QUOTA_CONCURRENCY = 16;

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

function toIndexEntry(item: Record<string, unknown>): SessionIndexEntry {
  return {
    userId: item['user_id'] as string,
    sessionType: item['session_type'] as number,
    sessionId: item['session_id'] as string,
    conversationId: item['conversation_id'] as string,
    day: item['day'] as number,
  };
}
