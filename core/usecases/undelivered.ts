/**
 * The offline push hook: tells the event bus about receivers a message did not reach on any connection, with their
 * push tokens, so a team's own rule sends FCM/APNs/SNS pushes. Best effort: the message is stored either way.
 */
import { SessionType } from '../domain/ids.js';
import { GROUP_MSG_TYPES, type StoredMessage } from '../domain/message.js';
import type { UndeliveredMessageDetail } from '../domain/push.js';
import { logger } from '../observability.js';
import type { DeviceTokenStore, EventPublisher } from '../ports.js';

export interface UndeliveredPorts {
  readonly deviceTokens: DeviceTokenStore;
  readonly events: EventPublisher;
  readonly config: { readonly pushIncludesBody: boolean };
}

export async function announceUndelivered(
  ports: UndeliveredPorts,
  message: StoredMessage,
  receivers: readonly string[],
  reason: UndeliveredMessageDetail['reason'],
): Promise<void> {
  try {
    const tokens = await ports.deviceTokens.tokensOf(receivers);
    const isGroup = GROUP_MSG_TYPES.includes(message.msgType);
    await ports.events.publishUndelivered(
      receivers.map((userId) => ({
        reason,
        user_id: userId,
        from_user_id: message.fromUserId,
        session_type: isGroup ? SessionType.Group : SessionType.Single,
        session_id: isGroup ? message.toSessionId : message.fromUserId,
        msg_id: message.msgId,
        msg_type: message.msgType,
        create_time: message.createTime,
        device_tokens: tokens.get(userId) ?? [],
        ...(ports.config.pushIncludesBody ? { msg_data: message.msgData } : {}),
      })),
    );
  } catch (error) {
    logger.warn('undelivered message not announced', { msgId: message.msgId, receivers: receivers.length, error: error as Error });
  }
}
