/** Group routes: group_create, group_change_member, group_list, group_info, session_mute (requests with replies). */
import { createRequestHandler, request } from '../../core/request-handler.js';
import {
  GroupChangeMemberSchema,
  GroupCreateSchema,
  GroupInfoSchema,
  GroupListSchema,
  SessionMuteSchema,
} from '../../core/domain/requests.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import {
  conversationTable,
  groupMuteTable,
  groupTables,
  presenceTable,
  rateLimitTable,
  sessionTable,
  userQuotaTable,
} from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { changeGroupMembers, createGroup, groupInfo, listGroups } from '../../core/usecases/groups.js';
import { muteSession } from '../../core/usecases/session-mute.js';

export type GroupsHandlerPorts = Pick<
  Runtime,
  | 'config'
  | 'clock'
  | 'gateway'
  | 'rateLimits'
  | 'groups'
  | 'sessions'
  | 'quotas'
  | 'conversations'
  | 'presence'
  | 'groupMutes'
>;

/** DynamoDB (groups, members and their sessions, quotas, RateLimits) and @connections: no S3, no EventBridge. */
export function groupsHandlerPorts(adapters: Adapters): GroupsHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    groups: groupTables(db, config),
    sessions: sessionTable(db, config),
    quotas: userQuotaTable(db, config),
    conversations: conversationTable(db, config),
    presence: presenceTable(db, config),
    groupMutes: groupMuteTable(db, config),
  };
}

export function createGroupsHandler(runtime: GroupsHandlerPorts) {
  return createRequestHandler(runtime, {
    group_create: request({ schema: GroupCreateSchema, run: (rt, caller, r) => createGroup(rt, caller, r) }),
    group_change_member: request({
      schema: GroupChangeMemberSchema,
      run: (rt, caller, r) => changeGroupMembers(rt, caller, r),
    }),
    group_list: request({ schema: GroupListSchema, run: (rt, caller, r) => listGroups(rt, caller.userId, r) }),
    group_info: request({ schema: GroupInfoSchema, run: (rt, caller, r) => groupInfo(rt, caller.userId, r) }),
    session_mute: request({ schema: SessionMuteSchema, run: (rt, caller, r) => muteSession(rt, caller.userId, r) }),
  });
}
