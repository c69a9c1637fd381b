/** Reconnect delays: exponential backoff with jitter. */

export interface ReconnectOptions {
  /** Delay before the first reconnect attempt, in ms. Default 500. */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay, in ms. Default 30 000. */
  readonly maxDelayMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  readonly factor?: number;
  /**
   * Fraction of the delay that is randomised, 0…1: the delay is drawn uniformly from
   * `[d × (1 − jitter), d]`. Default 0.5; 0 disables jitter (deterministic, for tests).
   */
  readonly jitter?: number;
  /** Consecutive failed attempts after which the client gives up and goes `closed`. Default Infinity. */
  readonly maxAttempts?: number;
}

export type ResolvedReconnectOptions = Required<ReconnectOptions>;

export const DEFAULT_RECONNECT: ResolvedReconnectOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

export function resolveReconnectOptions(options: ReconnectOptions | undefined): ResolvedReconnectOptions {
  const resolved = { ...DEFAULT_RECONNECT, ...options };
  if (!(resolved.initialDelayMs >= 0) || !(resolved.maxDelayMs >= 0) || !(resolved.factor >= 1)) {
    throw new RangeError('reconnect: initialDelayMs and maxDelayMs must be ≥ 0 and factor ≥ 1');
  }
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) throw new RangeError('reconnect: jitter must be within 0…1');
  return resolved;
}

/**
 * The delay before reconnect attempt number `attempt` (0 for the first one after a drop).
 * `random` returns a number in [0, 1), Math.random by default.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedReconnectOptions,
  random: () => number = Math.random,
): number {
  const exponential = options.initialDelayMs * options.factor ** Math.max(0, attempt);
  const capped = Math.min(options.maxDelayMs, exponential);
  return Math.round(capped * (1 - options.jitter * random()));
}
