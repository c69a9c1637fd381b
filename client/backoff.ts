/** Delays of retries (reconnects, resends): exponential backoff with jitter. */

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelayMs?: number;
  /** Growth factor per failed attempt. @default 2 */
  readonly factor?: number;
  /**
   * Fraction of the delay that is randomised, 0…1: the delay is drawn uniformly from `[d × (1 − jitter), d]`.
   * 0 disables jitter (deterministic, for tests). @default 0.5
   */
  readonly jitter?: number;
}

/** Reconnect backoff: {@link BackoffOptions} plus a cap on attempts. */
export interface ReconnectOptions extends BackoffOptions {
  /** Delay before the first reconnect attempt, in ms. @default 500 */
  readonly initialDelayMs?: number;
  /** @default 30_000 */
  readonly maxDelayMs?: number;
  /** Consecutive failed attempts after which the client gives up and goes `closed`. @default Infinity */
  readonly maxAttempts?: number;
}

export type ResolvedBackoffOptions = Required<BackoffOptions>;
export type ResolvedReconnectOptions = Required<ReconnectOptions>;

export const DEFAULT_RECONNECT: ResolvedReconnectOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Resends after `rate_limited` or `internal`: a second first (the server's rate window), then doubling. */
export const DEFAULT_SEND_RETRY: ResolvedBackoffOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

export function resolveBackoff<T extends ResolvedBackoffOptions>(
  defaults: T,
  options: Partial<T> | undefined,
  what: string,
): T {
  const resolved = { ...defaults, ...options };
  if (!(resolved.initialDelayMs >= 0) || !(resolved.maxDelayMs >= 0) || !(resolved.factor >= 1)) {
    throw new RangeError(`${what}: initialDelayMs and maxDelayMs must be ≥ 0 and factor ≥ 1`);
  }
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) throw new RangeError(`${what}: jitter must be within 0…1`);
  return resolved;
}

export function resolveReconnectOptions(options: ReconnectOptions | undefined): ResolvedReconnectOptions {
  return resolveBackoff(DEFAULT_RECONNECT, options, 'reconnect');
}

/**
 * The delay before retry number `attempt` (0 for the first one). `random` returns a number in [0, 1), Math.random
 * by default.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedBackoffOptions,
  random: () => number = Math.random,
): number {
  const exponential = options.initialDelayMs * options.factor ** Math.max(0, attempt);
  const capped = Math.min(options.maxDelayMs, exponential);
  return Math.round(capped * (1 - options.jitter * random()));
}
