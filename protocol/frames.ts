/**
 * The wire contract (docs/protocol.md) as TypeScript types: every frame a client sends and every frame the server
 * posts, with the contract's snake_case field names exactly as they travel. The server (core/) and the SDK (client/)
 * both import these, so the two cannot drift; nothing here imports server code.
 */

/** TeamTalk's MsgType: 1 single text, 2 single audio, 17 group text, 18 group audio. */
export const MsgType = {
  SingleText: 1,
  SingleAudio: 2,
  GroupText: 17,
  GroupAudio: 18,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

export const SINGLE_MSG_TYPES: readonly MsgType[] = [MsgType.SingleText, MsgType.SingleAudio];
export const GROUP_MSG_TYPES: readonly MsgType[] = [MsgType.GroupText, MsgType.GroupAudio];

/** True for group message types (17, 18). */
export function isGroupMsgType(msgType: number): boolean {
  return msgType === MsgType.GroupText || msgType === MsgType.GroupAudio;
}

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

/** The contract's error codes. */
export const ERROR_CODES = [
  'bad_request',
  'unknown_action',
  'empty_message',
  'self_message',
  'too_large',
  'rate_limited',
  'not_member',
  'limit_exceeded',
  'client_msg_id_reused',
  'not_allowed',
  'content_rejected',
  'internal',
] as const;
export type KnownErrorCode = (typeof ERROR_CODES)[number];
/** A known code, or the string of a newer server's code. */
export type ErrorCode = KnownErrorCode | (string & {});

/**
 * Why the server closed a connection (`kick` frame, TeamTalk's KickUser). After `suspended` and `account_deleted` the
 * server refuses the user's new connections (HTTP 403) until an operator lifts the suspension (never, once deleted).
 */
export type KickReason = 'too_many_connections' | 'token_expired' | 'suspended' | 'account_deleted';

/** The kick reasons after which reconnecting is pointless: the account is closed to connections. */
export const ACCOUNT_CLOSED_KICK_REASONS = ['suspended', 'account_deleted'] as const satisfies readonly KickReason[];

// ---------------------------------------------------------------------------------------------------------------
// Client → server

/** `msg_data`: send a message. */
export interface MsgDataRequestFrame {
  readonly action: 'msg_data';
  readonly seq?: number;
  readonly to_session_id: string;
  readonly msg_type: MsgType;
  readonly msg_data: string;
  readonly client_msg_id?: string;
}

/**
 * `msg_data_ack`: deliveries confirmed; no reply. `msg_id` confirms one message, `msg_ids` (1–100) several of the
 * same conversation in one frame.
 */
export type MsgDataAckRequestFrame = {
  readonly action: 'msg_data_ack';
  readonly seq?: number;
  /** The other side from the acking user's view: the peer (for one's own message from another device, the peer it went to), or the group id. */
  readonly session_id: string;
  readonly session_type: SessionType;
} & (
  | { readonly msg_id: number; readonly msg_ids?: never }
  | { readonly msg_ids: readonly number[]; readonly msg_id?: never }
);

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
  /** On a group message to a receiver who blocks its sender (docs/protocol.md "Block"): clients collapse or flag it. */
  readonly blocked_sender?: true;
  /** A tombstone: the message was removed (by a moderator, or its sender's account was deleted); `msg_data` is empty. */
  readonly deleted?: true;
  /** Recalled by its sender or the group's owner (`msg_recall`): `msg_data` is empty. */
  readonly recalled?: true;
  /** Edited (`msg_edit`): `msg_data` is the new text, edited at this unix second. */
  readonly edited_at?: number;
}

/** A refused frame; the connection stays open and usable. */
export interface ErrorFrame {
  readonly type: 'error';
  readonly seq?: number;
  readonly code: ErrorCode;
  readonly message: string;
}

/** The server is closing this connection (TeamTalk's KickUser); the close follows the frame. */
export interface KickFrame {
  readonly type: 'kick';
  readonly reason: KickReason;
}

