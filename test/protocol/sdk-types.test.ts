/**
 * The SDK's wire types (protocol/frames.ts `RequestMap`) checked against what the server validates and answers: for
 * every request action, the request fields against the valibot schema the server validates with, and the reply
 * fields against the use-case's result. The check is the type checker's (`npm test` runs `tsc`): a field the server
 * takes or sends that the SDK does not know, or the other way round, or a field optional on one side only, does not
 * compile. Literal types are compared as their base type (the server answers `session_type: number`, the SDK says
 * 1 | 2). This file's one runtime test only says the table covers every action.
 */
import type * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { AttachmentUploadSchema, AttachmentUrlSchema } from '../../core/domain/attachment-requests.js';
import type { AccountExportSchema, ReportSchema } from '../../core/domain/report.js';
import type * as schemas from '../../core/domain/requests.js';
import type { requestExport } from '../../core/usecases/account-export.js';
import type { fileReport } from '../../core/usecases/report.js';
import type { downloadUrl, requestUpload } from '../../core/usecases/attachments.js';
import type { changeGroupMembers, createGroup, groupInfo, listGroups } from '../../core/usecases/groups.js';
import type { latestMsgId, listMessages, messagesByIds } from '../../core/usecases/history.js';
import type { blockUser, listBlocks, unblockUser } from '../../core/usecases/blocks.js';
import type { muteSession } from '../../core/usecases/session-mute.js';
import type { recentSessions, removeSession, unreadCounts } from '../../core/usecases/sessions.js';
import type { registerDeviceToken } from '../../core/usecases/device-tokens.js';
import type * as presence from '../../core/domain/presence-requests.js';
import type { setPresence, subscribePresence, usersStat } from '../../core/usecases/presence.js';
import type { MsgEditSchema, MsgRecallSchema } from '../../core/domain/edit-requests.js';
import type { editMessage, recallMessage } from '../../core/usecases/edits.js';
import { CLIENT_ACTIONS, type NoFields, type RequestAction, type RequestMap } from '../../protocol/frames.js';

/** A type with its literals widened, every level readonly, optional fields kept optional. */
type Shape<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? readonly Shape<E>[]
        : T extends object
          ? { readonly [K in keyof T]: Shape<T[K]> }
          : T;

/** True when two types are the same after {@link Shape}. */
type Same<A, B> = (<T>() => T extends Shape<A> ? 1 : 2) extends <T>() => T extends Shape<B> ? 1 : 2 ? true : false;

/** A union of objects as one object whose every key is optional (how a schema with a one-of check reads them). */
type Merged<U> = {
  [K in U extends unknown ? keyof U : never]?: U extends { readonly [P in K]?: infer V }
    ? Exclude<V, undefined>
    : never;
};

/** The SDK's request type as the server's schema reads it: device_token_remove is a one-of (token, device_id, all). */
type SdkRequest<A extends RequestAction> = A extends 'device_token_remove'
  ? Merged<RequestMap[A]['request']>
  : RequestMap[A]['request'];

type RequestOf<S extends v.GenericSchema> = Omit<v.InferInput<S>, 'action' | 'seq'>;
type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

