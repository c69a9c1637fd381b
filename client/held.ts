/**
 * What the client holds of each conversation: a mark (every message up to it is held, or known not to exist),
 * the msg_ids held above it, and the holes a catch-up passed.
 *
 * A hole is a msg_id missing from a `msg_list` page below messages that are there. It is either a gap for good (a
 * send died between taking its number and storing) or a message numbered early and stored later, by a resend
 * within the server's idempotency window (IDEMPOTENCY_WINDOW_SECONDS, 48 h). The client cannot tell which, so:
 * - a live frame of a hole is always taken (`add`);
 * - a hole is asked for again (`msg_by_ids`) on catch-ups after a growing delay, HOLE_RETRY_DELAYS_MS;
 * - a hole is dropped for good once a stored message with a higher msg_id in its conversation was created more than
 *   the window ago: the hole was numbered before that message, so no resend can store it any more.
 */
import { parseSessionKey } from './conversation.js';
import { IDEMPOTENCY_WINDOW_SECONDS } from './frames.js';

/** Delays before a hole is asked for again: 1 min, 5 min, 30 min, 3 h, then every 12 h until it is dropped. */
export const HOLE_RETRY_DELAYS_MS = [60_000, 300_000, 1_800_000, 10_800_000, 43_200_000] as const;
/** Holes remembered per conversation, the newest. */
const MAX_HOLES_PER_CONVERSATION = 200;

/** A hole, as SyncState keeps it. */
export interface HoleState {
  readonly msgId: number;
  /** create_time (server seconds) of the nearest stored message above the hole. */
  readonly aboveTime: number;
  /** How many times it was asked for. */
  readonly attempts: number;
  /** When it may be asked for next (client ms since the epoch). */
  readonly nextAskAt: number;
}

/** The saved form of HeldMessages (part of SyncState). */
export interface HeldState {
  readonly latestMsgIds: Readonly<Record<string, number>>;
  readonly heldAbove?: Readonly<Record<string, readonly number[]>>;
  readonly holes?: Readonly<Record<string, readonly HoleState[]>>;
}

const isMsgId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

export class HeldMessages {
  readonly #marks = new Map<string, number>();
  readonly #above = new Map<string, Set<number>>();
  readonly #holes = new Map<string, Map<number, HoleState>>();

  /** Records a message; true the first time, false when it is held already. A hole's message is taken. */
  add(key: string, msgId: number): boolean {
    const mark = this.mark(key);
    if (msgId <= mark) {
      const holes = this.#holes.get(key);
      if (!holes?.delete(msgId)) return false;
      if (holes.size === 0) this.#holes.delete(key);
      return true;
    }
    let above = this.#above.get(key);
    if (above?.has(msgId)) return false;
    if (!above) {
      above = new Set();
      this.#above.set(key, above);
    }
    above.add(msgId);
    this.#advance(key, mark);
    return true;
  }

