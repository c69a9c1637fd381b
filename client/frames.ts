/**
 * The wire contract (shared/contract.md) as TypeScript types, plus the parsing of server frames. Field names are
 * the contract's, in snake_case, exactly as they travel.
 */

/** TeamTalk's MsgType: 1 single text, 2 single audio, 17 group text, 18 group audio. */
export const MsgType = {
  SingleText: 1,
  SingleAudio: 2,
  GroupText: 17,
  GroupAudio: 18,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** TeamTalk's SessionType: 1 single chat, 2 group. */
export const SessionType = {
  Single: 1,
  Group: 2,
} as const;
export type SessionType = (typeof SessionType)[keyof typeof SessionType];

/** TeamTalk's ClientType, sent as the `client_type` query parameter. */
export const ClientType = {
  Windows: 1,
  Mac: 2,
  Ios: 17,
  Android: 18,
} as const;
export type ClientType = (typeof ClientType)[keyof typeof ClientType];

/** The contract's error codes. Unknown codes from a newer server still come through as strings. */
export type KnownErrorCode =
  | 'bad_request'
  | 'unknown_action'
  | 'empty_message'
  | 'self_message'
  | 'too_large'
  | 'rate_limited'
  | 'not_member'
  | 'internal';
export type ErrorCode = KnownErrorCode | (string & {});

/** True for group message types (17, 18). */
export function isGroupMsgType(msgType: number): boolean {
  return msgType === MsgType.GroupText || msgType === MsgType.GroupAudio;
}

// ---------------------------------------------------------------------------------------------------------------
// Client → server

/** `msg_data`: send a message. */
export interface MsgDataRequestFrame {
  readonly action: 'msg_data';
  readonly seq: number;
  readonly to_session_id: string;
  readonly msg_type: number;
  readonly msg_data: string;
  readonly client_msg_id: string;
}

/** `msg_data_ack`: delivery confirmed; no reply. */
export interface MsgDataAckRequestFrame {
  readonly action: 'msg_data_ack';
  readonly msg_id: number;
  /** The peer that sent the message (the group id for groups). */
  readonly session_id: string;
  readonly session_type: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Server → client

/** The sender's acknowledgement: the message is stored. */
export interface MsgDataAckFrame {
  readonly type: 'msg_data_ack';
  readonly seq?: number;
  readonly user_id: string;
  readonly session_id: string;
  readonly msg_id: number;
  readonly session_type: number;
  readonly create_time: number;
  readonly client_msg_id?: string;
}

/** A message delivered to the receiver's connections and the sender's other connections. */
export interface MsgDataFrame {
  readonly type: 'msg_data';
  readonly from_user_id: string;
  readonly to_session_id: string;
  readonly msg_id: number;
  readonly create_time: number;
  readonly msg_type: number;
  readonly msg_data: string;
  readonly client_msg_id?: string;
}

/** A refused frame; the connection stays open and usable. */
export interface ErrorFrame {
  readonly type: 'error';
  readonly seq?: number;
  readonly code: ErrorCode;
  readonly message?: string;
}

/** Any server frame: an object with a string `type`. */
export interface ServerFrame {
  readonly type: string;
  readonly seq?: number;
  readonly [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and replies (the contract's table)

/** A message inside a list reply. */
export interface ListedMessage {
  readonly msg_id: number;
  readonly from_user_id: string;
  readonly create_time: number;
  readonly msg_type: number;
  readonly msg_data: string;
}

export interface UnreadInfo {
  readonly session_id: string;
  readonly session_type: number;
  readonly unread_cnt: number;
  readonly latest_msg_id: number;
  readonly latest_msg_data: string;
  readonly latest_msg_type: number;
  readonly latest_msg_from_user_id: string;
}

export interface ContactSession {
  readonly session_id: string;
  readonly session_type: number;
  readonly updated_time: number;
  readonly latest_msg_id: number;
  readonly latest_msg_data: string;
  readonly latest_msg_type: number;
  readonly latest_msg_from_user_id: string;
  readonly unread_cnt: number;
}

/** One of the user's groups, as `group_list` lists it. */
export interface GroupListEntry {
  readonly group_id: string;
  readonly group_name: string;
}

/** `group_info`: a group's name, owner and members (members only may ask). */
export interface GroupInfo {
  readonly group_id: string;
  readonly group_name: string;
  readonly owner_id: string;
  readonly cur_user_id_list: readonly string[];
}

/** How `group_change_member` changes a group: `add` (owner only) or `del` (the owner, or a member leaving). */
export type GroupChangeType = 'add' | 'del';

/** No fields. */
export type NoFields = Record<never, never>;

interface SessionRef {
  /** The other side from the asking user's view: the peer's user id, or the group id. */
  readonly session_id: string;
  readonly session_type: number;
}

/** Request fields and reply fields of each request action (`seq` and `action`/`type` are added by the SDK). */
export interface RequestMap {
  msg_list: {
    request: SessionRef & { readonly msg_id_begin: number; readonly msg_cnt: number };
    reply: SessionRef & { readonly msg_id_begin: number; readonly msg_list: readonly ListedMessage[] };
  };
  latest_msg_id: {
    request: SessionRef;
    reply: SessionRef & { readonly latest_msg_id: number };
  };
  msg_by_ids: {
    request: SessionRef & { readonly msg_ids: readonly number[] };
    reply: SessionRef & { readonly msg_list: readonly ListedMessage[] };
  };
  unread_cnt: {
    request: NoFields;
    reply: { readonly total_cnt: number; readonly unreadinfo_list: readonly UnreadInfo[] };
  };
  recent_sessions: {
    /**
     * Sessions with `updated_time` > `latest_update_time` (0 = all), hidden ones left out, newest first, 100 a page;
     * `page_token` is a previous reply's `next_page_token`.
     */
    request: { readonly latest_update_time: number; readonly page_token?: string };
    reply: { readonly contact_session_list: readonly ContactSession[]; readonly next_page_token?: string };
  };
  msg_read_ack: {
    request: SessionRef & { readonly msg_id: number };
    reply: NoFields;
  };
  remove_session: {
    request: SessionRef;
    reply: SessionRef;
  };
  group_create: {
    request: { readonly group_name: string; readonly member_ids: readonly string[] };
    reply: { readonly group_id: string };
  };
  group_change_member: {
    request: { readonly group_id: string; readonly change_type: 'add' | 'del'; readonly member_ids: readonly string[] };
    reply: { readonly group_id: string; readonly cur_user_id_list: readonly string[] };
  };
  group_list: {
    request: NoFields;
    reply: { readonly group_list: readonly GroupListEntry[] };
  };
  group_info: {
    request: { readonly group_id: string };
    reply: GroupInfo;
  };
  heartbeat: {
    request: NoFields;
    reply: NoFields;
  };
}

export type RequestAction = keyof RequestMap;

/** The reply frame of a request action: its fields plus `type` (the action) and the echoed `seq`. */
export type ReplyFrame<A extends RequestAction> = RequestMap[A]['reply'] & { readonly type: A; readonly seq: number };

/**
 * Pushed after a `msg_read_ack`: `msg_read_notify` to the reader's other connections, `msg_read_receipt` to the
 * peer's connections. `user_id` is the reader; `session_id` is the reader's peer (so for a receipt, the receiving
 * user itself) or the group id; everything up to `msg_id` is read.
 */
export interface MsgReadNotifyFrame {
  readonly type: 'msg_read_notify' | 'msg_read_receipt';
  readonly user_id: string;
  readonly session_id: string;
  readonly session_type: number;
  readonly msg_id: number;
}

/** Pushed to the user's other connections after a `remove_session`. */
export interface RemoveSessionNotifyFrame {
  readonly type: 'remove_session_notify';
  readonly user_id: string;
  readonly session_id: string;
  readonly session_type: number;
}

/**
 * Pushed to the members' connections (but the one that made the change) when a group is created or its members
 * change: `user_ids` were added or removed, `cur_user_id_list` is the membership after the change. Removed members
 * are told too; a created group is an `add` of every member.
 */
export interface GroupChangeMemberNotifyFrame {
  readonly type: 'group_change_member_notify';
  readonly group_id: string;
  readonly change_type: GroupChangeType;
  readonly user_ids: readonly string[];
  readonly cur_user_id_list: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** Decodes a text frame into a server frame, or returns undefined when it is not a JSON object with a string `type`. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value) || typeof value['type'] !== 'string') return undefined;
  if (value['seq'] !== undefined && !isInt(value['seq'])) return undefined;
  return value as ServerFrame;
}

export function isMsgDataFrame(frame: ServerFrame): frame is MsgDataFrame & ServerFrame {
  return (
    frame.type === 'msg_data' &&
    typeof frame['from_user_id'] === 'string' &&
    typeof frame['to_session_id'] === 'string' &&
    isInt(frame['msg_id']) &&
    isInt(frame['msg_type'])
  );
}

export function isMsgDataAckFrame(frame: ServerFrame): frame is MsgDataAckFrame & ServerFrame {
  return frame.type === 'msg_data_ack' && isInt(frame['msg_id']);
}

export function isErrorFrame(frame: ServerFrame): frame is ErrorFrame & ServerFrame {
  return frame.type === 'error' && typeof frame['code'] === 'string';
}

export function isReadNoticeFrame(frame: ServerFrame): frame is MsgReadNotifyFrame & ServerFrame {
  return (
    (frame.type === 'msg_read_notify' || frame.type === 'msg_read_receipt') &&
    typeof frame['user_id'] === 'string' &&
    typeof frame['session_id'] === 'string' &&
    isInt(frame['session_type']) &&
    isInt(frame['msg_id'])
  );
}

export function isRemoveSessionNotifyFrame(frame: ServerFrame): frame is RemoveSessionNotifyFrame & ServerFrame {
  return (
    frame.type === 'remove_session_notify' &&
    typeof frame['user_id'] === 'string' &&
    typeof frame['session_id'] === 'string' &&
    isInt(frame['session_type'])
  );
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

export function isGroupChangeMemberNotifyFrame(frame: ServerFrame): frame is GroupChangeMemberNotifyFrame & ServerFrame {
  return (
    frame.type === 'group_change_member_notify' &&
    typeof frame['group_id'] === 'string' &&
    (frame['change_type'] === 'add' || frame['change_type'] === 'del') &&
    isStringArray(frame['user_ids']) &&
    isStringArray(frame['cur_user_id_list'])
  );
}
