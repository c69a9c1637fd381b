/**
 * The offline push hook's event (EventBridge): published when a message reaches receivers on no connection — they
 * have none, or a delivery was given up — so a push sender (FCM, APNs, Web Push) can notify their devices. One event
 * names up to PUSH_EVENT_MAX_RECEIVERS receivers of one message, so a group message to 1,000 offline members is 10
 * events in one PutEvents call. Receivers' device tokens are not in the event: the sender reads them when it sends.
 * The message body is left out unless the stack allows it.
 */

/** EventBridge `source` of the events. */
export const PUSH_EVENT_SOURCE = 'teamtalk-serverless';
/** EventBridge `detail-type` of the events. */
export const UNDELIVERED_DETAIL_TYPE = 'Message Undelivered';
/**
 * EventBridge `detail-type` of a device-token challenge (core/usecases/device-tokens.ts): a token another user holds
 * was registered, and the device behind it must prove who uses it. One push, to that token only, carrying the code.
 */
export const DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE = 'Device Token Challenge';

/**
 * EventBridge `detail-type` of an account export written for a user with no open connection
 * (core/usecases/account-export.ts): one push to each of the user's devices; the app asks for the URL again.
 */
export const EXPORT_READY_DETAIL_TYPE = 'Account Export Ready';

/** An export is ready (never its URL: the app asks `account_export` again for a fresh one). */
export interface ExportReadyPushDetail {
  readonly user_id: string;
  readonly export_id: string;
  readonly expires_at: number;
}

/** Receivers named by one event (an event holds at most 256 KB; 100 user ids are at most ~13 KB). */
export const PUSH_EVENT_MAX_RECEIVERS = 100;

export interface DeviceToken {
  readonly token: string;
  /** e.g. ios, android, web. */
  readonly platform: string;
  /** The app install that registered it (`device_id`), when it said. */
  readonly deviceId?: string;
}

export interface UndeliveredMessageDetail {
  /** offline: the receivers had no connection; gave_up: deliveries went unacked until the sweeper gave up. */
  readonly reason: 'offline' | 'gave_up';
  /** The receivers (1 to PUSH_EVENT_MAX_RECEIVERS user ids). */
  readonly receivers: readonly string[];
  readonly from_user_id: string;
  readonly session_type: number;
  /** The conversation from the receivers' view: the sender (single chat) or the group. */
  readonly session_id: string;
  readonly msg_id: number;
  readonly msg_type: number;
  readonly create_time: number;
  /** Only when the stack's pushIncludesBody is on. */
  readonly msg_data?: string;
}

/** A challenge push: the code goes to the device behind `token`, whose app answers with device_token_verify. */
export interface DeviceTokenChallengeDetail {
  readonly token: string;
  /** The platform the registrant named: which provider carries the push. */
  readonly platform: string;
  readonly code: string;
}
