/**
 * Sends waiting for their `msg_data_ack`, one queue per conversation.
 *
 * - Order: only the oldest send of a conversation is on the wire; the next one goes once it is acked or refused.
 *   The server numbers frames as its invocations run, in parallel, so two frames of one conversation in flight could
 *   be stored in either order; conversations do not wait for each other.
 * - Rate: every transmission passes a {@link RateGate} set to the server's per-user msg_data rate, so a burst (sends
 *   queued offline, `Promise.all` of many) goes out at the rate the server accepts.
 * - Retries: `rate_limited` and `internal` are resent with the same `client_msg_id` after a backoff (the server's
 *   idempotency makes a resend of a stored message answer with its first ack); any other refusal rejects the send.
 * - Timeouts: an overdue ack asks the client to check the connection (a heartbeat that must be answered); if it is
 *   alive the send is transmitted again, if not the reconnect resends it.
 * - Bounds: a send is transmitted at most `maxSendAttempts` times, whatever made it go again (a retryable refusal,
 *   an overdue ack, a reconnect); then it rejects — with the last refusal, or SendTimeoutError when its acks were
 *   overdue — and the conversation's next send goes. A send waiting for a connection is not counted.
 */
import { backoffDelay, type ResolvedBackoffOptions } from './backoff.js';
import { sessionKey, type Conversation } from './conversation.js';
import { type ChatServerError, SendTimeoutError } from './errors.js';
import type { MsgDataAckFrame, MsgType } from './frames.js';
import type { RateGate } from './rate-gate.js';
import { blockedSendError } from './safety-blocks.js';
import type { TimerHandle } from './timers.js';

/** What a send transmits. */
export interface OutgoingMessage {
  readonly clientMsgId: string;
  readonly conversation: Conversation;
  /** {@link conversationKey} of the conversation. */
  readonly key: string;
  readonly msgType: MsgType;
  readonly msgData: string;
}

/**
 * `waiting` for its turn (the connection, the gate, the conversation's earlier sends); `sent` and waiting for its
 * ack; `stalled`: its ack is overdue and the connection is being checked; `retrying` after a retryable refusal.
 */
type Phase = 'waiting' | 'sent' | 'stalled' | 'retrying';

export interface OutboxEntry extends OutgoingMessage {
  readonly promise: Promise<MsgDataAckFrame>;
  phase: Phase;
  /** Seqs of this entry's transmissions on the current connection. */
  readonly seqs: Set<number>;
  /** The ack timeout or the retry backoff. */
  timer: TimerHandle | undefined;
  /** Retryable refusals so far. */
  retries: number;
  /** Transmissions so far. */
  attempts: number;
  resolve(ack: MsgDataAckFrame): void;
  reject(error: Error): void;
}

export interface OutboxOptions {
  readonly ackTimeoutMs: number;
  /** Transmissions after which a send rejects (with its last refusal, or SendTimeoutError). */
  readonly maxSendAttempts: number;
  readonly retry: ResolvedBackoffOptions;
  readonly gate: RateGate;
  /** Transmits a msg_data frame of `entry`; returns its seq, or undefined when not connected. */
  transmit(entry: OutboxEntry): number | undefined;
  /** An ack is overdue: check the connection, and call `alive()` if it answers. */
  stalled(): void;
  /** `entry` was refused with a retryable code and goes out again after `delayMs`. */
  retrying(entry: OutboxEntry, error: ChatServerError, delayMs: number): void;
}

const idOf = (key: string, clientMsgId: string): string => `${key}\u0000${clientMsgId}`;

export class Outbox {
  readonly #options: OutboxOptions;
  /** Per conversation key, oldest first; a key is removed when its queue empties. */
  readonly #queues = new Map<string, OutboxEntry[]>();
  readonly #byId = new Map<string, OutboxEntry>();
  readonly #bySeq = new Map<number, OutboxEntry>();
  #open = false;
  #pumpTimer: TimerHandle | undefined;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** The waiting send of `clientMsgId` in the conversation `key`, if any. */
  get(key: string, clientMsgId: string): OutboxEntry | undefined {
    return this.#byId.get(idOf(key, clientMsgId));
  }

  /** Queues a send; it goes out when its turn comes. */
  add(message: OutgoingMessage): OutboxEntry {
    let resolve!: (ack: MsgDataAckFrame) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<MsgDataAckFrame>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: OutboxEntry = {
      ...message,
      promise,
      phase: 'waiting',
      seqs: new Set(),
      timer: undefined,
      retries: 0,
      attempts: 0,
      resolve,
      reject,
    };
    this.#byId.set(idOf(entry.key, entry.clientMsgId), entry);
    const queue = this.#queues.get(entry.key);
    if (queue) queue.push(entry);
    else this.#queues.set(entry.key, [entry]);
    this.#pump();
    return entry;
  }

  /** The connection opened: what waits goes out. */
  opened(): void {
    this.#open = true;
    this.#pump();
  }

