/**
 * The moderation events on the construct's event bus (docs/moderation.md "Events"): `Report Filed` for a team's
 * moderation pipeline (an EventBridge rule of its own: a queue, a ticket system, a Slack webhook), and
 * `Account Export Requested`, which the stack's own rule hands to the export worker. Same source as the push hook's
 * events; the push rule matches other detail types only.
 */
import * as v from 'valibot';

export const MODERATION_EVENT_SOURCE = 'teamtalk-serverless';
export const REPORT_FILED_DETAIL_TYPE = 'Report Filed';
export const EXPORT_REQUESTED_DETAIL_TYPE = 'Account Export Requested';
/** An export is ready for a user with no open connection: the push hook's (core/domain/push.ts). */
export { EXPORT_READY_DETAIL_TYPE } from './push.js';

const ExportJobSchema = v.object({
  user_id: v.string(),
  export_id: v.string(),
  day: v.pipe(v.number(), v.safeInteger()),
  resend: v.optional(v.boolean()),
});

/** The export job of an `Account Export Requested` event as the worker gets it (EventBridge's envelope). */
export function exportJobOf(event: unknown): v.InferOutput<typeof ExportJobSchema> {
  const detail = (event as { detail?: unknown } | undefined)?.detail;
  return v.parse(ExportJobSchema, detail);
}
