/**
 * PendingDeliveries table: the serverless m_send_msg_list, and everything else the sweeper must act on when it comes
 * due. A row is one of:
 * - a delivery: one unacked delivery of one message to one connection;
 * - a fan-out marker: a group fan-out in progress, removed when it completes, resumed by the sweeper if it does not;
 * - a token expiry: a connection to close when its token expires.
 *
 * Keys: PK `slot` = `${minute}#${shard}`, SK `delivery_key` = `${connectionId}#${conversationId}#${msgId}` (a
 * delivery), `~fanout#${conversationId}#${msgId}` or `~expiry#${connectionId}`. A row lives in the slot of its slot
 * time: for a delivery made at once, the minute its message was created, so the ack handler can compute the key from
 * (its connection, the message) and delete with one DeleteItem; for a delivery made later (a resend finishing a
 * fan-out, a resumed fan-out), the minute it was made, so it stays inside what the sweeper reads — and a pointer to it
 * is left at the key a delivery made at once would have, so the ack still needs no search. The sweeper queries only
 * the few minute-slots that can still hold live rows: its reads grow with recent pending rows, never with the table;
 * an empty table (an idle deployment) costs it one read.
 * No GSI, so a delivery costs one write to record and one to ack (two each for the rare late one).
 */
import {
  DeleteCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  SLOT_SECONDS,
  type DeliveryKey,
  type DueItem,
  type FanoutMarker,
  type PendingDelivery,
  type TokenExpiry,
} from '../domain/pending-delivery.js';
import type { PendingStore } from '../ports/stores.js';
import { batchWriteAll, queryAll, queryPages } from './batch.js';
import { isConditionFailed } from './document-client.js';

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
 * How long after its slot time a row can still be due: every delivery attempt waits the ack timeout and at most one
 * sweep interval, plus a minute of slack for clock skew between instances.
 */
export function pendingHorizonMs(options: PendingSlotOptions): number {
  return options.maxDeliveryAttempts * (options.ackTimeoutMs + options.sweepIntervalMs) + SLOT_SECONDS * 1000;
}

export function slotStart(timeSeconds: number): number {
  return Math.floor(timeSeconds / SLOT_SECONDS) * SLOT_SECONDS;
}

