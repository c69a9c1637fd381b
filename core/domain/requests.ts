/** Schemas of the read-side requests (contract: "Requests and replies"). */
import * as v from 'valibot';
import { USER_ID_PATTERN } from './ids.js';

const seq = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 32 - 1)));
const sessionId = v.pipe(v.string(), v.regex(USER_ID_PATTERN, 'must be 1-128 characters of A-Za-z0-9_.@-'));
const sessionType = v.picklist([1, 2], 'must be 1 or 2');
const msgId = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
/** An opaque cursor from a previous reply. */
const pageToken = v.optional(v.pipe(v.string(), v.maxLength(512)));

const session = { seq, session_id: sessionId, session_type: sessionType };

export const MsgListSchema = v.object({
  action: v.literal('msg_list'),
  ...session,
  msg_id_begin: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  msg_cnt: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
});

export const LatestMsgIdSchema = v.object({ action: v.literal('latest_msg_id'), ...session });

export const MsgByIdsSchema = v.object({
  action: v.literal('msg_by_ids'),
  ...session,
  msg_ids: v.pipe(v.array(msgId), v.minLength(1), v.maxLength(100)),
});

export const UnreadCntSchema = v.object({ action: v.literal('unread_cnt'), seq });

export const RecentSessionsSchema = v.object({
  action: v.literal('recent_sessions'),
  seq,
  latest_update_time: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  page_token: pageToken,
});

export const MsgReadAckSchema = v.object({ action: v.literal('msg_read_ack'), ...session, msg_id: msgId });

export const RemoveSessionSchema = v.object({ action: v.literal('remove_session'), ...session });

const userIds = v.array(sessionId);

export const GroupCreateSchema = v.object({
  action: v.literal('group_create'),
  seq,
  group_name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128)),
  member_ids: userIds,
});

export const GroupChangeMemberSchema = v.object({
  action: v.literal('group_change_member'),
  seq,
  group_id: sessionId,
  change_type: v.picklist(['add', 'del'], 'must be "add" or "del"'),
  member_ids: v.pipe(userIds, v.minLength(1)),
});

export const GroupListSchema = v.object({ action: v.literal('group_list'), seq });

export const GroupInfoSchema = v.object({ action: v.literal('group_info'), seq, group_id: sessionId });

export const DeviceTokenSchema = v.object({
  action: v.literal('device_token'),
  seq,
  token: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
  platform: v.picklist(['ios', 'android', 'web', 'windows', 'mac'], 'must be ios, android, web, windows or mac'),
});
