/**
 * Client-side pacing to the server's per-user rates (docs/protocol.md "Limits": 20 msg_data a second, a
 * separate budget for other writing requests). The server counts fixed one-second windows; the gate allows at most
 * `limit` frames in any sliding window of `windowMs`, a little over a second, so frames whose latency varies still
 * land within the server's budget. A `rate_limited` answer (another device of the same user spent the budget)
 * closes the gate for a while.
 */
/** The pacing window: a little over the server's one-second window (see above). */
export const PACING_WINDOW_MS = 1_100;

export class RateGate {
  readonly #limit: number;
  readonly #windowMs: number;
  /** When the last `limit` frames passed, oldest first. */
  readonly #passed: number[] = [];
  #closedUntil = 0;

  /** @param limit frames per window; 0 or Infinity turns pacing off. */
  constructor(limit: number, windowMs: number) {
    this.#limit = limit > 0 ? limit : Number.POSITIVE_INFINITY;
    this.#windowMs = windowMs;
  }

  /** How long until a frame may pass, in ms (0: now). */
  delay(now = Date.now()): number {
    while (this.#passed.length > 0 && this.#passed[0]! + this.#windowMs <= now) this.#passed.shift();
    const full = this.#passed.length >= this.#limit ? this.#passed[0]! + this.#windowMs - now : 0;
    return Math.max(0, full, this.#closedUntil - now);
  }

  /** Records a frame that passed. */
  pass(now = Date.now()): void {
    if (Number.isFinite(this.#limit)) this.#passed.push(now);
  }

  /** Lets nothing pass for `ms` (the server said `rate_limited`). */
  close(ms: number, now = Date.now()): void {
    this.#closedUntil = Math.max(this.#closedUntil, now + ms);
  }
}
