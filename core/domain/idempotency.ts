/**
 * The idempotency key of a msg_data (contract: "Idempotency"): (sender, conversation, client_msg_id) for 48 hours,
 * with a hash of msg_type + msg_data so that a resend with other content is told apart from a true resend.
 */
import { createHash } from 'node:crypto';
import { IDEMPOTENCY_WINDOW_SECONDS } from '../../protocol/limits.js';

export { IDEMPOTENCY_WINDOW_SECONDS };

export interface IdempotencyKey {
  readonly senderId: string;
  readonly conversationId: string;
  readonly clientMsgId: string;
  /** Short hash of (sender, client_msg_id): the ring slot and its tag on the conversation head. */
  readonly tag: string;
  /** Hash of msg_type and msg_data. */
  readonly contentHash: string;
}

const digest = (text: string, chars: number) =>
  createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, chars);

/** The hash of a message's content, as the idempotency record and the ack check compare it. */
export function contentHash(msgType: number, msgData: string): string {
  return digest(`${msgType}\u0000${msgData}`, 22);
}

export function idempotencyKey(input: {
  senderId: string;
  conversationId: string;
  clientMsgId: string;
  msgType: number;
  msgData: string;
}): IdempotencyKey {
  return {
    senderId: input.senderId,
    conversationId: input.conversationId,
    clientMsgId: input.clientMsgId,
    tag: digest(`${input.senderId}\u0000${input.clientMsgId}`, 16),
    contentHash: contentHash(input.msgType, input.msgData),
  };
}
