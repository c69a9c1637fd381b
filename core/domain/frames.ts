/** Server frames of the wire contract (docs/protocol.md), built in one place so no handler drifts. */
import type {
  ErrorFrame,
  KickFrame,
  KnownErrorCode,
  ListedMessage,
  MsgDataAckFrame,
  MsgDataFrame,
} from '../../protocol/frames.js';
import type { StoredMessage } from './message.js';

export type { ErrorFrame, KickFrame, ListedMessage, MsgDataAckFrame, MsgDataFrame } from '../../protocol/frames.js';
/** The codes the server answers with: the contract's. */
export type ErrorCode = KnownErrorCode;

export type ServerFrame = ErrorFrame | MsgDataAckFrame | MsgDataFrame | HeartbeatFrame | KickFrame | ReplyFrame;

export interface HeartbeatFrame {
  readonly type: 'heartbeat';
  readonly seq?: number;
}

export { FrameError } from '../errors.js';
import type { FrameError } from '../errors.js';

const withSeq = (seq: number | undefined) => (seq === undefined ? {} : { seq });

export function errorFrame(error: FrameError, seq: number | undefined): ErrorFrame {
  return { type: 'error', ...withSeq(seq), code: error.code, message: error.message };
}

export function internalErrorFrame(seq: number | undefined): ErrorFrame {
  // The message may or may not be stored: a resend with the same client_msg_id is stored once either way.
  return {
    type: 'error',
    ...withSeq(seq),
    code: 'internal',
    message: 'internal error; try again (with the same client_msg_id)',
  };
}

export function msgDataAckFrame(message: StoredMessage, sessionType: number, seq: number | undefined): MsgDataAckFrame {
  return {
    type: 'msg_data_ack',
    ...withSeq(seq),
    user_id: message.fromUserId,
    session_id: message.toSessionId,
    msg_id: message.msgId,
    session_type: sessionType,
    create_time: message.createTime,
    ...(message.clientMsgId === undefined ? {} : { client_msg_id: message.clientMsgId }),
  };
}

/** `blockedSender`: the receiver blocks the sender of this group message (docs/protocol.md "Block"). */
export function msgDataFrame(message: StoredMessage, view: { blockedSender?: boolean } = {}): MsgDataFrame {
  return {
    type: 'msg_data',
    from_user_id: message.fromUserId,
    to_session_id: message.toSessionId,
    msg_id: message.msgId,
    create_time: message.createTime,
    msg_type: message.msgType,
    msg_data: message.msgData,
    ...(message.clientMsgId === undefined ? {} : { client_msg_id: message.clientMsgId }),
    ...(view.blockedSender ? { blocked_sender: true as const } : {}),
    ...(message.deleted ? { deleted: true as const } : {}),
    ...(message.recalled ? { recalled: true as const } : {}),
    ...(message.editedAt === undefined ? {} : { edited_at: message.editedAt }),
  };
}

/**
 * A message inside a list reply (msg_list, msg_by_ids), with the sender's client_msg_id when it gave one, and
 * `blocked_sender` when the asking user blocks its sender (groups).
 */
export function listedMessage(message: StoredMessage, view: { blockedSender?: boolean } = {}): ListedMessage {
  return {
    msg_id: message.msgId,
    from_user_id: message.fromUserId,
    create_time: message.createTime,
    msg_type: message.msgType,
    msg_data: message.msgData,
    ...(message.clientMsgId === undefined ? {} : { client_msg_id: message.clientMsgId }),
    ...(view.blockedSender ? { blocked_sender: true as const } : {}),
    ...(message.deleted ? { deleted: true as const } : {}),
    ...(message.recalled ? { recalled: true as const } : {}),
    ...(message.editedAt === undefined ? {} : { edited_at: message.editedAt }),
  };
}

/** The reply to a request: `type` is the action's name, `seq` echoed (contract: "Requests and replies"). */
export interface ReplyFrame {
  readonly type: string;
  readonly seq?: number;
  readonly [field: string]: unknown;
}

export function replyFrame(action: string, seq: number | undefined, fields: Record<string, unknown> = {}): ReplyFrame {
  return { type: action, ...withSeq(seq), ...fields };
}
