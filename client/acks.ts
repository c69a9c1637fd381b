/**
 * Delivery acks, coalesced: the msg_ids delivered in one conversation within `windowMs` go out as one
 * `msg_data_ack` with `msg_ids` (up to 100, MAX_IDS_PER_REQUEST, flushed at once when full), saving an API Gateway
 * message and a Lambda invocation per id. A single id goes out as `msg_id`, the form every server takes.
 *
 * A bulk ack carries a `seq`: a server that predates `msg_ids` answers it `bad_request`, and its ids are then acked
 * one by one and bulk acks are off for the connection, so a new client works against an old deployment.
 */
import { sessionKey } from './conversation.js';
import { MAX_IDS_PER_REQUEST, type MsgDataAckRequestFrame, type SessionRef } from './frames.js';
import type { TimerHandle } from './timers.js';

/** How long the SDK gathers the acks of a conversation by default: a third of the server's 15 s ack timeout. */
export const DEFAULT_ACK_WINDOW_MS = 5_000;

/** How many bulk acks are remembered while a refusal of theirs may still come. */
const REMEMBERED_BULK_ACKS = 64;

export interface AckBatcherOptions {
  /** How long an ack may wait for others of its conversation, in ms; 0 sends each at once. */
  readonly windowMs: number;
  /** Sends a frame on the connection; false when not connected. */
  send(frame: MsgDataAckRequestFrame): boolean;
  nextSeq(): number;
}

export class AckBatcher {
  readonly #options: AckBatcherOptions;
  readonly #pending = new Map<string, { readonly session: SessionRef; readonly ids: number[] }>();
  /** Bulk acks sent on this connection, by seq, while the server may still refuse them. */
  readonly #sentBulk = new Map<number, { readonly session: SessionRef; readonly ids: readonly number[] }>();
  #bulkRefused = false;
  #timer: TimerHandle | undefined;

  constructor(options: AckBatcherOptions) {
    this.#options = options;
  }

  /** Acks `msgId` of `session`, now or within the window. */
  add(session: SessionRef, msgId: number): void {
    if (this.#options.windowMs <= 0 || this.#bulkRefused) {
      this.#send(session, [msgId]);
      return;
    }
    const key = sessionKey(session.session_type, session.session_id);
    const pending = this.#pending.get(key) ?? { session, ids: [] };
    this.#pending.set(key, pending);
    if (!pending.ids.includes(msgId)) pending.ids.push(msgId);
    if (pending.ids.length >= MAX_IDS_PER_REQUEST) {
      this.#pending.delete(key);
      this.#send(session, pending.ids);
    } else {
      this.#timer ??= setTimeout(() => this.flush(), this.#options.windowMs);
    }
  }

  /** Sends every waiting ack now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { session, ids } of pending) this.#send(session, ids);
  }

  /**
   * An error frame with `seq`: when it refuses a bulk ack as `bad_request` (a server without `msg_ids`), its ids are
   * acked one by one and bulk acks stop for this connection. True when `seq` was a bulk ack's.
   */
  refused(seq: number, code: string): boolean {
    const bulk = this.#sentBulk.get(seq);
    if (!bulk) return false;
    this.#sentBulk.delete(seq);
    if (code === 'bad_request') {
      this.#bulkRefused = true;
      for (const id of bulk.ids) this.#send(bulk.session, [id]);
    }
    return true;
  }

  /**
   * The connection is gone: waiting acks are dropped (pending deliveries belong to a connection; the server drops
   * them with it and the messages come again by catch-up), and the next connection may take bulk acks again.
   */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    this.#sentBulk.clear();
    this.#bulkRefused = false;
  }

  #send(session: SessionRef, ids: readonly number[]): void {
    if (ids.length === 1) {
      this.#options.send({ action: 'msg_data_ack', msg_id: ids[0]!, ...session });
      return;
    }
    const seq = this.#options.nextSeq();
    if (!this.#options.send({ action: 'msg_data_ack', seq, msg_ids: ids, ...session })) return;
    this.#sentBulk.set(seq, { session, ids });
    if (this.#sentBulk.size > REMEMBERED_BULK_ACKS) this.#sentBulk.delete(this.#sentBulk.keys().next().value!);
  }
}
