/**
 * What waits in the pending table (core/store/pending-deliveries.ts) for the sweeper: deliveries waiting for their
 * msg_data_ack, group fan-outs in progress and token expiries. Each row lives in the partition of a minute, its slot
 * time's: the ack handler computes a prompt delivery's key from its message, and the sweeper reads only the minutes
 * that can still hold due rows.
 */

/** The length of a slot: one partition per minute (and shard). */
export const SLOT_SECONDS = 60;

/**
 * The slot time of a delivery made at `nowSeconds`: its message's create_time when made within the message's slot
 * minute of slack (the ack handler then finds it in one DeleteItem), else the delivery's own time.
 */
export function deliverySlotTime(createTime: number, nowSeconds: number): number {
  return nowSeconds - createTime < SLOT_SECONDS ? createTime : nowSeconds;
}

/** A row as the sweeper read it. */
export interface StoredRow {
  /**
   * The partition the row was read from (`<minute>#<shard>`): where it is even when `pendingShards` changed after it
   * was written, so the sweeper updates and removes the row itself, not an empty key. Absent on rows not read back.
   */
  readonly storedSlot?: string;
}

/** One delivery of one message to one connection, waiting for msg_data_ack. */
export interface PendingDelivery extends StoredRow {
  readonly kind: 'delivery';
  readonly connectionId: string;
  readonly userId: string;
  readonly conversationId: string;
  readonly msgId: number;
  /** create_time of the message (unix seconds). */
  readonly createTime: number;
  /** Unix seconds fixing the row's slot: the create_time for a delivery made at once, else the delivery's time. */
  readonly slotTime: number;
  /** Deliveries made so far, the first included. */
  readonly attempts: number;
  /** Unix ms when the delivery counts as overdue. */
  readonly nextDueAt: number;
}

/** A fan-out in progress: removed when it completes; when it comes due, the sweeper resumes the fan-out. */
export interface FanoutMarker extends StoredRow {
  readonly kind: 'fanout';
  readonly conversationId: string;
  readonly msgId: number;
  /** The sending connection, which got the ack and not the message. */
  readonly exceptConnectionId?: string;
  readonly slotTime: number;
  /** Resumptions so far; the sweeper gives up after the delivery bound. */
  readonly attempts: number;
  readonly nextDueAt: number;
}

/** A connection whose token expires at `nextDueAt`: the sweeper kicks it then. */
export interface TokenExpiry extends StoredRow {
  readonly kind: 'expiry';
  readonly connectionId: string;
  readonly userId: string;
  readonly slotTime: number;
  readonly nextDueAt: number;
}

/** Anything the sweeper acts on when it comes due. */
export type DueItem = PendingDelivery | FanoutMarker | TokenExpiry;

export interface DeliveryKey {
  readonly connectionId: string;
  readonly conversationId: string;
  readonly msgId: number;
}