/** FNV-1a of an id: spreads rows over shards, stable across instances. */
export function shardOf(id: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** Slot starts (unix seconds) from `fromMs` to `toMs`, both included. */
function slotsBetween(fromMs: number, toMs: number): number[] {
  const slots: number[] = [];
  for (let s = slotStart(Math.floor(fromMs / 1000)); s <= slotStart(Math.floor(toMs / 1000)); s += SLOT_SECONDS)
    slots.push(s);
  return slots;
}

const FANOUT_PREFIX = '~fanout#';
const EXPIRY_PREFIX = '~expiry#';

type RowKey = { slot: string; delivery_key: string };

export class PendingDeliveryTable implements PendingStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: PendingSlotOptions,
  ) {}

  private slot(slotTime: number, shardId: string): string {
    return `${slotStart(slotTime)}#${shardOf(shardId, this.options.shards)}`;
  }

  private keyOf(item: DueItem): RowKey {
    switch (item.kind) {
      case 'delivery':
        return {
          slot: item.storedSlot ?? this.slot(item.slotTime, item.connectionId),
          delivery_key: deliveryKey(item),
        };
      case 'fanout':
        return {
          slot: item.storedSlot ?? this.slot(item.slotTime, item.conversationId),
          delivery_key: `${FANOUT_PREFIX}${item.conversationId}#${item.msgId}`,
        };
      case 'expiry':
        return {
          slot: item.storedSlot ?? this.slot(item.slotTime, item.connectionId),
          delivery_key: `${EXPIRY_PREFIX}${item.connectionId}`,
        };
    }
  }

  /** A row written before `pendingShards` changed sits in another shard than the one computed now. */
  private misplaced(item: DueItem): boolean {
    return (
      item.storedSlot !== undefined &&
      item.storedSlot !== this.keyOf({ ...item, storedSlot: undefined } as DueItem).slot
    );
  }

  private item(row: DueItem): Record<string, unknown> {
    return { ...this.keyOf(row), ...toAttributes(row), expires_at: row.slotTime + ROW_TTL_SECONDS };
  }

  async putMany(deliveries: readonly PendingDelivery[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      deliveries.map((d) => ({ PutRequest: { Item: this.item(d) } })),
    );
  }

  async putIfAbsent(delivery: PendingDelivery): Promise<boolean> {
    const row = this.keyOf(delivery);
    const atOnce = { slot: this.slot(delivery.createTime, delivery.connectionId), delivery_key: deliveryKey(delivery) };
    const late = atOnce.slot !== row.slot;
    try {
      // A late delivery: claim the key a delivery made at once would have (absent, or a row made at once is there),
      // as a pointer to the row in the slot of its own time.
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: late
            ? { ...atOnce, moved_to_slot: row.slot, expires_at: delivery.slotTime + ROW_TTL_SECONDS }
            : this.item(delivery),
          ConditionExpression: 'attribute_not_exists(slot)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
    if (late) await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.item(delivery) }));
    return true;
  }

  async delete(key: DeliveryKey & { createTime: number }): Promise<PendingDelivery | undefined> {
    const removed = await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { slot: this.slot(key.createTime, key.connectionId), delivery_key: deliveryKey(key) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const item = removed.Attributes;
    if (!item) return undefined;
    if (typeof item['moved_to_slot'] !== 'string') return toDueItem(item) as PendingDelivery;
    // A pointer left by a late delivery: the row is in the slot of its own time.
    const moved = await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { slot: item['moved_to_slot'], delivery_key: deliveryKey(key) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return moved.Attributes ? (toDueItem(moved.Attributes) as PendingDelivery) : undefined;
  }

  /**
   * Leaves a pointer to a misplaced row at the key the ack computes now (the row stays where it is: moving it would
   * race the ack), as a late delivery does; one write, once per row, only after `pendingShards` changed.
   */
  private async pointTo(delivery: PendingDelivery): Promise<void> {
    const atOnce = { slot: this.slot(delivery.createTime, delivery.connectionId), delivery_key: deliveryKey(delivery) };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...atOnce, moved_to_slot: delivery.storedSlot, expires_at: delivery.slotTime + ROW_TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(slot)',
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  async *listDue(nowMs: number, pageSize: number): AsyncGenerator<DueItem[]> {
    // An idle deployment's table is empty: one read instead of a Query per slot and shard every minute.
    if (await this.isEmpty()) return;
    // Oldest slots first: their rows are closest to falling out of the horizon.
    for (const slot of slotsBetween(nowMs - pendingHorizonMs(this.options), nowMs)) {
      for (let shard = 0; shard < this.options.shards; shard++) {
        for await (const page of queryPages(this.db, {
          TableName: this.tableName,
          KeyConditionExpression: 'slot = :slot',
          FilterExpression: 'next_due_at <= :now',
          ExpressionAttributeValues: { ':slot': `${slot}#${shard}`, ':now': nowMs },
          Limit: pageSize,
        })) {
          if (page.length > 0) yield page.map(toDueItem);
        }
      }
    }
  }

  /** No row at all, of any kind: one strongly consistent Scan stopped at the first item (1 read unit). */
  private async isEmpty(): Promise<boolean> {
    const page = await this.db.send(
      new ScanCommand({ TableName: this.tableName, Limit: 1, ConsistentRead: true, ProjectionExpression: 'slot' }),
    );
    return (page.Items ?? []).length === 0 && page.LastEvaluatedKey === undefined;
  }

  async recordAttempt(delivery: PendingDelivery, attempts: number, nextDueAt: number): Promise<boolean> {
    try {
      if (this.misplaced(delivery)) await this.pointTo(delivery);
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(delivery),
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

  async remove(item: DueItem): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: this.keyOf(item) }));
  }

  async deleteByConnection(connectionId: string, nowMs: number): Promise<number> {
    const shard = shardOf(connectionId, this.options.shards);
    const keys: RowKey[] = [];
    // Up to a minute ahead: the sender's clock may run ahead of ours.
    for (const slot of slotsBetween(nowMs - pendingHorizonMs(this.options), nowMs + SLOT_SECONDS * 1000)) {
      for await (const item of queryAll(this.db, {
        TableName: this.tableName,
        KeyConditionExpression: 'slot = :slot AND begins_with(delivery_key, :conn)',
        ExpressionAttributeValues: { ':slot': `${slot}#${shard}`, ':conn': `${connectionId}#` },
        ProjectionExpression: 'slot, delivery_key',
      })) {
        keys.push({ slot: item['slot'] as string, delivery_key: item['delivery_key'] as string });
      }
    }
    await batchWriteAll(
      this.db,
      this.tableName,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
    return keys.length;
  }

  async putMarker(marker: FanoutMarker): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.item(marker) }));
  }

  async rescheduleMarker(marker: FanoutMarker, nextDueAt: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(marker),
          UpdateExpression: 'SET attempts = :a, next_due_at = :due',
          ConditionExpression: 'attribute_exists(slot)',
          ExpressionAttributeValues: { ':a': marker.attempts + 1, ':due': nextDueAt },
        }),
      );
    } catch (error) {
      // The fan-out finished meanwhile and removed it.
      if (!isConditionFailed(error)) throw error;
    }
  }

  async putExpiry(expiry: TokenExpiry): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.item(expiry) }));
  }
}

