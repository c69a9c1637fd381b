/** Schemas of the request actions (contract: "Requests and replies"). */
import * as v from 'valibot';
import { DEVICE_PLATFORMS } from '../../protocol/frames.js';
import { DEVICE_ID_PATTERN, LIMIT_DEFAULTS, MAX_IDS_PER_REQUEST, MAX_MSG_LIST_COUNT } from '../../protocol/limits.js';
import {
  groupIdSchema,
  msgIdSchema,
  seqSchema as seq,
  sessionIdSchema as sessionId,
  userIdSchema,
} from './client-frames.js';

const sessionType = v.picklist([1, 2], 'must be 1 or 2');
/** An opaque cursor from a previous reply. */
const pageToken = v.optional(v.pipe(v.string(), v.maxLength(512)));

const session = { seq, session_id: sessionId, session_type: sessionType };

export const MsgListSchema = v.object({
  action: v.literal('msg_list'),
  ...session,
  msg_id_begin: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  msg_cnt: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_MSG_LIST_COUNT)),
});

export const LatestMsgIdSchema = v.object({ action: v.literal('latest_msg_id'), ...session });

export const MsgByIdsSchema = v.object({
  action: v.literal('msg_by_ids'),
  ...session,
  msg_ids: v.pipe(v.array(msgIdSchema), v.minLength(1), v.maxLength(MAX_IDS_PER_REQUEST)),
});

export const UnreadCntSchema = v.object({ action: v.literal('unread_cnt'), seq, page_token: pageToken });

export const RecentSessionsSchema = v.object({
  action: v.literal('recent_sessions'),
  seq,
  latest_update_time: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  page_token: pageToken,
});

export const MsgReadAckSchema = v.object({ action: v.literal('msg_read_ack'), ...session, msg_id: msgIdSchema });

export const RemoveSessionSchema = v.object({ action: v.literal('remove_session'), ...session });

/** At most this many ids in one group request (a frame holds ~32 KB; the group's own cap is checked after). */
export const MAX_MEMBER_IDS_PER_REQUEST = 1000;
const userIds = v.pipe(v.array(userIdSchema), v.maxLength(MAX_MEMBER_IDS_PER_REQUEST));

export const GroupCreateSchema = v.object({
  action: v.literal('group_create'),
  seq,
  group_name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128)),
  member_ids: userIds,
});

export const GroupChangeMemberSchema = v.object({
  action: v.literal('group_change_member'),
  seq,
  group_id: groupIdSchema,
  change_type: v.picklist(['add', 'del'], 'must be "add" or "del"'),
  member_ids: v.pipe(userIds, v.minLength(1)),
});

export const GroupListSchema = v.object({ action: v.literal('group_list'), seq, page_token: pageToken });

export const GroupInfoSchema = v.object({
  action: v.literal('group_info'),
  seq,
  group_id: groupIdSchema,
  page_token: pageToken,
});

const deviceToken = v.pipe(v.string(), v.minLength(1), v.maxLength(LIMIT_DEFAULTS.maxDeviceTokenLength));
/** The app's install id, so a sign-out removes the install's tokens without naming them. */
const deviceId = v.pipe(v.string(), v.regex(DEVICE_ID_PATTERN, 'must be 1-64 characters of A-Za-z0-9_.:-'));

export const DeviceTokenSchema = v.object({
  action: v.literal('device_token'),
  seq,
  token: deviceToken,
  platform: v.picklist(DEVICE_PLATFORMS, `must be ${DEVICE_PLATFORMS.join(', ')}`),
  device_id: v.optional(deviceId),
});

export const UserBlockSchema = v.object({ action: v.literal('user_block'), seq, user_id: userIdSchema });

export const UserUnblockSchema = v.object({ action: v.literal('user_unblock'), seq, user_id: userIdSchema });

export const BlockListSchema = v.object({ action: v.literal('block_list'), seq, page_token: pageToken });

export const SessionMuteSchema = v.object({
  action: v.literal('session_mute'),
  seq,
  session_id: groupIdSchema,
  session_type: v.literal(2, 'must be 2: only group pushes can be muted'),
  mute: v.boolean(),
});

export const DeviceTokenVerifySchema = v.object({
  action: v.literal('device_token_verify'),
  seq,
  token: deviceToken,
  code: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
});

/** One of: a token, the tokens registered with a device_id, or `all` of the caller's. */
export const DeviceTokenRemoveSchema = v.pipe(
  v.object({
    action: v.literal('device_token_remove'),
    seq,
    token: v.optional(deviceToken),
    device_id: v.optional(deviceId),
    all: v.optional(v.literal(true, 'must be true')),
  }),
  v.check(
    (r) => [r.token, r.device_id, r.all].filter((x) => x !== undefined).length === 1,
    'give one of token, device_id or all',
  ),
);

/** No fields: the account deleted is the caller's (identity comes from the token, never from the frame). */
export const AccountDeleteSchema = v.object({ action: v.literal('account_delete'), seq });