/** What the server validates each action's request with, and what it answers (the handlers' `run`). */
interface Server {
  msg_list: { request: RequestOf<typeof schemas.MsgListSchema>; reply: Result<typeof listMessages> };
  latest_msg_id: { request: RequestOf<typeof schemas.LatestMsgIdSchema>; reply: Result<typeof latestMsgId> };
  msg_by_ids: { request: RequestOf<typeof schemas.MsgByIdsSchema>; reply: Result<typeof messagesByIds> };
  unread_cnt: { request: RequestOf<typeof schemas.UnreadCntSchema>; reply: Result<typeof unreadCounts> };
  recent_sessions: { request: RequestOf<typeof schemas.RecentSessionsSchema>; reply: Result<typeof recentSessions> };
  msg_read_ack: { request: RequestOf<typeof schemas.MsgReadAckSchema>; reply: NoFields };
  remove_session: { request: RequestOf<typeof schemas.RemoveSessionSchema>; reply: Result<typeof removeSession> };
  group_create: { request: RequestOf<typeof schemas.GroupCreateSchema>; reply: Result<typeof createGroup> };
  group_change_member: {
    request: RequestOf<typeof schemas.GroupChangeMemberSchema>;
    reply: Result<typeof changeGroupMembers>;
  };
  group_list: { request: RequestOf<typeof schemas.GroupListSchema>; reply: Result<typeof listGroups> };
  group_info: { request: RequestOf<typeof schemas.GroupInfoSchema>; reply: Result<typeof groupInfo> };
  device_token: { request: RequestOf<typeof schemas.DeviceTokenSchema>; reply: Result<typeof registerDeviceToken> };
  device_token_verify: { request: RequestOf<typeof schemas.DeviceTokenVerifySchema>; reply: NoFields };
  device_token_remove: { request: RequestOf<typeof schemas.DeviceTokenRemoveSchema>; reply: NoFields };
  session_mute: { request: RequestOf<typeof schemas.SessionMuteSchema>; reply: Result<typeof muteSession> };
  attachment_upload: { request: RequestOf<typeof AttachmentUploadSchema>; reply: Result<typeof requestUpload> };
  attachment_url: { request: RequestOf<typeof AttachmentUrlSchema>; reply: Result<typeof downloadUrl> };
  user_block: { request: RequestOf<typeof schemas.UserBlockSchema>; reply: Result<typeof blockUser> };
  user_unblock: { request: RequestOf<typeof schemas.UserUnblockSchema>; reply: Result<typeof unblockUser> };
  block_list: { request: RequestOf<typeof schemas.BlockListSchema>; reply: Result<typeof listBlocks> };
  report: { request: RequestOf<typeof ReportSchema>; reply: { report_id: Result<typeof fileReport> } };
  account_export: {
    request: RequestOf<typeof AccountExportSchema>;
    reply: { export_id: Result<typeof requestExport> };
  };
  account_delete: { request: RequestOf<typeof schemas.AccountDeleteSchema>; reply: NoFields };
  users_stat: { request: RequestOf<typeof presence.UsersStatSchema>; reply: Result<typeof usersStat> };
  presence_subscribe: {
    request: RequestOf<typeof presence.PresenceSubscribeSchema>;
    reply: Result<typeof subscribePresence>;
  };
  presence_set: { request: RequestOf<typeof presence.PresenceSetSchema>; reply: Result<typeof setPresence> };
  msg_recall: { request: RequestOf<typeof MsgRecallSchema>; reply: Result<typeof recallMessage> };
  msg_edit: { request: RequestOf<typeof MsgEditSchema>; reply: Result<typeof editMessage> };
}

/** Every request action but heartbeat (answered by $default, no fields either way). */
type Checked = Exclude<RequestAction, 'heartbeat'>;

/** For each action: [request fields agree, reply fields agree]. A `false` anywhere fails to compile below. */
type Agreement = {
  [A in Checked]: [Same<Server[A]['request'], SdkRequest<A>>, Same<Server[A]['reply'], RequestMap[A]['reply']>];
};

const agreement: { [A in Checked]: [true, true] } = {} as Agreement;
const covered: Record<Checked, true> = {} as { [A in keyof Server]: true };

describe("the SDK's request types", () => {
  it('are checked against the server for every request action but heartbeat', () => {
    void agreement;
    void covered;
    const checked: readonly string[] = [
      'msg_list',
      'latest_msg_id',
      'msg_by_ids',
      'unread_cnt',
      'recent_sessions',
      'msg_read_ack',
      'remove_session',
      'group_create',
      'group_change_member',
      'group_list',
      'group_info',
      'device_token',
      'device_token_verify',
      'device_token_remove',
      'session_mute',
      'attachment_upload',
      'attachment_url',
      'user_block',
      'user_unblock',
      'block_list',
      'report',
      'account_export',
      'account_delete',
      'users_stat',
      'presence_subscribe',
      'presence_set',
      'msg_recall',
      'msg_edit',
    ] satisfies Checked[];
    expect(CLIENT_ACTIONS.filter((a) => !checked.includes(a))).toEqual([
      'msg_data',
      'msg_data_ack',
      'heartbeat',
      'typing',
    ]);
  });
});