function deliveryKey(key: DeliveryKey): string {
  return `${key.connectionId}#${key.conversationId}#${key.msgId}`;
}

function toAttributes(row: DueItem): Record<string, unknown> {
  switch (row.kind) {
    case 'delivery':
      return {
        kind: row.kind,
        connection_id: row.connectionId,
        user_id: row.userId,
        conversation_id: row.conversationId,
        msg_id: row.msgId,
        create_time: row.createTime,
        slot_time: row.slotTime,
        attempts: row.attempts,
        next_due_at: row.nextDueAt,
      };
    case 'fanout':
      return {
        kind: row.kind,
        conversation_id: row.conversationId,
        msg_id: row.msgId,
        except_connection_id: row.exceptConnectionId,
        slot_time: row.slotTime,
        attempts: row.attempts,
        next_due_at: row.nextDueAt,
      };
    case 'expiry':
      return {
        kind: row.kind,
        connection_id: row.connectionId,
        user_id: row.userId,
        slot_time: row.slotTime,
        next_due_at: row.nextDueAt,
      };
  }
}

function toDueItem(item: Record<string, unknown>): DueItem {
  const slotTime = (item['slot_time'] as number | undefined) ?? (item['create_time'] as number);
  const nextDueAt = item['next_due_at'] as number;
  const storedSlot = item['slot'] as string;
  switch (item['kind']) {
    case 'fanout':
      return {
        kind: 'fanout',
        conversationId: item['conversation_id'] as string,
        msgId: item['msg_id'] as number,
        ...(typeof item['except_connection_id'] === 'string'
          ? { exceptConnectionId: item['except_connection_id'] }
          : {}),
        slotTime,
        attempts: (item['attempts'] as number | undefined) ?? 0,
        nextDueAt,
        storedSlot,
      };
    case 'expiry':
      return {
        kind: 'expiry',
        connectionId: item['connection_id'] as string,
        userId: item['user_id'] as string,
        slotTime,
        nextDueAt,
        storedSlot,
      };
    default:
      return {
        kind: 'delivery',
        connectionId: item['connection_id'] as string,
        userId: item['user_id'] as string,
        conversationId: item['conversation_id'] as string,
        msgId: item['msg_id'] as number,
        createTime: item['create_time'] as number,
        slotTime,
        attempts: item['attempts'] as number,
        nextDueAt,
        storedSlot,
      };
  }
}
