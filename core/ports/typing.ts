/** The typing throttle (core/store/typing-throttle.ts), as core/usecases/typing.ts uses it. */
import type { TypingState } from '../../protocol/frames.js';

export interface TypingThrottle {
  /**
   * Claims the right to forward one typing frame of `userId` in a conversation: a `start` when no `start` was forwarded
   * in the last `intervalMs`, a `stop` when the last frame forwarded was a `start`. False: drop the frame. One
   * conditional write, so the rule holds across Lambda instances.
   */
  claim(
    userId: string,
    conversationId: string,
    state: TypingState,
    nowMs: number,
    intervalMs: number,
  ): Promise<boolean>;
}
