/**
 * msg_data end to end: accept (validate, number, store — accept-message.ts), make the delivery durable
 * (deliver-message.ts), build the sender's ack from what is stored — checked against what was asked, so that the server
 * never acks a message that is not stored under the acked msg_id in the acked conversation — and hand back the
 * delivery to run after the ack is posted.
 */
import { msgDataAckFrame, type MsgDataAckFrame } from '../domain/frames.js';
import { contentHash } from '../domain/idempotency.js';
import { AckInvariantError } from '../errors.js';
import {
  acceptMessage,
  type AcceptedMessage,
  type AcceptMessageInput,
  type AcceptMessagePorts,
} from './accept-message.js';
import type { StoredMessage } from '../domain/message.js';
import type { FanoutMarker } from '../domain/pending-delivery.js';
import {
  isGroupMessage,
  prepareDelivery,
  recordFanoutMarker,
  type DeliverMessagePorts,
  type DeliveryStats,
} from './deliver-message.js';

export interface SendMessagePorts extends Omit<AcceptMessagePorts, 'config'>, Omit<DeliverMessagePorts, 'config'> {
  readonly config: AcceptMessagePorts['config'] & DeliverMessagePorts['config'];
}

export interface SendMessageInput extends AcceptMessageInput {
  /** The sending connection: it gets the ack, not the message. */
  readonly connectionId: string;
  /** Unix ms after which a group fan-out leaves the rest to the sweeper (the Lambda's remaining time). */
  readonly deadline?: number;
}

export interface SentMessage {
  readonly accepted: AcceptedMessage;
  /** The ack for the sending connection. */
  readonly ack: MsgDataAckFrame;
  /** Posts the deliveries (and fans out a group message); call after the ack is posted. */
  deliver(): Promise<DeliveryStats>;
}

/** Throws FrameError for a refused frame (nothing stored), AckInvariantError if what is stored is not what was asked. */
export async function sendMessage(ports: SendMessagePorts, input: SendMessageInput): Promise<SentMessage> {
  let marker: FanoutMarker | undefined;
  const whileStoring = async (message: StoredMessage) => {
    if (isGroupMessage(message))
      marker = await recordFanoutMarker(ports, message, { exceptConnectionId: input.connectionId });
  };
  const accepted = await acceptMessage(ports, input, { whileStoring });
  const ack = verifiedAck(accepted);
  const delivery = await prepareDelivery(ports, accepted.message, {
    ...(marker === undefined ? {} : { marker }),
    exceptConnectionId: input.connectionId,
    mode: accepted.attempt === 'first' ? 'fresh' : 'resume',
    indexedDay: accepted.indexedDay,
    ...(input.deadline === undefined ? {} : { deadline: input.deadline }),
  });
  return { accepted, ack, deliver: () => delivery.run() };
}

/**
 * The ack frame, built from the stored message only after checking that it is the asked one: same conversation,
 * same sender, same client_msg_id, same content.
 */
export function verifiedAck(accepted: AcceptedMessage): MsgDataAckFrame {
  const { message, asked } = accepted;
  const mismatch =
    message.conversationId !== asked.conversationId
      ? 'conversation'
      : message.fromUserId !== asked.senderId
        ? 'sender'
        : message.clientMsgId !== asked.clientMsgId
          ? 'client_msg_id'
          : contentHash(message.msgType, message.msgData) !== asked.contentHash
            ? 'content'
            : undefined;
  if (mismatch)
    throw new AckInvariantError(
      `not acking msg_id ${message.msgId} of ${message.conversationId}: its ${mismatch} is not the one asked for`,
    );
  return msgDataAckFrame(message, accepted.sessionType, accepted.seq);
}
