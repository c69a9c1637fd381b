/**
 * Blocks (docs/protocol.md "Block"), kept in two places written together by one transaction:
 * - the Blocks table (PK user_id, SK entry): under the blocker `out#<blocked>` (block_list pages through them) and a
 *   `count` item (the cap, a conditional counter); under the blocked user `in#<blocker>`, the reverse index, so "who
 *   blocks the sender" is one Query per group message instead of one read per member;
 * - the pair's conversation head (Conversations): `block_lo` / `block_hi` when the lower / higher user id blocks the
 *   other. The counter UpdateItem every one-to-one send makes is conditional on neither being there, so refusing a
 *   send to or from a blocked user costs no read at all (core/store/conversations.ts), and "is this pair blocked
 *   either way" is one GetItem of the head.
 * A block is 4 transactional writes (8 write units); an unblock the same. Items are a user id each (< 200 bytes).
 */
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { sideOf, singleConversationId } from '../domain/ids.js';
import type { BlockStore, BlockOutcome } from '../ports/stores.js';
import { batchGetAll } from './batch.js';

const OUT = 'out#';
const IN = 'in#';
const COUNT = 'count';

/** The head attribute saying that `blocker` blocks the other user of its pair. */
export const blockAttribute = (blocker: string, blocked: string) => `block_${sideOf(blocker, blocked)}`;

export class BlockTable implements BlockStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly blocksTable: string,
    private readonly conversationsTable: string,
  ) {}

  async block(blocker: string, blocked: string, max: number): Promise<BlockOutcome> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.blocksTable,
                Item: { user_id: blocker, entry: OUT + blocked },
                ConditionExpression: 'attribute_not_exists(entry)',
              },
            },
            { Put: { TableName: this.blocksTable, Item: { user_id: blocked, entry: IN + blocker } } },
            {
              Update: {
                TableName: this.blocksTable,
                Key: { user_id: blocker, entry: COUNT },
                UpdateExpression: 'ADD n :one',
                ConditionExpression: 'attribute_not_exists(n) OR n < :max',
                ExpressionAttributeValues: { ':one': 1, ':max': max },
              },
            },
            this.headUpdate(blocker, blocked, 'SET #b = :t', { ':t': true }),
          ],
        }),
      );
      return 'blocked';
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons?.[0] === 'ConditionalCheckFailed') return 'already';
      if (reasons?.[2] === 'ConditionalCheckFailed') return 'limit';
      throw error;
    }
  }

  async unblock(blocker: string, blocked: string): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.blocksTable,
                Key: { user_id: blocker, entry: OUT + blocked },
                ConditionExpression: 'attribute_exists(entry)',
              },
            },
            { Delete: { TableName: this.blocksTable, Key: { user_id: blocked, entry: IN + blocker } } },
            {
              Update: {
                TableName: this.blocksTable,
                Key: { user_id: blocker, entry: COUNT },
                UpdateExpression: 'ADD n :minus',
                ExpressionAttributeValues: { ':minus': -1 },
              },
            },
            this.headUpdate(blocker, blocked, 'REMOVE #b'),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  async list(blocker: string, after: string | undefined, limit: number): Promise<{ userIds: string[]; more: boolean }> {
    const result: QueryCommandOutput = await this.db.send(
      new QueryCommand({
        TableName: this.blocksTable,
        KeyConditionExpression: 'user_id = :u AND begins_with(entry, :out)',
        ExpressionAttributeValues: { ':u': blocker, ':out': OUT },
        ...(after === undefined ? {} : { ExclusiveStartKey: { user_id: blocker, entry: OUT + after } }),
        Limit: limit,
      }),
    );
    const userIds = (result.Items ?? []).map((item) => (item['entry'] as string).slice(OUT.length));
    return { userIds, more: result.LastEvaluatedKey !== undefined };
  }

  async isBlockedEitherWay(a: string, b: string): Promise<boolean> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.conversationsTable,
        Key: { conversation_id: singleConversationId(a, b) },
        ProjectionExpression: 'block_lo, block_hi',
        ConsistentRead: true,
      }),
    );
    return isBlockedHead(result.Item);
  }

  async blockedConversations(conversationIds: readonly string[]): Promise<Set<string>> {
    if (conversationIds.length === 0) return new Set();
    const keys = [...new Set(conversationIds)].map((id) => ({ conversation_id: id }));
    const heads = await batchGetAll(this.db, this.conversationsTable, keys, {
      consistent: true,
      projection: 'conversation_id, block_lo, block_hi',
    });
    return new Set(heads.filter(isBlockedHead).map((head) => head['conversation_id'] as string));
  }

  async blockersAmong(userId: string, candidates: readonly string[]): Promise<Set<string>> {
    const wanted = new Set(candidates);
    wanted.delete(userId);
    if (wanted.size === 0) return new Set();
    // One page of the reverse index, at most as long as the candidates: a user blocked by more people than that is
    // checked from the candidates' side instead, so the cost is bounded by the candidates (a group's members) either way.
    const page: QueryCommandOutput = await this.db.send(
      new QueryCommand({
        TableName: this.blocksTable,
        KeyConditionExpression: 'user_id = :u AND begins_with(entry, :in)',
        ExpressionAttributeValues: { ':u': userId, ':in': IN },
        ConsistentRead: true,
        Limit: wanted.size,
      }),
    );
    if (page.LastEvaluatedKey === undefined) {
      const blockers = (page.Items ?? []).map((item) => (item['entry'] as string).slice(IN.length));
      return new Set(blockers.filter((b) => wanted.has(b)));
    }
    const keys = [...wanted].map((candidate) => ({ user_id: candidate, entry: OUT + userId }));
    const items = await batchGetAll(this.db, this.blocksTable, keys, { consistent: true, projection: 'user_id' });
    return new Set(items.map((item) => item['user_id'] as string));
  }

  async blockedAmong(userId: string, others: readonly string[]): Promise<Set<string>> {
    const keys = [...new Set(others)].filter((o) => o !== userId).map((o) => ({ user_id: userId, entry: OUT + o }));
    if (keys.length === 0) return new Set();
    const items = await batchGetAll(this.db, this.blocksTable, keys, { projection: 'entry' });
    return new Set(items.map((item) => (item['entry'] as string).slice(OUT.length)));
  }

  private headUpdate(blocker: string, blocked: string, expression: string, values?: Record<string, unknown>) {
    return {
      Update: {
        TableName: this.conversationsTable,
        Key: { conversation_id: singleConversationId(blocker, blocked) },
        UpdateExpression: expression,
        ExpressionAttributeNames: { '#b': blockAttribute(blocker, blocked) },
        ...(values ? { ExpressionAttributeValues: values } : {}),
      },
    };
  }
}

function isBlockedHead(head: Record<string, unknown> | undefined): boolean {
  return head?.['block_lo'] === true || head?.['block_hi'] === true;
}

/** The per-item reasons of a cancelled transaction (`None` for an item that did not fail); undefined for any other error. */
function cancellationReasons(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  return ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code);
}
