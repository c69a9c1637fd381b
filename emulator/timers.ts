/**
 * setTimeout for any delay. Node's timers take at most 2^31-1 ms (24.8 days) and fire after 1 ms for anything longer
 * (with a TimeoutOverflowWarning), so a limit set to 30 days or Infinity would close every connection at once. Long
 * delays are waited out in steps; Infinity never fires.
 */

/** The longest delay setTimeout honours. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface LongTimer {
  cancel(): void;
}

export function setLongTimeout(callback: () => void, delayMs: number): LongTimer {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const deadline = Date.now() + delayMs;
  const arm = (remaining: number) => {
    if (cancelled || remaining === Infinity) return;
    if (remaining <= MAX_TIMER_DELAY_MS) {
      timer = setTimeout(callback, Math.max(0, remaining));
      return;
    }
    timer = setTimeout(() => arm(deadline - Date.now()), MAX_TIMER_DELAY_MS);
  };
  arm(Number.isNaN(delayMs) ? Infinity : delayMs);
  return {
    cancel: () => {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
