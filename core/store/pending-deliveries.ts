/**
 * PendingDeliveries table: the serverless m_send_msg_list. A row is one unacked delivery of one message to one
 * connection.
 *
 * Keys: PK `slot` = `${minute the message was created}#${shard}`, SK `delivery_key` =
 * `${connectionId}#${conversationId}#${msgId}`. Because the slot follows from the message's create_time, the ack
 * handler can compute the key from (its connection, the message) and delete with one DeleteItem, and the sweeper
 * finds overdue rows by querying only the few minute-slots that can still hold live deliveries: its reads grow
 * with recent pending rows, never with the table. No GSI, so a delivery costs one write to record and one to ack.
 */
import {
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { PendingDelivery, PendingStore } from '../ports.js';
import { batchWriteAll, queryAll } from './batch.js';
import { isConditionFailed } from './document-client.js';

const SLOT_SECONDS = 60;
/** Rows that outlive every sweep (a sweeper outage) are removed by TTL a day later; the message stays stored. */
const ROW_TTL_SECONDS = 24 * 60 * 60;

export interface PendingSlotOptions {
  readonly ackTimeoutMs: number;
  readonly maxDeliveryAttempts: number;
  readonly sweepIntervalMs: number;
  /** Partitions per slot. */
  readonly shards: number;
}

/**
 * How long after its message's creation a delivery can still be pending: every attempt waits the ack timeout and
 * at most one sweep interval, plus a minute of slack for clock skew between instances.
 */
export function pendingHorizonMs(options: PendingSlotOptions): number {
  return options.maxDeliveryAttempts * (options.ackTimeoutMs + options.sweepIntervalMs) + SLOT_SECONDS * 1000;
}

export function slotStart(createTimeSeconds: number): number {
  return Math.floor(createTimeSeconds / SLOT_SECONDS) * SLOT_SECONDS;
}

/** FNV-1a of the connection id: spreads connections over shards, stable across instances. */
export function shardOf(connectionId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < connectionId.length; i++) {
    hash ^= connectionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** Slot starts (unix seconds) from `fromMs` to `toMs`, both included. */
function slotsBetween(fromMs: number, toMs: number): number[] {
  const slots: number[] = [];
  for (let s = slotStart(Math.floor(fromMs / 1000)); s <= slotStart(Math.floor(toMs / 1000)); s += SLOT_SECONDS) slots.push(s);
  return slots;
}

interface DeliveryKey {
  connectionId: string;
  conversationId: string;
  msgId: number;
  createTime: number;
}

export class PendingDeliveryTable implements PendingStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: PendingSlotOptions,
  ) {}

  private key(delivery: DeliveryKey): { slot: string; delivery_key: string } {
    return {
      slot: `${slotStart(delivery.createTime)}#${shardOf(delivery.connectionId, this.options.shards)}`,
      delivery_key: `${delivery.connectionId}#${delivery.conversationId}#${delivery.msgId}`,
    };
  }

  async put(delivery: PendingDelivery): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(delivery),
          connection_id: delivery.connectionId,
          user_id: delivery.userId,
          conversation_id: delivery.conversationId,
          msg_id: delivery.msgId,
          create_time: delivery.createTime,
          attempts: delivery.attempts,
          next_due_at: delivery.nextDueAt,
          expires_at: delivery.createTime + ROW_TTL_SECONDS,
        },
      }),
    );
  }

  async delete(key: DeliveryKey): Promise<PendingDelivery | undefined> {
    const result = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.key(key), ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes ? toDelivery(result.Attributes) : undefined;
  }

  async listOverdue(nowMs: number): Promise<PendingDelivery[]> {
    const overdue: PendingDelivery[] = [];
    // A row cannot be overdue before its first ack timeout has passed, so the newest slots are skipped.
    for (const slot of slotsBetween(nowMs - pendingHorizonMs(this.options), nowMs - this.options.ackTimeoutMs)) {
      for (let shard = 0; shard < this.options.shards; shard++) {
        for await (const item of this.query({
          KeyConditionExpression: 'slot = :slot',
          FilterExpression: 'next_due_at <= :now',
          ExpressionAttributeValues: { ':slot': `${slot}#${shard}`, ':now': nowMs },
        })) {
          overdue.push(toDelivery(item));
        }
      }
    }
    return overdue;
  }

  async recordAttempt(delivery: PendingDelivery, attempts: number, nextDueAt: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(delivery),
          UpdateExpression: 'SET attempts = :attempts, next_due_at = :due',
          // An ack that removed the row meanwhile must not be undone.
          ConditionExpression: 'attribute_exists(slot)',
          ExpressionAttributeValues: { ':attempts': attempts, ':due': nextDueAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async deleteByConnection(connectionId: string, nowMs: number): Promise<number> {
    const shard = shardOf(connectionId, this.options.shards);
    const keys: Record<string, unknown>[] = [];
    // Up to a minute ahead: the sender's clock may run ahead of ours.
    for (const slot of slotsBetween(nowMs - pendingHorizonMs(this.options), nowMs + SLOT_SECONDS * 1000)) {
      for await (const item of this.query({
        KeyConditionExpression: 'slot = :slot AND begins_with(delivery_key, :conn)',
        ExpressionAttributeValues: { ':slot': `${slot}#${shard}`, ':conn': `${connectionId}#` },
        ProjectionExpression: 'slot, delivery_key',
      })) {
        keys.push({ slot: item['slot'], delivery_key: item['delivery_key'] });
      }
    }
    await batchWriteAll(this.db, this.tableName, keys.map((Key) => ({ DeleteRequest: { Key } })));
    return keys.length;
  }

  private async *query(input: {
    KeyConditionExpression: string;
    FilterExpression?: string;
    ExpressionAttributeValues: Record<string, unknown>;
    ProjectionExpression?: string;
  }): AsyncGenerator<Record<string, unknown>> {
    yield* queryAll(this.db, { TableName: this.tableName, ...input });
  }
}

function toDelivery(item: Record<string, unknown>): PendingDelivery {
  return {
    connectionId: item['connection_id'] as string,
    userId: item['user_id'] as string,
    conversationId: item['conversation_id'] as string,
    msgId: item['msg_id'] as number,
    createTime: item['create_time'] as number,
    attempts: item['attempts'] as number,
    nextDueAt: item['next_due_at'] as number,
  };
}
