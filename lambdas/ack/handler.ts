/** Route msg_data_ack: removes the caller's pending delivery; no reply unless the frame is refused. */
import { seqOf } from '../../core/domain/client-frames.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { OK, callerOf, replyError, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export function createAckHandler(runtime: Runtime) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    try {
      await ackDelivery(runtime, { connectionId: caller.connectionId, userId: caller.userId, body: event.body });
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
    }
    return OK;
  };
}

export const handler = createAckHandler(createRuntime());
