/**
 * Routes account_delete: marks the caller's account deleted and queues the deletion job's first page
 * (core/usecases/account-deletion.ts), answers `{"type":"account_delete"}`, and only then kicks every connection of
 * the user (the asking one included) with `account_deleted`, so the answer arrives before the close.
 */
import { AccountDeleteSchema } from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { deletionQueue } from '../../core/compose/deletion-queue.js';
import {
  accountTable,
  connectionTable,
  pendingDeliveryTable,
  presenceTable,
  rateLimitTable,
} from '../../core/compose/dynamo.js';
import type { AccountStore, DeletionJobQueue } from '../../core/ports/accounts.js';
import type { Runtime } from '../../core/runtime.js';
import { acceptAccountDeletion, kickDeletedUser } from '../../core/usecases/account-deletion.js';
import { callerOf, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

export type AccountHandlerPorts = Pick<
  Runtime,
  'config' | 'clock' | 'gateway' | 'rateLimits' | 'connections' | 'presence' | 'pending'
> & { readonly accounts: AccountStore; readonly jobs: DeletionJobQueue };

/** DynamoDB (Accounts, Connections, Presence, PendingDeliveries, RateLimits), @connections and SQS: no S3. */
export function accountHandlerPorts(adapters: Adapters): AccountHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    connections: connectionTable(db, config),
    presence: presenceTable(db, config),
    pending: pendingDeliveryTable(db, config),
    accounts: accountTable(db, config),
    jobs: deletionQueue(adapters),
  };
}

export function createAccountHandler(runtime: AccountHandlerPorts) {
  const requests = createRequestHandler(runtime, {
    account_delete: request({
      schema: AccountDeleteSchema,
      run: async (rt, caller) => {
        await acceptAccountDeletion(rt, caller.userId);
        return {};
      },
    }),
  });
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const result = await requests(event);
    // The request handler has answered; a deletion it accepted closes the user's connections now.
    if (await isDeleted(runtime, event)) await kickDeletedUser(runtime, callerOf(event).userId);
    return result;
  };
}

/** After an accepted account_delete the status reads `deleted` (1 read unit; only on this rare route). */
async function isDeleted(runtime: AccountHandlerPorts, event: WebSocketEvent): Promise<boolean> {
  return (await runtime.accounts.status(callerOf(event).userId)) === 'deleted';
}
