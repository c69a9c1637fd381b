/** Route msg_data_ack: removes the caller's pending delivery; no reply unless the frame is refused. */
import { seqOf } from '../../core/domain/client-frames.js';
import { METRIC, MetricUnit, metrics, observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { messageTable, pendingDeliveryTable } from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import {
  OK,
  callerOf,
  correlationOf,
  replyError,
  type WebSocketEvent,
  type WebSocketResult,
} from '../../core/websocket-event.js';

export type AckHandlerPorts = Pick<Runtime, 'config' | 'clock' | 'gateway' | 'messages' | 'pending'>;

/** DynamoDB (Messages, PendingDeliveries) and @connections: no S3, no EventBridge. */
export function ackHandlerPorts(adapters: Adapters): AckHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    messages: messageTable(db, config),
    pending: pendingDeliveryTable(db, config),
  };
}

export function createAckHandler(runtime: AckHandlerPorts) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    try {
      const removed = await ackDelivery(runtime, {
        connectionId: caller.connectionId,
        userId: caller.userId,
        body: event.body,
      });
      // Time since each delivery (or its latest redelivery) was posted.
      for (const d of removed)
        metrics.addMetric(
          METRIC.ackLatency,
          MetricUnit.Milliseconds,
          runtime.clock.now() - (d.nextDueAt - runtime.config.ackTimeoutMs),
        );
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
    }
    return OK;
  }, correlationOf);
}
