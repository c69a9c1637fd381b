/**
 * The wire contract's types, codes and limits (from protocol/, shared with the server: one source, no copy) plus the
 * SDK's parsing and checking of server frames.
 */
import type {
  ErrorFrame,
  GroupChangeMemberNotifyFrame,
  KickFrame,
  MsgDataAckFrame,
  MsgDataFrame,
  MsgReadNotifyFrame,
  RemoveSessionNotifyFrame,
  ServerFrame,
} from '../protocol/frames.js';

export * from '../protocol/index.js';

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

/**
 * The message of API Gateway's own error frame, `{"message":"Internal server error","connectionId":…,"requestId":…}`,
 * which it posts instead of a reply when a route's Lambda function fails (a crash, a timeout); undefined for other
 * text. It has no `type` and no `seq`: which frame failed is unknown (its ack or reply times out).
 */
export function gatewayErrorOf(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (
      !isObject(value) ||
      'type' in value ||
      typeof value['message'] !== 'string' ||
      typeof value['requestId'] !== 'string'
    )
      return undefined;
    return value['message'];
  } catch {
    return undefined;
  }
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

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

export function isKickFrame(frame: ServerFrame): frame is KickFrame & ServerFrame {
  return frame.type === 'kick' && typeof frame['reason'] === 'string';
}

export function isGroupChangeMemberNotifyFrame(
  frame: ServerFrame,
): frame is GroupChangeMemberNotifyFrame & ServerFrame {
  return (
    frame.type === 'group_change_member_notify' &&
    typeof frame['group_id'] === 'string' &&
    (frame['change_type'] === 'add' || frame['change_type'] === 'del') &&
    isStringArray(frame['user_ids']) &&
    isStringArray(frame['cur_user_id_list'])
  );
}
