/**
 * The offline push hook: tells the event bus about receivers a message did not reach on any connection, so a push
 * sender notifies their devices. Bounded: one event per PUSH_EVENT_MAX_RECEIVERS receivers, ten events a PutEvents
 * call, published after the live deliveries so it never delays them. Best effort: the message is stored either way.
 */
import { SessionType } from '../domain/ids.js';
import { isGroupMsgType, type StoredMessage } from '../domain/message.js';
import { PUSH_EVENT_MAX_RECEIVERS, type UndeliveredMessageDetail } from '../domain/push.js';
import { logger } from '../observability.js';
import type { EventPublisher } from '../ports/events.js';

export interface UndeliveredPorts {
  readonly events: EventPublisher;
  readonly config: { readonly pushIncludesBody: boolean };
}

/** Best effort: a failure is logged (the message is stored and reaches the receivers by catch-up). */
export async function announceUndelivered(
  ports: UndeliveredPorts,
  message: StoredMessage,
  receivers: readonly string[],
  reason: UndeliveredMessageDetail['reason'],
): Promise<void> {
  if (receivers.length === 0) return;
  try {
    await ports.events.publishUndelivered(
      undeliveredDetails(message, receivers, reason, ports.config.pushIncludesBody),
    );
  } catch (error) {
    logger.warn('undelivered message not announced', {
      msgId: message.msgId,
      receivers: receivers.length,
      error: error as Error,
    });
  }
}

/** The events announcing a message to receivers, PUSH_EVENT_MAX_RECEIVERS a piece. */
export function undeliveredDetails(
  message: StoredMessage,
  receivers: readonly string[],
  reason: UndeliveredMessageDetail['reason'],
  includeBody: boolean,
): UndeliveredMessageDetail[] {
  const isGroup = isGroupMsgType(message.msgType);
  const details: UndeliveredMessageDetail[] = [];
  for (let i = 0; i < receivers.length; i += PUSH_EVENT_MAX_RECEIVERS) {
    details.push({
      reason,
      receivers: receivers.slice(i, i + PUSH_EVENT_MAX_RECEIVERS),
      from_user_id: message.fromUserId,
      session_type: isGroup ? SessionType.Group : SessionType.Single,
      session_id: isGroup ? message.toSessionId : message.fromUserId,
      msg_id: message.msgId,
      msg_type: message.msgType,
      create_time: message.createTime,
      ...(includeBody ? { msg_data: message.msgData } : {}),
    });
  }
  return details;
}
