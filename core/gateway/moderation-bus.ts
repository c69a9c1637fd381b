/** The ModerationPublisher port on EventBridge: one PutEvents per report or export request, on the construct's bus. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  EXPORT_READY_DETAIL_TYPE,
  EXPORT_REQUESTED_DETAIL_TYPE,
  MODERATION_EVENT_SOURCE,
  REPORT_FILED_DETAIL_TYPE,
} from '../domain/moderation-events.js';
import type { Report } from '../domain/report.js';
import { EventsUnavailableError } from '../errors.js';
import type { ExportJob, ExportReadyDetail, ModerationPublisher } from '../ports/moderation.js';

export class EventBridgeModerationPublisher implements ModerationPublisher {
  private readonly client: EventBridgeClient;

  constructor(
    private readonly busName: string,
    options: { region?: string | undefined } = {},
  ) {
    this.client = new EventBridgeClient({ region: options.region, maxAttempts: 4 });
  }

  publishReport(report: Report): Promise<void> {
    return this.put(REPORT_FILED_DETAIL_TYPE, report);
  }

  startExport(job: ExportJob): Promise<void> {
    return this.put(EXPORT_REQUESTED_DETAIL_TYPE, job);
  }

  exportReady(detail: ExportReadyDetail): Promise<void> {
    return this.put(EXPORT_READY_DETAIL_TYPE, detail);
  }

  private async put(detailType: string, detail: object): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: MODERATION_EVENT_SOURCE,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) throw new EventsUnavailableError(`${detailType} event not published`);
  }
}
