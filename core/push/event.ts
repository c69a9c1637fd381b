/** The undelivered-message event as the push queue hands it over: EventBridge's envelope around core/domain/push.ts's detail. */
import * as v from 'valibot';
import { PUSH_EVENT_MAX_RECEIVERS, PUSH_EVENT_SOURCE, UNDELIVERED_DETAIL_TYPE, type UndeliveredMessageDetail } from '../domain/push.js';

const DetailSchema = v.object({
  reason: v.picklist(['offline', 'gave_up']),
  receivers: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(PUSH_EVENT_MAX_RECEIVERS)),
  from_user_id: v.string(),
  session_type: v.picklist([1, 2]),
  session_id: v.string(),
  msg_id: v.pipe(v.number(), v.safeInteger()),
  msg_type: v.number(),
  create_time: v.number(),
  msg_data: v.optional(v.string()),
});

const EnvelopeSchema = v.object({
  source: v.literal(PUSH_EVENT_SOURCE),
  'detail-type': v.literal(UNDELIVERED_DETAIL_TYPE),
  detail: DetailSchema,
});

/** An event that is not ours will never become one: the caller drops it rather than retrying it. */
export class MalformedPushEventError extends Error {}

export function parseUndeliveredEvent(body: string): UndeliveredMessageDetail {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedPushEventError('push event is not JSON', { cause: error });
  }
  const result = v.safeParse(EnvelopeSchema, json);
  if (!result.success) throw new MalformedPushEventError(`not an undelivered-message event: ${v.summarize(result.issues).slice(0, 200)}`);
  return result.output.detail;
}
