/**
 * Routes $connect and $disconnect: store the connection under its user (kicking the user's oldest connection past
 * the cap, scheduling the token's expiry), or forget it with its pending deliveries.
 */
import { logger, observed } from '../../core/observability.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { dropConnection, registerConnection } from '../../core/usecases/connections.js';
import { OK, callerOf, correlationOf, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export function createConnectHandler(runtime: Runtime) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    if (event.requestContext.eventType === 'DISCONNECT') {
      const dropped = await dropConnection(runtime, caller);
      logger.info('disconnected', { ...caller, pendingDropped: dropped });
      return OK;
    }
    const { kicked } = await registerConnection(runtime, caller);
    logger.info('connected', { ...caller, kicked: kicked.length });
    return OK;
  }, correlationOf);
}

export const handler = createConnectHandler(createRuntime());
