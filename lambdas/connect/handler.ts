/**
 * Routes $connect and $disconnect: store the connection under its user (kicking the user's oldest connection past
 * the cap, scheduling the token's expiry), or forget it with its pending deliveries; either queues a presence check
 * when the user's status moved from the one announced (an offline one held back: core/usecases/presence.ts). A
 * suspended or deleted account is refused (403) before anything is stored: one strongly consistent GetItem of the
 * Accounts table a connect.
 */
import { logger, observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { accountTable, connectionTable, pendingDeliveryTable, presenceTable } from '../../core/compose/dynamo.js';
import type { AccountStore } from '../../core/ports/accounts.js';
import type { Runtime } from '../../core/runtime.js';
import { connectionRefusal } from '../../core/usecases/account-status.js';
import { dropConnection, registerConnection } from '../../core/usecases/connections.js';
import { queuePresenceCheck } from '../../core/usecases/presence.js';
import { presenceChecks } from '../../core/compose/presence-checks.js';
import type { PresenceCheckQueue } from '../../core/ports/presence.js';
import { OK, callerOf, correlationOf, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export type ConnectHandlerPorts = Pick<
  Runtime,
  'config' | 'clock' | 'gateway' | 'connections' | 'presence' | 'pending'
> & { readonly accounts: AccountStore; readonly presenceChecks: PresenceCheckQueue };

/**
 * DynamoDB (Accounts, Connections, Presence, PendingDeliveries), @connections (to kick) and SQS (a presence check when
 * the user's status changes: one SendMessage, none for a reconnect or a second device): no S3, no EventBridge.
 */
export function connectHandlerPorts(adapters: Adapters): ConnectHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    connections: connectionTable(db, config),
    presence: presenceTable(db, config),
    pending: pendingDeliveryTable(db, config),
    accounts: accountTable(db, config),
    presenceChecks: presenceChecks(adapters),
  };
}

/** API Gateway refuses the upgrade with this status when $connect answers it. */
const FORBIDDEN: WebSocketResult = { statusCode: 403, body: 'account suspended or deleted' };

export function createConnectHandler(runtime: ConnectHandlerPorts) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    if (event.requestContext.eventType === 'DISCONNECT') {
      const { pendingDropped, presence } = await dropConnection(runtime, caller);
      await queuePresenceCheck(runtime, caller.userId, presence);
      logger.info('disconnected', { ...caller, pendingDropped });
      return OK;
    }
    const refusal = await connectionRefusal(runtime, caller.userId);
    if (refusal) {
      logger.info('connection refused', { ...caller, accountStatus: refusal });
      return FORBIDDEN;
    }
    const { kicked, presence } = await registerConnection(runtime, caller);
    if (presence) await queuePresenceCheck(runtime, caller.userId, presence);
    logger.info('connected', { ...caller, kicked: kicked.length });
    return OK;
  }, correlationOf);
}
