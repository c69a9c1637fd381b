/**
 * msg_data_ack (TeamTalk DelFromSendList): removes the caller's own pending deliveries of one message (`msg_id`) or of
 * up to 100 of one conversation (`msg_ids`, a bulk ack: one frame and one invocation for a burst of messages).
 */
import { MsgDataAckSchema, parseFrame, validateFrame } from '../domain/client-frames.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, singleConversationId } from '../domain/ids.js';
import type { MessageStore, PendingStore } from '../ports/stores.js';
import type { PendingDelivery } from '../domain/pending-delivery.js';

export interface AckDeliveryPorts {
  readonly messages: MessageStore;
  readonly pending: PendingStore;
}

export interface AckDeliveryInput {
  /** The acking connection: only its own deliveries can be removed. */
  readonly connectionId: string;
  readonly userId: string;
  readonly body: string | undefined;
}

/** The removed deliveries. Throws FrameError for a malformed frame. */
export async function ackDelivery(ports: AckDeliveryPorts, input: AckDeliveryInput): Promise<PendingDelivery[]> {
  const request = validateFrame(MsgDataAckSchema, parseFrame(input.body));
  // The pending key holds the caller's own connection id, so only its own delivery can go; no membership check needed.
  const conversationId =
    request.session_type === SessionType.Group
      ? groupConversationId(request.session_id)
      : singleConversationId(input.userId, request.session_id);
  const msgIds = [...new Set(request.msg_ids ?? [request.msg_id!])];
  // A row's slot follows from its message's create_time, which the frame does not carry.
  const messages =
    msgIds.length === 1
      ? [await ports.messages.get(conversationId, msgIds[0]!)].filter((m) => m !== undefined)
      : await ports.messages.getMany(msgIds.map((msgId) => ({ conversationId, msgId })));
  const removed = await Promise.all(
    messages.map((m) =>
      ports.pending.delete({
        connectionId: input.connectionId,
        conversationId,
        msgId: m.msgId,
        createTime: m.createTime,
      }),
    ),
  );
  return removed.filter((d) => d !== undefined);
}
