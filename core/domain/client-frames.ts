/**
 * Parsing and validation of client frames. Schemas are valibot's; every refusal is a FrameError carrying the
 * contract's code, and `seq` is read leniently first so even a refused frame's error echoes it.
 */
import * as v from 'valibot';
import { GROUP_MSG_TYPES, SINGLE_MSG_TYPES } from '../../protocol/frames.js';
import {
  CLIENT_MSG_ID_MAX_LENGTH,
  GROUP_ID_PATTERN,
  MAX_IDS_PER_REQUEST,
  USER_ID_PATTERN,
} from '../../protocol/limits.js';
import { FrameError } from '../errors.js';

const MAX_SEQ = 2 ** 32 - 1;
export const seqSchema = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SEQ)));
export const userIdSchema = v.pipe(v.string(), v.regex(USER_ID_PATTERN, 'must be 1-128 characters of A-Za-z0-9_.@-'));
export const groupIdSchema = v.pipe(v.string(), v.regex(GROUP_ID_PATTERN, 'must be a group id from group_create'));
/** The other side of a conversation: a user id, or a group id. */
export const sessionIdSchema = v.union(
  [userIdSchema, groupIdSchema],
  'must be a user id (1-128 characters of A-Za-z0-9_.@-) or a group id',
);
export const msgIdSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

export const MsgDataSchema = v.object({
  action: v.literal('msg_data'),
  seq: seqSchema,
  to_session_id: sessionIdSchema,
  msg_type: v.picklist([...SINGLE_MSG_TYPES, ...GROUP_MSG_TYPES], 'must be 1, 2, 17 or 18'),
  msg_data: v.string(),
  client_msg_id: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(CLIENT_MSG_ID_MAX_LENGTH))),
});
export type MsgDataRequest = v.InferOutput<typeof MsgDataSchema>;

/** One msg_id, or up to 100 of one conversation (`msg_ids`, a bulk ack). */
export const MsgDataAckSchema = v.pipe(
  v.object({
    action: v.literal('msg_data_ack'),
    seq: seqSchema,
    msg_id: v.optional(msgIdSchema),
    msg_ids: v.optional(v.pipe(v.array(msgIdSchema), v.minLength(1), v.maxLength(MAX_IDS_PER_REQUEST))),
    session_id: sessionIdSchema,
    session_type: v.picklist([1, 2], 'must be 1 or 2'),
  }),
  v.check((ack) => (ack.msg_id === undefined) !== (ack.msg_ids === undefined), 'give msg_id or msg_ids, not both'),
);
export type MsgDataAckRequest = v.InferOutput<typeof MsgDataAckSchema>;

/** A client frame that is at least a JSON object, with its seq when that is a valid integer. */
export interface RawFrame {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly seq: number | undefined;
}

/**
 * Parses a frame body into a JSON object; not JSON, not an object, or a string that is not well-formed Unicode (a
 * lone surrogate, which DynamoDB would store as U+FFFD, so two different ids would collide) is bad_request.
 */
export function parseFrame(body: string | undefined | null): RawFrame {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    throw new FrameError('bad_request', 'frame is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('bad_request', 'frame is not a JSON object');
  }
  const fields = value as Record<string, unknown>;
  const seq = v.is(seqSchema, fields['seq']) ? (fields['seq'] as number | undefined) : undefined;
  const malformed = malformedStringPath(fields);
  if (malformed !== undefined)
    throw new FrameError('bad_request', `${malformed.slice(0, 64)}: not well-formed Unicode (a lone surrogate)`);
  return { fields, seq };
}

/**
 * The path of the first string (value or key) that is not well-formed UTF-16, if any. Iterative: a frame is at most
 * API Gateway's 128 KB, so the walk is bounded by the frame's size whatever its depth.
 */
function malformedStringPath(root: unknown): string | undefined {
  const stack: [unknown, string][] = [[root, 'frame']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return path;
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) stack.push([item, `${path}.${i}`]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, item] of Object.entries(value)) {
        if (!k.isWellFormed()) return `${path} (a key)`;
        stack.push([item, path === 'frame' ? k : `${path}.${k}`]);
      }
    }
  }
  return undefined;
}

/** Validates a parsed frame against a schema; the first issue becomes a bad_request naming the field. */
export function validateFrame<S extends v.GenericSchema>(schema: S, frame: RawFrame): v.InferOutput<S> {
  const result = v.safeParse(schema, frame.fields);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = issue.path?.map((p) => String(p.key)).join('.') ?? 'frame';
  // valibot's text quotes what it received: bounded, so an error frame never outgrows what API Gateway can post.
  throw new FrameError('bad_request', `${field.slice(0, 64)}: ${issue.message}`.slice(0, MAX_ERROR_MESSAGE_CHARS));
}

/** Error messages are explanations, not echoes: 200 characters at most. */
const MAX_ERROR_MESSAGE_CHARS = 200;

/** Reads the seq of a body that may not even be JSON, for error frames answered before validation. */
export function seqOf(body: string | undefined | null): number | undefined {
  try {
    const value: unknown = JSON.parse(body ?? '');
    if (typeof value !== 'object' || value === null) return undefined;
    const seq = (value as Record<string, unknown>)['seq'];
    return v.is(seqSchema, seq) ? (seq as number | undefined) : undefined;
  } catch {
    return undefined;
  }
}
