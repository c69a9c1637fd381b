/**
 * Routes user_block, user_unblock (the write budget) and block_list (the read budget): core/usecases/blocks.ts has the
 * rules, core/store/blocks.ts the two places a block is written.
 */
import { BlockListSchema, UserBlockSchema, UserUnblockSchema } from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { blockTable, rateLimitTable } from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { blockUser, listBlocks, unblockUser } from '../../core/usecases/blocks.js';

export type BlocksHandlerPorts = Pick<Runtime, 'config' | 'clock' | 'gateway' | 'rateLimits' | 'blocks'>;

/** DynamoDB (Blocks, the pairs' Conversations heads, RateLimits) and @connections for the replies. */
export function blocksHandlerPorts(adapters: Adapters): BlocksHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    blocks: blockTable(db, config),
  };
}

export function createBlocksHandler(runtime: BlocksHandlerPorts) {
  return createRequestHandler(runtime, {
    user_block: request({ schema: UserBlockSchema, run: (rt, caller, r) => blockUser(rt, caller.userId, r.user_id) }),
    user_unblock: request({
      schema: UserUnblockSchema,
      run: (rt, caller, r) => unblockUser(rt, caller.userId, r.user_id),
    }),
    block_list: request({ schema: BlockListSchema, run: (rt, caller, r) => listBlocks(rt, caller.userId, r) }),
  });
}
