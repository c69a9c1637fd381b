/** Route msg_data: store, ack the sender, then deliver to every other connection of both users. */
import { seqOf } from '../../core/domain/client-frames.js';
import { msgDataAckFrame } from '../../core/domain/frames.js';
import { logger } from '../../core/observability.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { acceptMessage, type AcceptedMessage } from '../../core/usecases/accept-message.js';
import { deliverMessage } from '../../core/usecases/deliver-message.js';
import { OK, callerOf, reply, replyError, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export function createSendHandler(runtime: Runtime) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    let accepted: AcceptedMessage;
    try {
      accepted = await acceptMessage(runtime, { connectionId: caller.connectionId, userId: caller.userId, body: event.body });
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
      return OK;
    }
    const { message } = accepted;
    await reply(runtime.gateway, caller.connectionId, msgDataAckFrame(message, accepted.sessionType, accepted.seq));
    // A resend of a message already stored is only acked again: its deliveries were made (or catch-up has it).
    if (!accepted.deliver) return OK;
    try {
      const stats = await deliverMessage(runtime, message, { exceptConnectionId: caller.connectionId });
      logger.info('message stored and delivered', { userId: caller.userId, connectionId: caller.connectionId, msgId: message.msgId, ...stats });
    } catch (error) {
      // Stored and acked already: receivers get it by catch-up; the error is for the logs and alarms.
      logger.error('fan-out failed', { userId: caller.userId, msgId: message.msgId, error: error as Error });
    }
    return OK;
  };
}

export const handler = createSendHandler(createRuntime());
