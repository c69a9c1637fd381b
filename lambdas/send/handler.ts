/** Route msg_data: store, ack the sender, then deliver to every other connection of both users (or the group). */
import { seqOf } from '../../core/domain/client-frames.js';
import { msgDataAckFrame } from '../../core/domain/frames.js';
import { METRIC, count, logger, observed } from '../../core/observability.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { acceptMessage, type AcceptedMessage } from '../../core/usecases/accept-message.js';
import { deliverMessage } from '../../core/usecases/deliver-message.js';
import { OK, callerOf, correlationOf, reply, replyError, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export function createSendHandler(runtime: Runtime) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    let accepted: AcceptedMessage;
    try {
      accepted = await acceptMessage(runtime, { connectionId: caller.connectionId, userId: caller.userId, body: event.body });
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
      return OK;
    }
    const { message } = accepted;
    logger.appendKeys({ msgId: message.msgId, conversationId: message.conversationId });
    await reply(runtime.gateway, caller.connectionId, msgDataAckFrame(message, accepted.sessionType, accepted.seq));
    // A resend of a message already stored is only acked again: its deliveries were made (or catch-up has it).
    if (!accepted.deliver) return OK;
    count(METRIC.messagesStored, 1);
    try {
      const stats = await deliverMessage(runtime, message, { exceptConnectionId: caller.connectionId });
      count(METRIC.deliveries, stats.delivered);
      count(METRIC.goneConnections, stats.gone);
      count(METRIC.deliveriesDeferred, stats.deferred);
      count(METRIC.offlineEvents, stats.offline);
      logger.info('message stored and delivered', { ...stats });
    } catch (error) {
      // Stored and acked already: receivers get it by catch-up; the error is for the logs and alarms.
      logger.error('fan-out failed', { error: error as Error });
    }
    return OK;
  }, correlationOf);
}

export const handler = createSendHandler(createRuntime());
