/**
 * The push queue's events as the sender gets them: EventBridge's envelope around core/domain/push.ts's details — an
 * undelivered message (pushes to its receivers' devices) or a device-token challenge (one push to one token).
 */
import * as v from 'valibot';
import {
  DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE,
  EXPORT_READY_DETAIL_TYPE,
  type ExportReadyPushDetail,
  PUSH_EVENT_MAX_RECEIVERS,
  PUSH_EVENT_SOURCE,
  UNDELIVERED_DETAIL_TYPE,
  type DeviceTokenChallengeDetail,
  type UndeliveredMessageDetail,
} from './push.js';
import { MalformedPushEventError } from '../errors.js';

const UndeliveredSchema = v.object({
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

const ChallengeSchema = v.object({ token: v.string(), platform: v.string(), code: v.string() });

const ExportReadySchema = v.object({ user_id: v.string(), export_id: v.string(), expires_at: v.number() });

const EnvelopeSchema = v.variant('detail-type', [
  v.object({
    source: v.literal(PUSH_EVENT_SOURCE),
    'detail-type': v.literal(UNDELIVERED_DETAIL_TYPE),
    detail: UndeliveredSchema,
  }),
  v.object({
    source: v.literal(PUSH_EVENT_SOURCE),
    'detail-type': v.literal(DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE),
    detail: ChallengeSchema,
  }),
  v.object({
    source: v.literal(PUSH_EVENT_SOURCE),
    'detail-type': v.literal(EXPORT_READY_DETAIL_TYPE),
    detail: ExportReadySchema,
  }),
]);

export type PushEvent =
  | { readonly kind: 'undelivered'; readonly detail: UndeliveredMessageDetail }
  | { readonly kind: 'challenge'; readonly detail: DeviceTokenChallengeDetail }
  | { readonly kind: 'export_ready'; readonly detail: ExportReadyPushDetail };

export function parsePushEvent(body: string): PushEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedPushEventError('push event is not JSON', { cause: error });
  }
  const result = v.safeParse(EnvelopeSchema, json);
  if (!result.success)
    throw new MalformedPushEventError(`not a push event: ${v.summarize(result.issues).slice(0, 200)}`);
  const event = result.output;
  switch (event['detail-type']) {
    case UNDELIVERED_DETAIL_TYPE:
      return { kind: 'undelivered', detail: event.detail };
    case DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE:
      return { kind: 'challenge', detail: event.detail };
    default:
      return { kind: 'export_ready', detail: event.detail };
  }
}
