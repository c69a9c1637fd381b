/** The push sender's ports on a handler runtime's stores: DeviceTokens, the group mutes, the flood bounds and the bounded unread count. */
import type { Config } from '../config.js';
import type { Clock, Stores } from '../ports.js';
import { unreadTotal } from '../usecases/sessions.js';
import type { PushSenderPorts } from './send-pushes.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function pushSenderPorts(
  runtime: Pick<Stores, 'deviceTokens' | 'groupMutes' | 'sessions' | 'conversations' | 'pushThrottle'> & {
    readonly config: Config;
    readonly clock: Clock;
  },
  providers: PushSenderPorts['providers'],
  options: { sleep?: (ms: number) => Promise<void>; remainingMs?: () => number } = {},
): PushSenderPorts {
  return {
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    deviceTokens: runtime.deviceTokens,
    mutes: runtime.groupMutes,
    throttle: runtime.pushThrottle,
    now: () => runtime.clock.now(),
    unreadTotal: (userId) => unreadTotal(runtime, userId),
    providers,
    sleep: options.sleep ?? sleep,
    config: {
      maxAttempts: runtime.config.pushMaxAttempts,
      maxRetryWaitMs: runtime.config.pushMaxRetryWaitMs,
      concurrency: runtime.config.fanoutConcurrency,
      collapseWindowMs: runtime.config.pushCollapseWindowMs,
      senderBudgetPerMinute: runtime.config.pushSenderBudgetPerMinute,
    },
  };
}
