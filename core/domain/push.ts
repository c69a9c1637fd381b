/**
 * The offline push hook's event (EventBridge): published when a message reaches a receiver on no connection — the
 * receiver has none, or a delivery was given up — so a team wires FCM, APNs or SNS mobile push without touching
 * the core. The message body is left out unless the stack allows it.
 */

/** EventBridge `source` of the events. */
export const PUSH_EVENT_SOURCE = 'teamtalk-serverless';
/** EventBridge `detail-type` of the events. */
export const UNDELIVERED_DETAIL_TYPE = 'Message Undelivered';

export interface DeviceToken {
  readonly token: string;
  /** e.g. ios, android, web. */
  readonly platform: string;
}

export interface UndeliveredMessageDetail {
  /** offline: the receiver had no connection; gave_up: deliveries went unacked until the sweeper gave up. */
  readonly reason: 'offline' | 'gave_up';
  /** The receiver. */
  readonly user_id: string;
  readonly from_user_id: string;
  readonly session_type: number;
  /** The conversation from the receiver's view: the sender (single chat) or the group. */
  readonly session_id: string;
  readonly msg_id: number;
  readonly msg_type: number;
  readonly create_time: number;
  readonly device_tokens: readonly DeviceToken[];
  /** Only when the stack's pushIncludesBody is on. */
  readonly msg_data?: string;
}
