/**
 * Wire-visible rules and the defaults of every limit (docs/protocol.md "Limits"), in one place for the server,
 * the SDK, the docs and the tests. The server's configurable values (core/config.ts, the ChatBackend props and the
 * local environment knobs) take their defaults from LIMIT_DEFAULTS; nothing here imports server code.
 */

/** A user id: the token's `sub`, 1–128 characters of `A-Za-z0-9_.@-` (the contract). */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;

/**
 * A group id: `g:` and 22 characters of base64url, made by the server. The colon is outside the user-id alphabet,
 * so no user id can ever name a group and no group id a user: a single-chat message to a group id is refused.
 */
export const GROUP_ID_PATTERN = /^g:[A-Za-z0-9_-]{22}$/;

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

export function isGroupId(value: unknown): value is string {
  return typeof value === 'string' && GROUP_ID_PATTERN.test(value);
}

/**
 * A device id: the app's id of its installation (1–64 characters of `A-Za-z0-9_.:-`), given with `device_token` so that
 * `device_token_remove` can remove that install's tokens at sign-out without the app remembering them.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Longest `client_msg_id`, in characters. */
export const CLIENT_MSG_ID_MAX_LENGTH = 64;

/** How long a (sender, conversation, client_msg_id) key identifies one message (contract: "Idempotency"). */
export const IDEMPOTENCY_WINDOW_SECONDS = 48 * 60 * 60;

/** API Gateway's largest WebSocket message (128 KB): no frame the server posts may be larger. */
export const MAX_FRAME_BYTES = 128 * 1024;

/** Most ids in one `msg_by_ids` request and in one bulk `msg_data_ack`. */
export const MAX_IDS_PER_REQUEST = 100;

/** Most messages one `msg_list` asks for. */
export const MAX_MSG_LIST_COUNT = 100;

/** Defaults of the configurable limits; each one is a ChatBackend prop and a local environment knob. */
export const LIMIT_DEFAULTS = {
  /** Largest `msg_data`, in bytes of UTF-8 (TeamTalk's varchar(4096)). */
  maxMsgBytes: 4096,
  /** `msg_data` frames per user per second, across all of the user's connections (TeamTalk MAX_MSG_CNT_PER_SECOND). */
  rateLimitPerSecond: 20,
  /** Other writing requests per user per second (group and session changes, read acks, device tokens). */
  writeRateLimitPerSecond: 10,
  /** Requests that read (READ_ACTIONS: history, sessions, groups, attachment URLs) per user per second: 2 % of the stage throttle. */
  readRateLimitPerSecond: 20,
  /**
   * Receivers of a user's msg_data per second (a single-chat message has one; a group message one per member but the
   * sender): one message a second to a full group. Never below maxGroupMembers − 1, or no message could reach a full group.
   */
  memberDeliveriesPerSecond: 1000,
  /** Group members a user may add or remove per minute, across its group_create and group_change_member requests. */
  groupMemberChangesPerMinute: 1000,
  /** Open connections per user; a new one past it closes the oldest (`kick`, `too_many_connections`). */
  maxConnectionsPerUser: 10,
  /** Members of one group. */
  maxGroupMembers: 1000,
  /** Groups one user owns. */
  maxGroupsOwned: 100,
  /** Groups one user is a member of. */
  maxGroupsJoined: 500,
  /** Push tokens one user keeps; registering another drops the oldest. */
  maxDeviceTokensPerUser: 10,
  /** Longest push token, in characters (an APNs token is 64, an FCM token about 160, a Web Push subscription about 600). */
  maxDeviceTokenLength: 1024,
  /** Largest picture `attachment_upload` signs, in bytes (10 MiB). */
  maxImageBytes: 10_485_760,
  /** Largest voice note `attachment_upload` signs, in bytes (2 MiB: minutes of opus or aac). */
  maxAudioBytes: 2_097_152,
  /**
   * Bytes of attachments one user may store (10 GiB, the per-member storage of Slack's paid plans): for ever, or with a
   * message retention per retention period + 1 day. A second conversation referencing an attachment adds nothing.
   */
  maxAttachmentBytesPerUser: 10_737_418_240,
  /** Users one user may block (`user_block` past it: `limit_exceeded`); a block costs a few writes and is read on sends. */
  maxBlocksPerUser: 1000,
  /** Reports one user may file per UTC day (docs/moderation.md); a repeated report of the same target takes none. */
  maxReportsPerDay: 20,
  /** Seconds after create_time its sender may recall a message (`msg_recall`; a group's owner may at any time). */
  recallWindowSeconds: 120,
  /** Seconds after create_time its sender may edit a text message (`msg_edit`). */
  editWindowSeconds: 900,
  /**
   * `typing`: at most one `start` per user and conversation is forwarded in this many ms (and one `stop` after it);
   * the SDK sends `start` no more often while its user types.
   */
  typingIntervalMs: 3000,
} as const;

/**
 * How long a receiver shows "typing…" after a `start` without another (docs/protocol.md "Typing"): two of the SDK's
 * refreshes (typingIntervalMs + TYPING_JITTER_MS apart) less a little, so one late frame does not make it flicker.
 */
export const TYPING_DISPLAY_MS = 6000;

/** What the SDK adds to typingIntervalMs between two `start`s, so network jitter never lands one inside the window. */
export const TYPING_JITTER_MS = 500;

/** Longest `text` of a `report`, in characters. */
export const MAX_REPORT_TEXT_CHARS = 1000;

/** Most user ids in one `users_stat` or `presence_subscribe` (a reply of 100 statuses is under 15 KB). */
export const MAX_PRESENCE_IDS = 100;

/**
 * How long a `presence_subscribe` lasts, in seconds: 2 hours, API Gateway's longest WebSocket connection, so a
 * subscription never needs renewing on the connection that made it; the SDK subscribes again on every new connection.
 */
export const PRESENCE_SUBSCRIPTION_SECONDS = 2 * 60 * 60;

/**
 * Subscription rows one user's `presence_subscribe` requests may write or delete a minute: ten full replacements of
 * 100 ids, where the write budget alone would let a client churn 2,000 rows a second.
 */
export const PRESENCE_SUBSCRIPTION_CHANGES_PER_MINUTE = 1000;
