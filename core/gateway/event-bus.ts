/** The EventPublisher port on EventBridge: PutEvents in batches of 10, on the configured bus. */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PUSH_EVENT_SOURCE, UNDELIVERED_DETAIL_TYPE, type UndeliveredMessageDetail } from '../domain/push.js';
import { EventsUnavailableError } from '../errors.js';
import type { EventPublisher } from '../ports.js';

const PUT_EVENTS_LIMIT = 10;

export class EventBridgePublisher implements EventPublisher {
  private readonly client: EventBridgeClient;

  constructor(
    private readonly busName: string,
    options: { region?: string } = {},
  ) {
    this.client = new EventBridgeClient({ region: options.region, maxAttempts: 4 });
  }

  async publishUndelivered(details: readonly UndeliveredMessageDetail[]): Promise<void> {
    const entries: PutEventsRequestEntry[] = details.map((detail) => ({
      EventBusName: this.busName,
      Source: PUSH_EVENT_SOURCE,
      DetailType: UNDELIVERED_DETAIL_TYPE,
      Detail: JSON.stringify(detail),
    }));
    let failed = 0;
    for (let i = 0; i < entries.length; i += PUT_EVENTS_LIMIT) {
      const result = await this.client.send(new PutEventsCommand({ Entries: entries.slice(i, i + PUT_EVENTS_LIMIT) }));
      failed += result.FailedEntryCount ?? 0;
    }
    if (failed > 0) throw new EventsUnavailableError(`${failed} of ${entries.length} undelivered-message events not published`);
  }
}

/** No bus configured (local mode without a hook): events are dropped. */
export const noEventPublisher: EventPublisher = { publishUndelivered: async () => undefined };
