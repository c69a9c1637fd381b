/**
 * Routes users_stat (the read budget), presence_subscribe and presence_set (the write budget): core/usecases/presence.ts
 * has the rules; a presence_set that changes the user's status announces it from here.
 */
import { PresenceSetSchema, PresenceSubscribeSchema, UsersStatSchema } from '../../core/domain/presence-requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { blockTable, presenceTable, presenceWatcherTable, rateLimitTable } from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { setPresence, subscribePresence, usersStat } from '../../core/usecases/presence.js';

export type PresenceHandlerPorts = Pick<
  Runtime,
  'config' | 'clock' | 'gateway' | 'rateLimits' | 'presence' | 'watchers' | 'blocks'
>;

/** DynamoDB (Presence, PresenceWatchers, Blocks, RateLimits) and @connections. */
export function presenceHandlerPorts(adapters: Adapters): PresenceHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    presence: presenceTable(db, config),
    watchers: presenceWatcherTable(db, config),
    blocks: blockTable(db, config),
  };
}

export function createPresenceHandler(runtime: PresenceHandlerPorts) {
  return createRequestHandler(runtime, {
    users_stat: request({ schema: UsersStatSchema, run: (rt, caller, r) => usersStat(rt, caller.userId, r.user_ids) }),
    presence_subscribe: request({
      schema: PresenceSubscribeSchema,
      run: (rt, caller, r) => subscribePresence(rt, caller, r.user_ids),
    }),
    presence_set: request({ schema: PresenceSetSchema, run: (rt, caller, r) => setPresence(rt, caller, r.status) }),
  });
}
