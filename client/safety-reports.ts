/**
 * Reports and account exports (docs/moderation.md): `report` of a message or a user, and `exportAccount`, whose
 * download URL arrives later as an `account_export_ready` frame (the `account_export_ready` event, and the promise
 * `ready` of the request). ChatClient exposes both; this module holds their inputs, checks and waiting.
 */
import { sessionRefOf, type Conversation } from './conversation.js';
import { ChatError } from './errors.js';
import type { AccountExportReadyFrame, ReportReason, ReportTarget, ServerFrame } from './frames.js';
import { MAX_REPORT_TEXT_CHARS, REPORT_REASONS } from './frames.js';

/** What to report: one message of a conversation (its msg_id), or a user. */
export type ReportInput = {
  readonly reason: ReportReason;
  /** At most 1,000 characters. */
  readonly text?: string;
} & (
  | { readonly conversation: Conversation; readonly msgId: number; readonly userId?: never }
  | { readonly userId: string; readonly conversation?: never; readonly msgId?: never }
);

/** An export was not ready within the wait the app gave it (it may still arrive: the `account_export_ready` event). */
export class ExportTimeoutError extends ChatError {
  override readonly name = 'ExportTimeoutError';
  constructor(readonly exportId: string) {
    super(`account export ${exportId} not ready in time`);
  }
}

/** The `report` request's fields; a TypeError for input the server would refuse as bad_request. */
export function reportFields(input: ReportInput): { target: ReportTarget; reason: ReportReason; text?: string } {
  if (!(REPORT_REASONS as readonly string[]).includes(input.reason))
    throw new TypeError(`report: reason must be one of ${REPORT_REASONS.join(', ')}`);
  if (input.text !== undefined && input.text.length > MAX_REPORT_TEXT_CHARS)
    throw new TypeError(`report: text is longer than ${MAX_REPORT_TEXT_CHARS} characters`);
  const target: ReportTarget =
    input.userId !== undefined
      ? { user_id: input.userId }
      : { ...sessionRefOf(input.conversation), msg_id: input.msgId };
  return { target, reason: input.reason, ...(input.text === undefined ? {} : { text: input.text }) };
}

export function isAccountExportReadyFrame(frame: ServerFrame): frame is AccountExportReadyFrame {
  return (
    frame.type === 'account_export_ready' &&
    typeof frame['export_id'] === 'string' &&
    typeof frame['url'] === 'string' &&
    typeof frame['expires_at'] === 'number'
  );
}

/** Resolves with the export's ready frame, or rejects with ExportTimeoutError after `timeoutMs`. */
export function waitForExport(
  events: { on(event: 'account_export_ready', listener: (frame: AccountExportReadyFrame) => void): () => void },
  exportId: string,
  timeoutMs: number,
): Promise<AccountExportReadyFrame> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new ExportTimeoutError(exportId));
    }, timeoutMs);
    const off = events.on('account_export_ready', (frame) => {
      if (frame.export_id !== exportId) return;
      clearTimeout(timer);
      off();
      resolve(frame);
    });
  });
}
