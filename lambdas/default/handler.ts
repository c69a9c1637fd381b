/**
 * Route $default: frames no route took. Non-JSON or non-object frames are bad_request, unknown actions are
 * unknown_action; `heartbeat` is answered here (it needs no route of its own and no table).
 */
import { parseFrame, seqOf } from '../../core/domain/client-frames.js';
import { FrameError } from '../../core/errors.js';
import { observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { connectionsGateway } from '../../core/compose/gateway.js';
import type { Gateway } from '../../core/ports/gateway.js';
import {
  OK,
  reply,
  replyError,
  correlationOf,
  type WebSocketEvent,
  type WebSocketResult,
} from '../../core/websocket-event.js';

export interface DefaultHandlerPorts {
  readonly gateway: Gateway;
}

/** @connections only: no table, no S3, no EventBridge. */
export function defaultHandlerPorts(adapters: Adapters): DefaultHandlerPorts {
  return { gateway: connectionsGateway(adapters) };
}

export function createDefaultHandler(runtime: DefaultHandlerPorts) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const { connectionId } = event.requestContext;
    try {
      const frame = parseFrame(event.body);
      const seq = frame.seq;
      const action = frame.fields['action'];
      if (action === 'heartbeat') {
        await reply(runtime.gateway, connectionId, { type: 'heartbeat', ...(seq === undefined ? {} : { seq }) });
        return OK;
      }
      if (typeof action !== 'string') throw new FrameError('bad_request', 'action: must be a string naming an action');
      throw new FrameError('unknown_action', `unknown action "${action.slice(0, 64)}"`);
    } catch (error) {
      await replyError(runtime.gateway, connectionId, error, seqOf(event.body));
    }
    return OK;
  }, correlationOf);
}
