/**
 * Routes $connect and $disconnect: store the connection under its user (kicking the user's oldest connection past
 * the cap, scheduling the token's expiry), or forget it with its pending deliveries. A suspended or deleted account is
 * refused (403) before anything is stored: one strongly consistent GetItem of the Accounts table a connect.
 */
import { logger, observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { accountTable, connectionTable, pendingDeliveryTable, presenceTable } from '../../core/compose/dynamo.js';
import type { AccountStore } from '../../core/ports/accounts.js';
import type { Runtime } from '../../core/runtime.js';
import { connectionRefusal } from '../../core/usecases/account-status.js';
import { dropConnection, registerConnection } from '../../core/usecases/connections.js';
import { OK, callerOf, correlationOf, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export type ConnectHandlerPorts = Pick<
  Runtime,
  'config' | 'clock' | 'gateway' | 'connections' | 'presence' | 'pending'
> & { readonly accounts: AccountStore };

/** DynamoDB (Accounts, Connections, Presence, PendingDeliveries) and @connections (to kick): no S3, no EventBridge. */
export function connectHandlerPorts(adapters: Adapters): ConnectHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    connections: connectionTable(db, config),
    presence: presenceTable(db, config),
    pending: pendingDeliveryTable(db, config),
    accounts: accountTable(db, config),
  };
}

/** API Gateway refuses the upgrade with this status when $connect answers it. */
const FORBIDDEN: WebSocketResult = { statusCode: 403, body: 'account suspended or deleted' };

export function createConnectHandler(runtime: ConnectHandlerPorts) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    if (event.requestContext.eventType === 'DISCONNECT') {
      const dropped = await dropConnection(runtime, caller);
      logger.info('disconnected', { ...caller, pendingDropped: dropped });
      return OK;
    }
    const refusal = await connectionRefusal(runtime, caller.userId);
    if (refusal) {
      logger.info('connection refused', { ...caller, accountStatus: refusal });
      return FORBIDDEN;
    }
    const { kicked } = await registerConnection(runtime, caller);
    logger.info('connected', { ...caller, kicked: kicked.length });
    return OK;
  }, correlationOf);
}
