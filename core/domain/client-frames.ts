/**
 * Parsing and validation of client frames. Schemas are valibot's; every refusal is a FrameError carrying the
 * contract's code, and `seq` is read leniently first so even a refused frame's error echoes it.
 */
import * as v from 'valibot';
import { FrameError } from './frames.js';
import { USER_ID_PATTERN } from './ids.js';
import { GROUP_MSG_TYPES, SINGLE_MSG_TYPES } from './message.js';

const MAX_SEQ = 2 ** 32 - 1;
const seqSchema = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SEQ)));
const sessionIdSchema = v.pipe(v.string(), v.regex(USER_ID_PATTERN, 'must be 1-128 characters of A-Za-z0-9_.@-'));

export const MsgDataSchema = v.object({
  action: v.literal('msg_data'),
  seq: seqSchema,
  to_session_id: sessionIdSchema,
  msg_type: v.picklist([...SINGLE_MSG_TYPES, ...GROUP_MSG_TYPES], 'must be 1, 2, 17 or 18'),
  msg_data: v.string(),
  client_msg_id: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
});
export type MsgDataRequest = v.InferOutput<typeof MsgDataSchema>;

export const MsgDataAckSchema = v.object({
  action: v.literal('msg_data_ack'),
  seq: seqSchema,
  msg_id: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  session_id: sessionIdSchema,
  session_type: v.picklist([1, 2], 'must be 1 or 2'),
});
export type MsgDataAckRequest = v.InferOutput<typeof MsgDataAckSchema>;

/** A client frame that is at least a JSON object, with its seq when that is a valid integer. */
export interface RawFrame {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly seq: number | undefined;
}

/** Parses a frame body into a JSON object; not JSON or not an object is bad_request. */
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
  return { fields, seq: v.is(seqSchema, fields['seq']) ? (fields['seq'] as number | undefined) : undefined };
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
    return parseFrame(body).seq;
  } catch {
    return undefined;
  }
}
