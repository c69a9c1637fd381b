/**
 * Sends waiting for their `msg_data_ack`. An entry stays until it is acked, refused with an error frame, or gives
 * up; every transmission gets a new `seq` but keeps the entry's `client_msg_id`, so the server can tell a resend
 * from a new message.
 */
import type { MsgDataAckFrame, MsgType } from './frames.js';
import type { TimerHandle } from './timers.js';

export interface OutboxEntry {
  readonly clientMsgId: string;
  readonly toSessionId: string;
  readonly msgType: MsgType;
  readonly msgData: string;
  readonly promise: Promise<MsgDataAckFrame>;
  /** Transmissions that ran into an ack timeout. */
  timeouts: number;
  /** Seqs of this entry's transmissions on the current connection. */
  readonly seqs: Set<number>;
  timer: TimerHandle | undefined;
  resolve(ack: MsgDataAckFrame): void;
  reject(error: Error): void;
}

export class Outbox {
  readonly #byId = new Map<string, OutboxEntry>();
  readonly #bySeq = new Map<number, OutboxEntry>();

  /** Creates and keeps an entry; its promise settles once, through `settle`. */
  create(fields: Pick<OutboxEntry, 'clientMsgId' | 'toSessionId' | 'msgType' | 'msgData'>): OutboxEntry {
    let resolve!: (ack: MsgDataAckFrame) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<MsgDataAckFrame>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: OutboxEntry = { ...fields, promise, timeouts: 0, seqs: new Set(), timer: undefined, resolve, reject };
    this.#byId.set(entry.clientMsgId, entry);
    return entry;
  }

  get(clientMsgId: string): OutboxEntry | undefined {
    return this.#byId.get(clientMsgId);
  }

  bySeq(seq: number): OutboxEntry | undefined {
    return this.#bySeq.get(seq);
  }

  /** Records that `entry` was transmitted with `seq`. */
  assignSeq(entry: OutboxEntry, seq: number): void {
    entry.seqs.add(seq);
    this.#bySeq.set(seq, entry);
  }

  /** Removes the entry and stops its timer; the caller then resolves or rejects it. */
  remove(entry: OutboxEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    for (const seq of entry.seqs) this.#bySeq.delete(seq);
    entry.seqs.clear();
    this.#byId.delete(entry.clientMsgId);
  }

  /** Forgets the seqs and stops the timers of every entry: their connection is gone, they wait for the next one. */
  detachFromConnection(): void {
    for (const entry of this.#byId.values()) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      entry.seqs.clear();
    }
    this.#bySeq.clear();
  }

  /** Removes every entry and rejects it with `error`. */
  rejectAll(error: Error): void {
    for (const entry of [...this.#byId.values()]) {
      this.remove(entry);
      entry.reject(error);
    }
  }

  /** The waiting entries, oldest first. */
  entries(): OutboxEntry[] {
    return [...this.#byId.values()];
  }

  get size(): number {
    return this.#byId.size;
  }
}
