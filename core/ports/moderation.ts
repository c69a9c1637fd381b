/** The ports of reports and account exports (core/usecases/report.ts, account-export.ts, export-job.ts). */
import type { Report } from '../domain/report.js';

export interface ReportStore {
  /** Strongly consistent. */
  get(reportId: string): Promise<Report | undefined>;
  /** Writes the report unless its id exists; else returns the stored one, writing nothing. */
  create(report: Report): Promise<{ report: Report; created: boolean }>;
  /** A page of open reports (`after`: the previous page's `next`). */
  listOpen(page: { after?: string; limit: number }): Promise<{ reports: Report[]; next?: string }>;
  /** Marks a report resolved; false when there is no such report. */
  resolve(reportId: string, resolution: string, atSeconds: number): Promise<boolean>;
}

export interface ExportClaim {
  readonly userId: string;
  /** Unix day (UTC) of the request: one export a day. */
  readonly day: number;
  readonly exportId: string;
  readonly status: 'pending' | 'ready';
  /** Unix seconds. */
  readonly requestedAt: number;
}

export interface ExportClaimStore {
  /** Claims the day's export with this id, or returns the day's claim (fresh: false). */
  claim(userId: string, day: number, exportId: string, nowS: number): Promise<{ claim: ExportClaim; fresh: boolean }>;
  /** Takes a claim still pending since before `staleBeforeS` again; false when it is ready or not stale. */
  retake(claim: ExportClaim, staleBeforeS: number, nowS: number): Promise<boolean>;
  /** Removes this claim (only if it is still this export's): its job could not be started. */
  release(claim: Pick<ExportClaim, 'userId' | 'day' | 'exportId'>): Promise<void>;
  markReady(claim: Pick<ExportClaim, 'userId' | 'day'>, objectKey: string, nowS: number): Promise<void>;
}

/** An export job: whose, which, and the day it was claimed for. */
export interface ExportJob {
  readonly user_id: string;
  readonly export_id: string;
  readonly day: number;
  /** The export is written: only sign a fresh URL and tell the user again. */
  readonly resend?: boolean;
}

/** The moderation side of the construct's event bus: report events for a team's pipeline, export jobs for the worker. */
export interface ModerationPublisher {
  publishReport(report: Report): Promise<void>;
  startExport(job: ExportJob): Promise<void>;
  /** An export is ready and its user has no open connection: the push hook's `Account Export Ready`. */
  exportReady(detail: ExportReadyDetail): Promise<void>;
}

export interface ExportReadyDetail {
  readonly user_id: string;
  readonly export_id: string;
  readonly expires_at: number;
}

/** Where exports are written: the private attachment bucket, under `exports/`. */
export interface ExportBlobs {
  putJson(key: string, body: string): Promise<void>;
  presignDownload(key: string, ttlSeconds: number): Promise<string>;
}

/** All rows of a user's Sessions partition, for the export. */
export interface UserRowReader {
  listAll(userId: string, limit: number): Promise<{ rows: Record<string, unknown>[]; truncated: boolean }>;
}

/** What a team's own content check is asked about a message before it is counted or stored. */
export interface ContentCheckRequest {
  readonly from_user_id: string;
  /** The receiver's user id, or the group id. */
  readonly to_session_id: string;
  readonly msg_type: number;
  readonly msg_data: string;
}

/** A team's own check of a message (docs/moderation.md "Content filter"): true lets it through. */
export interface ContentCheck {
  allows(request: ContentCheckRequest): Promise<boolean>;
}
