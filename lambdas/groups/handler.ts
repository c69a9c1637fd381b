/** Group routes: group_create, group_change_member, group_list, group_info, session_mute (requests with replies). */
import { createRequestHandler, request } from '../../core/request-handler.js';
import {
  GroupChangeMemberSchema,
  GroupCreateSchema,
  GroupInfoSchema,
  GroupListSchema,
  SessionMuteSchema,
} from '../../core/domain/requests.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { changeGroupMembers, createGroup, groupInfo, listGroups } from '../../core/usecases/groups.js';
import { muteSession } from '../../core/usecases/session-mute.js';

export function createGroupsHandler(runtime: Runtime) {
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

export const handler = createGroupsHandler(createRuntime());
