/**
 * The read side's routes: msg_list, latest_msg_id, msg_by_ids, unread_cnt, recent_sessions, msg_read_ack,
 * remove_session (requests with replies).
 */
import {
  LatestMsgIdSchema,
  MsgByIdsSchema,
  MsgListSchema,
  MsgReadAckSchema,
  RecentSessionsSchema,
  RemoveSessionSchema,
  UnreadCntSchema,
} from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import {
  blockTable,
  conversationTable,
  groupTables,
  messageTable,
  presenceTable,
  rateLimitTable,
  sessionTable,
} from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { latestMsgId, listMessages, messagesByIds } from '../../core/usecases/history.js';
import { markRead } from '../../core/usecases/read-receipts.js';
import { recentSessions, removeSession, unreadCounts } from '../../core/usecases/sessions.js';

export type SyncHandlerPorts = Pick<
  Runtime,
  | 'config'
  | 'clock'
  | 'gateway'
  | 'rateLimits'
  | 'messages'
  | 'groups'
  | 'sessions'
  | 'conversations'
  | 'presence'
  | 'blocks'
>;

/** DynamoDB (the read side's tables, RateLimits for the budgets) and @connections: no S3, no EventBridge. */
export function syncHandlerPorts(adapters: Adapters): SyncHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    messages: messageTable(db, config),
    groups: groupTables(db, config),
    sessions: sessionTable(db, config),
    conversations: conversationTable(db, config),
    presence: presenceTable(db, config),
    blocks: blockTable(db, config),
  };
}

export function createSyncHandler(runtime: SyncHandlerPorts) {
  return createRequestHandler(runtime, {
    msg_list: request({ schema: MsgListSchema, run: (rt, caller, r) => listMessages(rt, caller.userId, r) }),
    latest_msg_id: request({ schema: LatestMsgIdSchema, run: (rt, caller, r) => latestMsgId(rt, caller.userId, r) }),
    msg_by_ids: request({ schema: MsgByIdsSchema, run: (rt, caller, r) => messagesByIds(rt, caller.userId, r) }),
    unread_cnt: request({ schema: UnreadCntSchema, run: (rt, caller, r) => unreadCounts(rt, caller.userId, r) }),
    recent_sessions: request({
      schema: RecentSessionsSchema,
      run: (rt, caller, r) => recentSessions(rt, caller.userId, r),
    }),
    msg_read_ack: request({
      schema: MsgReadAckSchema,

      run: async (rt, caller, r) => {
        await markRead(rt, caller, r);
        return {};
      },
    }),
    remove_session: request({ schema: RemoveSessionSchema, run: (rt, caller, r) => removeSession(rt, caller, r) }),
  });
}