  /** The connection is gone: transmitted sends wait for the next one (retry backoffs keep running). */
  lost(): void {
    this.#open = false;
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    for (const entry of this.#byId.values()) {
      entry.seqs.clear();
      if (entry.phase === 'sent' || entry.phase === 'stalled') {
        clearTimeout(entry.timer);
        entry.timer = undefined;
        entry.phase = 'waiting';
      }
    }
    this.#bySeq.clear();
  }

  /** The connection answered a heartbeat: stalled sends are transmitted again (same client_msg_id). */
  alive(): void {
    for (const entry of this.#byId.values()) if (entry.phase === 'stalled') entry.phase = 'waiting';
    this.#pump();
  }

  /** Settles the send an ack answers (by seq, else by conversation and client_msg_id); undefined when none waits. */
  acked(ack: MsgDataAckFrame): OutboxEntry | undefined {
    const bySeq = ack.seq === undefined ? undefined : this.#bySeq.get(ack.seq);
    const entry =
      bySeq ??
      (typeof ack.client_msg_id === 'string'
        ? this.get(sessionKey(ack.session_type, ack.session_id), ack.client_msg_id)
        : undefined);
    if (!entry) return undefined;
    this.#remove(entry);
    entry.resolve(ack);
    this.#pump();
    return entry;
  }

  /** Handles an error frame answering one of the sends; false when `seq` is not a send's. */
  refused(error: ChatServerError): boolean {
    const entry = error.seq === undefined ? undefined : this.#bySeq.get(error.seq);
    if (!entry) return false;
    this.#bySeq.delete(error.seq!);
    entry.seqs.delete(error.seq!);
    if (!error.retryable || entry.attempts >= this.#options.maxSendAttempts) {
      // A one-to-one send refused `not_allowed`: the pair is blocked (client/safety-blocks.ts).
      this.#fail(entry, entry.conversation.type === 'peer' ? blockedSendError(error) : error);
      return true;
    }
    const delay = backoffDelay(entry.retries, this.#options.retry);
    entry.retries += 1;
    // Every send of this user would be refused for a while: hold them all, not just this one.
    if (error.code === 'rate_limited') this.#options.gate.close(delay);
    clearTimeout(entry.timer);
    entry.phase = 'retrying';
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.phase = 'waiting';
      this.#pump();
    }, delay);
    this.#options.retrying(entry, error, delay);
    return true;
  }

  /** Removes a waiting send and rejects it with `error` (its deadline passed). */
  cancel(entry: OutboxEntry, error: Error): void {
    if (this.#byId.get(idOf(entry.key, entry.clientMsgId)) === entry) this.#fail(entry, error);
  }

  /** Removes every send and rejects it with `error`. */
  rejectAll(error: Error): void {
    for (const entry of [...this.#byId.values()]) {
      this.#remove(entry);
      entry.reject(error);
    }
  }

  /** Transmits the head of every conversation whose turn it is, as fast as the gate lets it. */
  #pump(): void {
    if (!this.#open) return;
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    for (const queue of this.#queues.values()) {
      const head = queue[0]!;
      if (head.phase !== 'waiting') continue;
      // Transmitted as often as allowed, and the connection went before an answer came.
      if (head.attempts >= this.#options.maxSendAttempts) {
        this.#fail(head, new SendTimeoutError(head.clientMsgId, `after ${head.attempts} attempt(s)`));
        return;
      }
      const wait = this.#options.gate.delay();
      if (wait > 0) {
        this.#pumpTimer = setTimeout(() => this.#pump(), wait);
        return;
      }
      if (!this.#transmit(head)) return;
    }
  }

  #transmit(entry: OutboxEntry): boolean {
    const seq = this.#options.transmit(entry);
    if (seq === undefined) return false; // Not connected after all: the next open sends it.
    this.#options.gate.pass();
    entry.attempts += 1;
    entry.phase = 'sent';
    entry.seqs.add(seq);
    this.#bySeq.set(seq, entry);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#onAckTimeout(entry), this.#options.ackTimeoutMs);
    return true;
  }

  #onAckTimeout(entry: OutboxEntry): void {
    entry.timer = undefined;
    if (entry.attempts >= this.#options.maxSendAttempts) {
      this.#fail(entry, new SendTimeoutError(entry.clientMsgId, `after ${entry.attempts} attempt(s)`));
      return;
    }
    entry.phase = 'stalled';
    this.#options.stalled();
  }

  /** Rejects a send and lets the conversation's next one go. */
  #fail(entry: OutboxEntry, error: Error): void {
    this.#remove(entry);
    entry.reject(error);
    this.#pump();
  }

  #remove(entry: OutboxEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    for (const seq of entry.seqs) this.#bySeq.delete(seq);
    entry.seqs.clear();
    this.#byId.delete(idOf(entry.key, entry.clientMsgId));
    const queue = this.#queues.get(entry.key);
    const index = queue?.indexOf(entry) ?? -1;
    if (queue && index >= 0) queue.splice(index, 1);
    if (queue?.length === 0) this.#queues.delete(entry.key);
  }
}
