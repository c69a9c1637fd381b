/** msg_data_ack (TeamTalk DelFromSendList): removes the caller's own pending delivery of that message. */
import { MsgDataAckSchema, parseFrame, validateFrame } from '../domain/client-frames.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, singleConversationId } from '../domain/ids.js';
import type { MessageStore, PendingDelivery, PendingStore } from '../ports.js';

export interface AckDeliveryPorts {
  readonly messages: MessageStore;
  readonly pending: PendingStore;
}

export interface AckDeliveryInput {
  /** The acking connection: only its own delivery can be removed. */
  readonly connectionId: string;
  readonly userId: string;
  readonly body: string | undefined;
}

/** The removed delivery, if there was one. Throws FrameError for a malformed frame. */
export async function ackDelivery(ports: AckDeliveryPorts, input: AckDeliveryInput): Promise<PendingDelivery | undefined> {
  const request = validateFrame(MsgDataAckSchema, parseFrame(input.body));
  // The pending key holds the caller's own connection id, so only its own delivery can go; no membership check needed.
  const conversationId =
    request.session_type === SessionType.Group ? groupConversationId(request.session_id) : singleConversationId(input.userId, request.session_id);
  // The row's slot follows from the message's create_time, which the frame does not carry.
  const message = await ports.messages.get(conversationId, request.msg_id);
  if (!message) return undefined;
  return ports.pending.delete({ connectionId: input.connectionId, conversationId, msgId: message.msgId, createTime: message.createTime });
}
