/**
 * Route msg_data: store, make the delivery durable, ack the sender, then deliver to every other connection of both
 * users (or the group).
 */
import type { Context } from 'aws-lambda';
import { seqOf } from '../../core/domain/client-frames.js';
import { METRIC, count, logger, observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { attachmentBucket } from '../../core/compose/attachments.js';
import { contentCheck } from '../../core/compose/content-check.js';
import {
  attachmentRecordTable,
  blockTable,
  connectionTable,
  conversationTable,
  groupTables,
  messageTable,
  pendingDeliveryTable,
  presenceTable,
  rateLimitTable,
  sentMessageTable,
  sessionTable,
} from '../../core/compose/dynamo.js';
import { eventBus } from '../../core/compose/events.js';
import { sendMessage, type SendMessagePorts, type SentMessage } from '../../core/usecases/send-message.js';
import {
  OK,
  callerOf,
  correlationOf,
  reply,
  replyError,
  type WebSocketEvent,
  type WebSocketResult,
} from '../../core/websocket-event.js';

/** Time kept back from the Lambda timeout so that a fan-out stops cleanly and leaves the rest to the sweeper. */
const FANOUT_SAFETY_MS = 5_000;

/**
 * Every port of msg_data: DynamoDB, @connections, EventBridge (the offline push hook) and the attachment bucket (a
 * message referencing an upload has it checked and copied).
 */
export function sendHandlerPorts(adapters: Adapters): SendMessagePorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    events: eventBus(adapters),
    attachments: attachmentBucket(adapters),
    rateLimits: rateLimitTable(db, config),
    attachmentRecords: attachmentRecordTable(db, config),
    conversations: conversationTable(db, config),
    messages: messageTable(db, config),
    sessions: sessionTable(db, config),
    groups: groupTables(db, config),
    sentMessages: sentMessageTable(db, config),
    connections: connectionTable(db, config),
    presence: presenceTable(db, config),
    pending: pendingDeliveryTable(db, config),
    blocks: blockTable(db, config),
    contentCheck: contentCheck(adapters),
  };
}

export function createSendHandler(runtime: SendMessagePorts) {
  return observed(async (event: WebSocketEvent, context?: Context): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    const remaining = context?.getRemainingTimeInMillis?.();
    let sent: SentMessage;
    try {
      sent = await sendMessage(runtime, {
        connectionId: caller.connectionId,
        userId: caller.userId,
        body: event.body,
        ...(remaining === undefined ? {} : { deadline: runtime.clock.now() + remaining - FANOUT_SAFETY_MS }),
      });
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
      return OK;
    }
    const { message, attempt } = sent.accepted;
    logger.appendKeys({ msgId: message.msgId, conversationId: message.conversationId });
    await reply(runtime.gateway, caller.connectionId, sent.ack);
    if (attempt === 'first') count(METRIC.messagesStored, 1);
    try {
      const stats = await sent.deliver();
      count(METRIC.deliveries, stats.delivered);
      count(METRIC.goneConnections, stats.gone);
      count(METRIC.deliveriesDeferred, stats.deferred);
      count(METRIC.offlineEvents, stats.offline);
      logger.info('message stored and delivered', { ...stats, attempt });
    } catch (error) {
      // Stored, acked and recorded already: the pending rows or the fan-out marker let the sweeper finish.
      logger.error('delivery failed; the sweeper finishes it', { error: error as Error });
    }
    return OK;
  }, correlationOf);
}
