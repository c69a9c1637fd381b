/**
 * Reports (docs/moderation.md): what a user reports — a message of a conversation they are in, or a user — why, and
 * what the operator sees of it. A report's id is derived from the reporter and the target, so a repeated report of
 * the same target by the same reporter is the same item (one conditional put decides between two racing ones) and
 * answers the same id, whatever its reason.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { REPORT_REASONS, type ReportReason } from '../../protocol/frames.js';
import { MAX_REPORT_TEXT_CHARS } from '../../protocol/limits.js';
import { msgIdSchema, seqSchema, sessionIdSchema, userIdSchema } from './client-frames.js';

export const ReportSchema = v.object({
  action: v.literal('report'),
  seq: seqSchema,
  target: v.union(
    [
      v.strictObject({
        session_id: sessionIdSchema,
        session_type: v.picklist([1, 2], 'must be 1 or 2'),
        msg_id: msgIdSchema,
      }),
      v.strictObject({ user_id: userIdSchema }),
    ],
    'must be {session_id, session_type, msg_id} or {user_id}',
  ),
  reason: v.picklist(REPORT_REASONS, `must be one of ${REPORT_REASONS.join(', ')}`),
  text: v.optional(v.pipe(v.string(), v.maxLength(MAX_REPORT_TEXT_CHARS))),
});

export const AccountExportSchema = v.object({ action: v.literal('account_export'), seq: seqSchema });

/** A reported message as it was stored when the report was filed. */
export interface ReportedMessage {
  readonly msg_id: number;
  readonly from_user_id: string;
  readonly create_time: number;
  readonly msg_type: number;
  readonly msg_data: string;
}

/** The target as stored: a message in a conversation (by its id, not the reporter's view), or a user. */
export type StoredReportTarget =
  | {
      readonly kind: 'message';
      readonly conversation_id: string;
      readonly session_type: number;
      /** The session from the reporter's view (the peer, or the group). */
      readonly session_id: string;
      readonly msg_id: number;
      /** Who sent the reported message. */
      readonly user_id: string;
    }
  | { readonly kind: 'user'; readonly user_id: string };

export type ReportStatus = 'open' | 'resolved';

export interface Report {
  readonly report_id: string;
  readonly reporter_id: string;
  readonly target: StoredReportTarget;
  readonly reason: ReportReason;
  readonly text?: string;
  /** Unix seconds. */
  readonly created_at: number;
  readonly status: ReportStatus;
  /**
   * What was reported, as stored then: the message (a message report), or up to USER_REPORT_SNAPSHOT_MESSAGES of the
   * reported user's newest messages to the reporter in their one-to-one conversation (a user report).
   */
  readonly snapshot: readonly ReportedMessage[];
  readonly resolved_at?: number;
  readonly resolution?: string;
}

/** A user report keeps at most this many of the reported user's newest one-to-one messages to the reporter. */
export const USER_REPORT_SNAPSHOT_MESSAGES = 5;
/** …found among this many newest messages of the pair's conversation (one bounded Query). */
export const USER_REPORT_SCAN_MESSAGES = 20;

const targetKey = (target: StoredReportTarget) =>
  target.kind === 'message' ? `m\u0000${target.conversation_id}\u0000${target.msg_id}` : `u\u0000${target.user_id}`;

/** `r_` + 26 base64url characters of SHA-256(reporter, target): the same for every report of a target by a reporter. */
export function reportIdOf(reporterId: string, target: StoredReportTarget): string {
  const digest = createHash('sha256')
    .update(`${reporterId}\u0000${targetKey(target)}`)
    .digest('base64url');
  return `r_${digest.slice(0, 26)}`;
}