  has(key: string, msgId: number): boolean {
    return msgId <= this.mark(key) || (this.#above.get(key)?.has(msgId) ?? false);
  }

  /** Every message of the conversation up to this msg_id is held (or does not exist); 0 when nothing is known. */
  mark(key: string): number {
    return this.#marks.get(key) ?? 0;
  }

  /** Records that every message of (mark, top] is now held, known not to exist, or a hole. */
  complete(key: string, top: number): void {
    const mark = this.mark(key);
    if (top <= mark) return;
    const above = this.#above.get(key);
    if (above) for (const id of above) if (id <= top) above.delete(id);
    this.#advance(key, top);
  }

  /** Records holes a catch-up passed; `aboveTime` gives the create_time of the nearest message above each. */
  addHoles(key: string, holes: readonly { readonly msgId: number; readonly aboveTime: number }[], nowMs: number): void {
    if (holes.length === 0) return;
    const known = this.#holes.get(key) ?? new Map<number, HoleState>();
    for (const { msgId, aboveTime } of holes) {
      if (!known.has(msgId))
        known.set(msgId, { msgId, aboveTime, attempts: 0, nextAskAt: nowMs + HOLE_RETRY_DELAYS_MS[0] });
    }
    const excess = known.size - MAX_HOLES_PER_CONVERSATION;
    if (excess > 0) for (const id of [...known.keys()].sort((a, b) => a - b).slice(0, excess)) known.delete(id);
    this.#holes.set(key, known);
  }

  /**
   * The holes due to be asked for, by conversation, after dropping those that can no longer fill (`serverNow`:
   * the server's clock, unix seconds).
   */
  dueHoles(nowMs: number, serverNow: number): Map<string, number[]> {
    const due = new Map<string, number[]>();
    for (const [key, holes] of this.#holes) {
      for (const hole of holes.values())
        if (hole.aboveTime < serverNow - IDEMPOTENCY_WINDOW_SECONDS) holes.delete(hole.msgId);
      if (holes.size === 0) this.#holes.delete(key);
      const ids = [...holes.values()].filter((hole) => hole.nextAskAt <= nowMs).map((hole) => hole.msgId);
      if (ids.length > 0)
        due.set(
          key,
          ids.sort((a, b) => a - b),
        );
    }
    return due;
  }

  /** A hole was asked for and is still missing: ask again after the next delay. */
  askedFor(key: string, msgId: number, nowMs: number): void {
    const hole = this.#holes.get(key)?.get(msgId);
    if (!hole) return;
    const delay = HOLE_RETRY_DELAYS_MS[Math.min(hole.attempts + 1, HOLE_RETRY_DELAYS_MS.length - 1)]!;
    this.#holes.get(key)!.set(msgId, { ...hole, attempts: hole.attempts + 1, nextAskAt: nowMs + delay });
  }

  /** Whether messages above the mark are held (there is a hole below them). */
  holdsAbove(key: string): boolean {
    return (this.#above.get(key)?.size ?? 0) > 0;
  }

  /** Conversations with messages held above the mark, each with the highest such msg_id. */
  gaps(): Map<string, number> {
    const gaps = new Map<string, number>();
    for (const [key, above] of this.#above) {
      let top = 0;
      for (const id of above) top = Math.max(top, id);
      if (top > 0) gaps.set(key, top);
    }
    return gaps;
  }

  /** Whether nothing at all is known (a new device). */
  get empty(): boolean {
    return this.#marks.size === 0 && this.#above.size === 0;
  }

  export(): HeldState {
    const latestMsgIds: Record<string, number> = Object.fromEntries(this.#marks);
    const heldAbove: Record<string, number[]> = {};
    for (const [key, above] of this.#above) if (above.size > 0) heldAbove[key] = [...above].sort((a, b) => a - b);
    const holes: Record<string, HoleState[]> = {};
    for (const [key, known] of this.#holes) holes[key] = [...known.values()].sort((a, b) => a.msgId - b.msgId);
    return {
      latestMsgIds,
      ...(Object.keys(heldAbove).length > 0 ? { heldAbove } : {}),
      ...(Object.keys(holes).length > 0 ? { holes } : {}),
    };
  }

  /** Adds a saved state; malformed entries are ignored. */
  load(state: HeldState): void {
    for (const [key, mark] of Object.entries(state.latestMsgIds ?? {})) {
      if (parseSessionKey(key) && isMsgId(mark)) this.complete(key, mark);
    }
    for (const [key, ids] of Object.entries(state.heldAbove ?? {})) {
      if (!parseSessionKey(key) || !Array.isArray(ids)) continue;
      for (const id of ids) if (isMsgId(id) && id > 0) this.add(key, id);
    }
    for (const [key, holes] of Object.entries(state.holes ?? {})) {
      if (!parseSessionKey(key) || !Array.isArray(holes)) continue;
      const valid = holes.filter(
        (h) =>
          isMsgId(h?.msgId) &&
          h.msgId > 0 &&
          h.msgId <= this.mark(key) &&
          isTime(h.aboveTime) &&
          isMsgId(h.attempts) &&
          isTime(h.nextAskAt),
      );
      if (valid.length > 0)
        this.#holes.set(
          key,
          new Map(
            valid.map((h) => [
              h.msgId,
              { msgId: h.msgId, aboveTime: h.aboveTime, attempts: h.attempts, nextAskAt: h.nextAskAt },
            ]),
          ),
        );
    }
  }

  #advance(key: string, from: number): void {
    let mark = from;
    const above = this.#above.get(key);
    while (above?.delete(mark + 1)) mark += 1;
    if (mark > 0) this.#marks.set(key, mark);
    if (above && above.size === 0) this.#above.delete(key);
  }
}
