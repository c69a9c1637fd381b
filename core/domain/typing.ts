/** The `typing` frame (docs/protocol.md "Typing"): its schema, and the notice a receiver gets. */
import * as v from 'valibot';
import { TYPING_STATES, type SessionType, type TypingFrame, type TypingState } from '../../protocol/frames.js';
import { seqSchema, sessionIdSchema } from './client-frames.js';
import type { ReplyFrame } from './frames.js';

export const TypingSchema = v.object({
  action: v.literal('typing'),
  seq: seqSchema,
  session_id: sessionIdSchema,
  session_type: v.picklist([1, 2], 'must be 1 or 2'),
  state: v.picklist(TYPING_STATES, 'must be "start" or "stop"'),
});
export type TypingRequest = v.InferOutput<typeof TypingSchema>;

/** What a receiver gets: `session_id` from its view, the typist for a one-to-one chat, the group for a group. */
export function typingFrame(
  typist: string,
  conversation: { readonly sessionType: SessionType; readonly groupId?: string | undefined },
  state: TypingState,
): TypingFrame & ReplyFrame {
  return {
    type: 'typing',
    user_id: typist,
    session_id: conversation.groupId ?? typist,
    session_type: conversation.sessionType,
    state,
  };
}
