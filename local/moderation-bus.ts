/**
 * Local mode's moderation bus (the ModerationPublisher port): report events and `Account Export Ready` notices are
 * kept in memory (tests read them; `npm start` logs reports; a ready notice goes to the local push sender when push
 * is on), and an export job runs the export worker's handler
 * in-process at once, as EventBridge's rule would invoke it on AWS. `drain()` waits for the jobs in flight.
 */
import type { Report } from '../core/domain/report.js';
import type { ExportJob, ExportReadyDetail, ModerationPublisher } from '../core/ports/moderation.js';

export type ExportWorker = (event: { detail: ExportJob }) => Promise<unknown>;

export class LocalModerationBus implements ModerationPublisher {
  readonly reports: Report[] = [];
  readonly exportsReady: ExportReadyDetail[] = [];
  private worker: ExportWorker | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly log: (message: string, fields: Record<string, unknown>) => void = () => undefined,
    /** Where `Account Export Ready` goes besides the list (local mode with push: its push sender). */
    private readonly pushExportReady?: (detail: ExportReadyDetail) => void,
  ) {}

  /** The export worker's handler, once composed. */
  setWorker(worker: ExportWorker): void {
    this.worker = worker;
  }

  async publishReport(report: Report): Promise<void> {
    this.reports.push(report);
    this.log('report filed', { reportId: report.report_id, reason: report.reason });
  }

  async startExport(job: ExportJob): Promise<void> {
    const worker = this.worker;
    if (!worker) throw new Error('local export worker not started');
    const run = worker({ detail: job })
      .catch((error: unknown) => this.log('export failed', { exportId: job.export_id, error: String(error) }))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  async exportReady(detail: ExportReadyDetail): Promise<void> {
    this.exportsReady.push(detail);
    this.pushExportReady?.(detail);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