/** Any server frame: an object with a string `type`. */
export interface ServerFrame {
  readonly type: string;
  readonly seq?: number;
  readonly [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and replies (the contract's table)

/**
 * A message inside a list reply: the `msg_data` frame's fields but the conversation's, which the request named.
 * `client_msg_id` is there when the sender gave one, so a client matches history with its own sends.
 */
export interface ListedMessage {
  readonly msg_id: number;
  readonly from_user_id: string;
  readonly create_time: number;
  readonly msg_type: number;
  readonly msg_data: string;
  readonly client_msg_id?: string;
  /** In a group's history, on messages of a sender the asking user blocks (docs/protocol.md "Block"). */
  readonly blocked_sender?: true;
  /** A tombstone: the message keeps its msg_id, `msg_data` is empty (docs/protocol.md "Tombstones"). */
  readonly deleted?: true;
  /** Recalled (`msg_recall`): `msg_data` is empty. */
  readonly recalled?: true;
  /** Edited (`msg_edit`): `msg_data` is the new text, edited at this unix second. */
  readonly edited_at?: number;
}

export interface UnreadInfo {
  readonly session_id: string;
  readonly session_type: SessionType;
  readonly unread_cnt: number;
  readonly latest_msg_id: number;
  readonly latest_msg_data: string;
  readonly latest_msg_type: number;
  readonly latest_msg_from_user_id: string;
  /** The latest message is a tombstone (`latest_msg_data` is empty). */
  readonly latest_msg_deleted?: true;
  /** The latest message was recalled (`latest_msg_data` is empty). */
  readonly latest_msg_recalled?: true;
  /** The latest message was edited at this unix second (`latest_msg_data` is the new text). */
  readonly latest_msg_edited_at?: number;
}

export interface ContactSession extends UnreadInfo {
  readonly updated_time: number;
}

/** One of the user's groups, as `group_list` lists it. */
export interface GroupListEntry {
  readonly group_id: string;
  readonly group_name: string;
}

/**
 * `group_info`: a group's name, owner and members (members only may ask): `member_count` members in all, of which a
 * page of `cur_user_id_list` (as many as fit one frame, in user id order; `next_page_token` when more).
 */
export interface GroupInfo {
  readonly group_id: string;
  readonly group_name: string;
  readonly owner_id: string;
  readonly member_count: number;
  readonly cur_user_id_list: readonly string[];
}

/** How `group_change_member` changes a group: `add` (owner only) or `del` (the owner, or a member leaving). */
export type GroupChangeType = 'add' | 'del';

/** Push token platforms `device_token` accepts. */
export const DEVICE_PLATFORMS = ['ios', 'android', 'web', 'windows', 'mac'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];

/** A user's presence: `online` while a connection is open (`away` when every open one said so), else `offline`. */
export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/** The statuses a client may set for its connection with `presence_set`. */
export const SETTABLE_PRESENCE_STATUSES = ['online', 'away'] as const satisfies readonly PresenceStatus[];
export type SettablePresenceStatus = (typeof SETTABLE_PRESENCE_STATUSES)[number];

/** One user's status in `users_stat` and `presence_subscribe` replies. */
export interface UserStat {
  readonly user_id: string;
  readonly status: PresenceStatus;
}

/** `typing`'s states. */
export const TYPING_STATES = ['start', 'stop'] as const;
export type TypingState = (typeof TYPING_STATES)[number];

/** No fields. */
export type NoFields = Record<never, never>;

/** A conversation from the asking user's view: the peer's user id (session_type 1) or the group id (2). */
export interface SessionRef {
  readonly session_id: string;
  readonly session_type: SessionType;
}

/** A reply page: `next_page_token` is present when more remain; pass it back as `page_token`. */
interface Paged {
  readonly next_page_token?: string;
}

/** Request fields and reply fields of each request action (`seq` and `action`/`type` are added on the wire). */
export interface RequestMap {
  msg_list: {
    request: SessionRef & { readonly msg_id_begin: number; readonly msg_cnt: number };
    /** `has_more`: older messages remain; go on with `msg_id_begin` = the smallest msg_id returned − 1. */
    reply: SessionRef & {
      readonly msg_id_begin: number;
      readonly msg_list: readonly ListedMessage[];
      readonly has_more: boolean;
    };
  };
  latest_msg_id: {
    request: SessionRef;
    reply: SessionRef & { readonly latest_msg_id: number };
  };
  msg_by_ids: {
    request: SessionRef & { readonly msg_ids: readonly number[] };
    /** `remaining_msg_ids`: asked-for ids left out so the reply fits; ask for them again. */
    reply: SessionRef & { readonly msg_list: readonly ListedMessage[]; readonly remaining_msg_ids?: readonly number[] };
  };
  unread_cnt: {
    request: { readonly page_token?: string };
    /** `total_cnt` sums this page's sessions; a client adds up the pages. */
    reply: Paged & { readonly total_cnt: number; readonly unreadinfo_list: readonly UnreadInfo[] };
  };
  recent_sessions: {
    /** Sessions with `updated_time` > `latest_update_time` (0 = all), hidden ones left out, newest first. */
    request: { readonly latest_update_time: number; readonly page_token?: string };
    reply: Paged & { readonly contact_session_list: readonly ContactSession[] };
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
    request: {
      readonly group_id: string;
      readonly change_type: GroupChangeType;
      readonly member_ids: readonly string[];
    };
    /** `cur_user_id_list` holds as many members as fit one frame; `members_truncated` when it was cut (`group_info` pages). */
    reply: {
      readonly group_id: string;
      readonly cur_user_id_list: readonly string[];
      readonly member_count: number;
      readonly members_truncated?: true;
    };
  };
  group_list: {
    request: { readonly page_token?: string };
    reply: Paged & { readonly group_list: readonly GroupListEntry[] };
  };
  group_info: {
    request: { readonly group_id: string; readonly page_token?: string };
    reply: Paged & GroupInfo;
  };
  device_token: {
    /**
     * Registers a push token for this user. A token another user holds is not moved: `pending` is true, and the
     * device gets a push whose data carries `device_token_code`; answer it with `device_token_verify`.
     */
    request: {
      readonly token: string;
      readonly platform: DevicePlatform;
      /** This app install's id (DEVICE_ID_PATTERN): `device_token_remove` with it removes the install's tokens. */
      readonly device_id?: string;
    };
    reply: { readonly pending?: true };
  };
  device_token_verify: {
    /** Takes the token with the code its device received in a push (`not_allowed` for a wrong, used or expired one). */
    request: { readonly token: string; readonly code: string };
    reply: NoFields;
  };
  device_token_remove: {
    /**
     * Unregisters push tokens of this user (sign-out): one `token`, the tokens registered with a `device_id` (this
     * install's, whichever it registered in earlier runs), or `all` of them.
     */
    request:
      | { readonly token: string; readonly device_id?: never; readonly all?: never }
      | { readonly device_id: string; readonly token?: never; readonly all?: never }
      | { readonly all: true; readonly token?: never; readonly device_id?: never };
    reply: NoFields;
  };
  session_mute: {
    /** Mutes (`mute: true`) or unmutes this user's pushes of a group (session_type 2); the caller must be a member. */
    request: SessionRef & { readonly mute: boolean };
    reply: SessionRef & { readonly mute: boolean };
  };
  heartbeat: {
    request: NoFields;
    reply: NoFields;
  };
  user_block: {
    /**
     * Blocks `user_id` for the caller (docs/protocol.md "Block"): no one-to-one message either way, no read receipt,
     * the blocked user's group messages flagged `blocked_sender` and never pushed. Blocking twice is one block;
     * oneself: `not_allowed`; past the cap (LIMIT_DEFAULTS.maxBlocksPerUser): `limit_exceeded`.
     */
    request: { readonly user_id: string };
    reply: { readonly user_id: string };
  };
  user_unblock: {
    /** Lifts the caller's block of `user_id` (nothing to lift is no error): new one-to-one messages pass again. */
    request: { readonly user_id: string };
    reply: { readonly user_id: string };
  };
  block_list: {
    /** The users the caller blocks, a page at a time in user id order. */
    request: { readonly page_token?: string };
    reply: Paged & { readonly user_ids: readonly string[] };
  };
  attachment_upload: {
    /** A presigned PUT for a fresh key under the caller, for exactly this content type and size (docs/protocol.md "Attachments"). */
    request: { readonly content_type: string; readonly size: number };
    /** PUT the bytes to `url` with `headers` before `expires_in` seconds pass; then send a message referencing `key`. */
    reply: {
      readonly key: string;
      readonly url: string;
      readonly method: 'PUT';
      readonly headers: Readonly<Record<string, string>>;
      readonly expires_in: number;
    };
  };
  account_delete: {
    /**
     * Deletes the caller's account. The reply says the deletion is accepted; then the user's connections get `kick`
     * `account_deleted` and new connections are refused, while a job erases the account (docs/protocol.md).
     */
    request: NoFields;
    reply: NoFields;
  };
  attachment_url: {
    /** A presigned GET for an attachment that a message of this session references (members only). */
    request: SessionRef & { readonly key: string };
    reply: SessionRef & { readonly key: string; readonly url: string; readonly expires_in: number };
  };
  report: {
    /**
     * Reports a message of a conversation the caller is in, or a user. A repeated report of the same target by the same
     * reporter (whatever the reason) answers the first report's id and stores nothing new.
     */
    request: { readonly target: ReportTarget; readonly reason: ReportReason; readonly text?: string };
    reply: { readonly report_id: string };
  };
  account_export: {
    /** Starts an export of the caller's data (one a day); `account_export_ready` follows when it is written. */
    request: NoFields;
    reply: { readonly export_id: string };
  };
  users_stat: {
    /** The current statuses of 1–100 users (TeamTalk's IMUsersStatReq); a blocked pair reads `offline`. */
    request: { readonly user_ids: readonly string[] };
    reply: { readonly user_stat_list: readonly UserStat[] };
  };
  presence_subscribe: {
    /**
     * Replaces this connection's presence subscription with these 1–100 users: the reply holds their statuses now,
     * then `presence` frames follow on each change while the subscription lasts (docs/protocol.md "Presence").
     */
    request: { readonly user_ids: readonly string[] };
    reply: { readonly user_stat_list: readonly UserStat[] };
  };
  presence_set: {
    /** Sets this connection `online` or `away`; the user is `away` when every open connection is. */
    request: { readonly status: SettablePresenceStatus };
    reply: { readonly status: SettablePresenceStatus };
  };
  msg_recall: {
    /** Recalls a message for everyone: its sender within the recall window, a group's owner any time. */
    request: SessionRef & { readonly msg_id: number };
    reply: SessionRef & { readonly msg_id: number };
  };
  msg_edit: {
    /** Replaces a text message's text: its sender, within the edit window. Sending the same text again is no change. */
    request: SessionRef & { readonly msg_id: number; readonly msg_data: string };
    reply: SessionRef & { readonly msg_id: number; readonly edited_at: number };
  };
}

/** `typing` (client → server): no reply; the other members' live connections get a `typing` frame. */
export interface TypingRequestFrame extends SessionRef {
  readonly action: 'typing';
  readonly seq?: number;
  readonly state: TypingState;
}

/** Why a user reports (docs/moderation.md). */
export const REPORT_REASONS = ['spam', 'abuse', 'sexual', 'violence', 'illegal', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** What a report names: one message of a conversation (from the reporter's view), or a user. */
export type ReportTarget = (SessionRef & { readonly msg_id: number }) | { readonly user_id: string };

export type RequestAction = keyof RequestMap;

/** Every action a client may send: msg_data, msg_data_ack and the requests. */
export const CLIENT_ACTIONS = [
  'msg_data',
  'msg_data_ack',
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
  'heartbeat',
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
  'typing',
  'msg_recall',
  'msg_edit',
] as const satisfies readonly ('msg_data' | 'msg_data_ack' | 'typing' | RequestAction)[];
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

/**
 * Requests that write: limited together by the per-user budget for writing requests (docs/protocol.md "Limits",
 * `LIMIT_DEFAULTS.writeRateLimitPerSecond`), apart from `msg_data`'s own. Reads have a budget of their own (READ_ACTIONS);
 * heartbeats and delivery acks none.
 */
export const WRITE_ACTIONS = [
  'msg_read_ack',
  'remove_session',
  'group_create',
  'group_change_member',
  'device_token',
  'device_token_verify',
  'device_token_remove',
  'session_mute',
  'attachment_upload',
  'user_block',
  'user_unblock',
  'report',
  'account_export',
  'account_delete',
  'presence_subscribe',
  'presence_set',
  'msg_recall',
] as const satisfies readonly RequestAction[];
export type WriteAction = (typeof WRITE_ACTIONS)[number];

/**
 * Requests that read: limited together by the per-user budget for reads (`LIMIT_DEFAULTS.readRateLimitPerSecond`).
 * Not `heartbeat`: it reads and writes nothing, so refusing it would cost what answering it costs.
 */
export const READ_ACTIONS = [
  'msg_list',
  'latest_msg_id',
  'msg_by_ids',
  'unread_cnt',
  'recent_sessions',
  'group_list',
  'group_info',
  'attachment_url',
  'block_list',
  'users_stat',
] as const satisfies readonly RequestAction[];
export type ReadAction = (typeof READ_ACTIONS)[number];

/** The reply frame of a request action: its fields plus `type` (the action) and the echoed `seq`. */
export type ReplyFrame<A extends RequestAction> = RequestMap[A]['reply'] & { readonly type: A; readonly seq?: number };

// ---------------------------------------------------------------------------------------------------------------
// Notices (server → client, not replies)

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
  /** Members after the change: the lists are cut to fit one frame (`*_truncated` then; `group_info` has them all). */
  readonly member_count: number;
  readonly user_ids_truncated?: true;
  readonly members_truncated?: true;
}

/**
 * Pushed to the connections of a token's previous holder when another user took it with `device_token_verify`: the
 * device behind `token` now gets that user's notifications, no longer this one's.
 */
export interface DeviceTokenMovedFrame {
  readonly type: 'device_token_moved';
  readonly token: string;
  readonly platform: DevicePlatform;
}

/**
 * Posted to the user's connections when an `account_export` is written: `url` is a presigned GET of the JSON, valid
 * until `expires_at` (unix seconds).
 */
export type AccountExportReadyFrame = {
  readonly type: 'account_export_ready';
  readonly export_id: string;
  readonly url: string;
  readonly expires_at: number;
};

/** Posted to a presence subscriber's connection when a subscribed user's status changes. */
export interface PresenceFrame {
  readonly type: 'presence';
  readonly user_id: string;
  readonly status: PresenceStatus;
}

/**
 * Posted to the other members' live connections on `typing`: `user_id` is typing (or stopped) in `session_id`, from the
 * receiver's view (the typist for a one-to-one chat, the group id). A receiver shows it for a few seconds unless renewed.
 */
export interface TypingFrame extends SessionRef {
  readonly type: 'typing';
  readonly user_id: string;
  readonly state: TypingState;
}

/** Posted to the conversation's live connections when a message is recalled (`session_id` from the receiver's view). */
export interface MsgRecalledFrame extends SessionRef {
  readonly type: 'msg_recalled';
  readonly msg_id: number;
}

/** Posted to the conversation's live connections when a message is edited (`session_id` from the receiver's view). */
export interface MsgEditedFrame extends SessionRef {
  readonly type: 'msg_edited';
  readonly msg_id: number;
  readonly msg_data: string;
  readonly edited_at: number;
}
