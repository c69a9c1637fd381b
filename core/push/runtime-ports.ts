/** The push sender's ports on a handler runtime's stores: DeviceTokens, the group mutes and the bounded unread count. */
import type { Config } from '../config.js';
import type { Stores } from '../ports.js';
import { unreadTotal } from '../usecases/sessions.js';
import type { PushSenderPorts } from './send-pushes.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function pushSenderPorts(
  runtime: Pick<Stores, 'deviceTokens' | 'groupMutes' | 'sessions' | 'conversations'> & { readonly config: Config },
  providers: PushSenderPorts['providers'],
  options: { sleep?: (ms: number) => Promise<void>; remainingMs?: () => number } = {},
): PushSenderPorts {
  return {
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    deviceTokens: runtime.deviceTokens,
    mutes: runtime.groupMutes,
    unreadTotal: (userId) => unreadTotal(runtime, userId),
    providers,
    sleep: options.sleep ?? sleep,
    config: {
      maxAttempts: runtime.config.pushMaxAttempts,
      maxRetryWaitMs: runtime.config.pushMaxRetryWaitMs,
      concurrency: runtime.config.fanoutConcurrency,
    },
  };
}
