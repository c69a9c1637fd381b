/**
 * Deadlines of calls that wait on the network (`connect()`, `send()`): a timeout and an AbortSignal, so a call
 * settles while the server is unreachable. Only the parts of AbortSignal every platform has (browsers, Node, React
 * Native's polyfill) are used: `aborted` and the `abort` event.
 */
import { AbortError } from './errors.js';
import type { TimerHandle } from './timers.js';

/** The part of the standard AbortSignal the SDK reads: any AbortController's `signal` fits. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** How long a call may wait, and a signal that ends it earlier. */
export interface Deadline {
  /** Rejects after this many ms. @default no limit */
  readonly timeoutMs?: number;
  /** Rejects with {@link AbortError} when it aborts (at once when it has). */
  readonly signal?: AbortSignalLike;
}

/**
 * Settles as `promise` does, or rejects first: with `timedOut()` after `timeoutMs`, with AbortError when the signal
 * aborts. `expired` hears of such an early end (to cancel the work behind `promise`, whose rejection is then handled
 * here).
 */
export function withDeadline<T>(
  promise: Promise<T>,
  deadline: Deadline | undefined,
  timedOut: () => Error,
  expired: (error: Error) => void = () => {},
): Promise<T> {
  const { timeoutMs, signal } = deadline ?? {};
  if (timeoutMs === undefined && signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const end = (error: Error) => {
      cleanUp();
      promise.catch(() => undefined);
      expired(error);
      reject(error);
    };
    const onAbort = () => end(new AbortError());
    const cleanUp = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(() => end(timedOut()), timeoutMs);
    promise.then(
      (value) => {
        cleanUp();
        resolve(value);
      },
      (error: unknown) => {
        cleanUp();
        reject(error);
      },
    );
  });
}
