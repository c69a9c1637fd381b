/**
 * Keeps an open connection from idling out (API Gateway closes a WebSocket after 10 minutes without frames) by
 * sending `{"action":"heartbeat","seq":n}` periodically. Replies (`{"type":"heartbeat","seq":n}`) are not required:
 * a server without the action answers `unknown_action`, which is swallowed too.
 */
import type { IntervalHandle } from './timers.js';

/** The largest number of heartbeat seqs remembered while their replies are outstanding. */
const MAX_OUTSTANDING = 64;

export class Heartbeat {
  readonly #intervalMs: number;
  readonly #beat: () => number | undefined;
  #timer: IntervalHandle | undefined;
  readonly #outstanding = new Set<number>();

  /**
   * @param intervalMs period; 0 or less disables heartbeats.
   * @param beat sends one heartbeat and returns its seq (undefined when it could not be sent).
   */
  constructor(intervalMs: number, beat: () => number | undefined) {
    this.#intervalMs = intervalMs;
    this.#beat = beat;
  }

  start(): void {
    this.stop();
    if (!(this.#intervalMs > 0) || !Number.isFinite(this.#intervalMs)) return;
    this.#timer = setInterval(() => {
      const seq = this.#beat();
      if (seq === undefined) return;
      this.#outstanding.add(seq);
      if (this.#outstanding.size > MAX_OUTSTANDING) {
        const oldest = this.#outstanding.values().next().value;
        if (oldest !== undefined) this.#outstanding.delete(oldest);
      }
    }, this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#outstanding.clear();
  }

  /** True (and forgets it) when `seq` belongs to a heartbeat: its reply or error frame is consumed here. */
  claim(seq: number): boolean {
    return this.#outstanding.delete(seq);
  }
}
