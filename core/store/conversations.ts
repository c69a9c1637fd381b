/**
 * Conversations table: one head item per conversation holding its msg_id counter (TeamTalk's redis
 * `INCR msg_id_<relateId>`, but durable), the messages each side has sent, the time of the last message, and a ring of
 * the sends numbered last.
 *
 * The ring makes a racing duplicate cost nothing: its RING_SLOTS slots are picked by the idempotency key's tag, and
 * the counter UpdateItem is conditional on the key's tag not being in its slot. A duplicate that races the first
 * attempt (or a prompt resend) fails the condition, takes no msg_id, and reads the first attempt's numbering from the
 * item DynamoDB returns with the failure (ReturnValuesOnConditionCheckFailure ALL_OLD): one write, no read. The head
 * stays under 1 KB (one write unit) with 8 slots. A resend long after, when another key has taken its slot, is caught
 * by the SentMessages claim instead (core/store/sent-messages.ts).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IDEMPOTENCY_WINDOW_SECONDS, type IdempotencyKey } from '../domain/idempotency.js';
import type { ConversationHead } from '../domain/session.js';
import type { ConversationStore } from '../ports/stores.js';
import type { NumberingResult, RingEntry } from '../domain/numbering.js';
import { batchGetAll } from './batch.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

/** Slots of the ring of recent sends on a head. */
export const RING_SLOTS = 8;

/** The slot a key's tag picks (its first character, base64url, spread over the slots). */
export function ringSlot(tag: string): number {
  return tag.charCodeAt(0) % RING_SLOTS;
}

export class ConversationTable implements ConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async nextMsgId(input: {
    conversationId: string;
    senderSide: 'lo' | 'hi' | undefined;
    nowSeconds: number;
    key?: IdempotencyKey;
  }): Promise<NumberingResult> {
    const { senderSide, key } = input;
    // Every operand reads the item as it was before this update, so `last + 1` is the new msg_id everywhere.
    const next = 'if_not_exists(last_msg_id, :zero) + :one';
    const count = (side: 'lo' | 'hi') =>
      side === senderSide ? `if_not_exists(sent_${side}, :zero) + :one` : `if_not_exists(sent_${side}, :zero)`;
    const sets = [`last_msg_id = ${next}`, 'updated_time = :now'];
    if (senderSide) sets.push(`sent_${senderSide} = ${count(senderSide)}`);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':zero': 0, ':one': 1, ':now': input.nowSeconds };
    if (key) {
      const slot = ringSlot(key.tag);
      Object.assign(names, {
        '#rk': `rk${slot}`,
        '#rm': `rm${slot}`,
        '#rl': `rl${slot}`,
        '#rh': `rh${slot}`,
        '#rt': `rt${slot}`,
      });
      sets.push('#rk = :tag', `#rm = ${next}`, `#rl = ${count('lo')}`, `#rh = ${count('hi')}`, '#rt = :now');
      values[':tag'] = key.tag;
      values[':expired'] = input.nowSeconds - IDEMPOTENCY_WINDOW_SECONDS;
    }
    // A blocked pair (core/store/blocks.ts) takes no msg_id: the block is on this item, so checking it costs nothing.
    const conditions = senderSide ? ['attribute_not_exists(block_lo) AND attribute_not_exists(block_hi)'] : [];
    // A slot older than the idempotency window holds no key any more.
    if (key) conditions.push('(attribute_not_exists(#rk) OR #rk <> :tag OR #rt < :expired)');
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { conversation_id: input.conversationId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ...(key ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const head = result.Attributes ?? {};
      return {
        kind: 'numbered',
        counter: {
          msgId: head['last_msg_id'] as number,
          sentLo: (head['sent_lo'] as number | undefined) ?? 0,
          sentHi: (head['sent_hi'] as number | undefined) ?? 0,
          sessionsCreated: head['sessions_created'] === true,
          indexedDay: (head['indexed_day'] as number | undefined) ?? 0,
        },
      };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const old = conditionFailure(error) ?? {};
      if (old['block_lo'] === true || old['block_hi'] === true) return { kind: 'blocked' };
      if (!key) throw error;
      const slot = ringSlot(key.tag);
      return {
        kind: 'seen',
        previous: {
          msgId: old[`rm${slot}`] as number,
          sentLo: (old[`rl${slot}`] as number | undefined) ?? 0,
          sentHi: (old[`rh${slot}`] as number | undefined) ?? 0,
          createTime: old[`rt${slot}`] as number,
        } satisfies RingEntry,
      };
    }
  }

  async markSessionsCreated(conversationId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { conversation_id: conversationId },
        UpdateExpression: 'SET sessions_created = :yes',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  async markIndexed(conversationId: string, day: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { conversation_id: conversationId },
          UpdateExpression: 'SET indexed_day = :day',
          ConditionExpression: 'attribute_not_exists(indexed_day) OR indexed_day < :day',
          ExpressionAttributeValues: { ':day': day },
        }),
      );
    } catch (error) {
      // A later day is recorded already: nothing to do.
      if (!isConditionFailed(error)) throw error;
    }
  }

  async get(conversationId: string): Promise<ConversationHead | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { conversation_id: conversationId }, ConsistentRead: true }),
    );
    return result.Item ? toHead(result.Item) : undefined;
  }

  /** Heads by conversation id (strongly consistent: the read side reports counters acked messages moved). */
  async getMany(conversationIds: readonly string[]): Promise<Map<string, ConversationHead>> {
    const keys = [...new Set(conversationIds)].map((id) => ({ conversation_id: id }));
    const items = await batchGetAll(this.db, this.tableName, keys, { consistent: true, projection: HEAD_PROJECTION });
    return new Map(items.map((item) => [item['conversation_id'] as string, toHead(item)]));
  }
}

/** The head without its ring: what the read side needs. */
const HEAD_PROJECTION = 'conversation_id, last_msg_id, sent_lo, sent_hi, updated_time, indexed_day';

function toHead(item: Record<string, unknown>): ConversationHead {
  return {
    conversationId: item['conversation_id'] as string,
    lastMsgId: (item['last_msg_id'] as number | undefined) ?? 0,
    sentLo: (item['sent_lo'] as number | undefined) ?? 0,
    sentHi: (item['sent_hi'] as number | undefined) ?? 0,
    updatedTime: (item['updated_time'] as number | undefined) ?? 0,
    indexedDay: (item['indexed_day'] as number | undefined) ?? 0,
  };
}
