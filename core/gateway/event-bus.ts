/** The EventPublisher and ChallengePublisher ports on EventBridge: PutEvents in batches of 10, on the configured bus. */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE,
  PUSH_EVENT_SOURCE,
  UNDELIVERED_DETAIL_TYPE,
  type DeviceTokenChallengeDetail,
  type UndeliveredMessageDetail,
} from '../domain/push.js';
import { EventsUnavailableError } from '../errors.js';
import type { ChallengePublisher, EventPublisher } from '../ports/events.js';

const PUT_EVENTS_LIMIT = 10;

export class EventBridgePublisher implements EventPublisher, ChallengePublisher {
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
    await this.put(entries);
  }

  async publishChallenge(detail: DeviceTokenChallengeDetail): Promise<void> {
    await this.put([
      {
        EventBusName: this.busName,
        Source: PUSH_EVENT_SOURCE,
        DetailType: DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE,
        Detail: JSON.stringify(detail),
      },
    ]);
  }

  private async put(entries: readonly PutEventsRequestEntry[]): Promise<void> {
    let failed = 0;
    for (let i = 0; i < entries.length; i += PUT_EVENTS_LIMIT) {
      const result = await this.client.send(new PutEventsCommand({ Entries: entries.slice(i, i + PUT_EVENTS_LIMIT) }));
      failed += result.FailedEntryCount ?? 0;
    }
    if (failed > 0) throw new EventsUnavailableError(`${failed} of ${entries.length} push events not published`);
  }
}

/** No bus configured (local mode without a hook): events are dropped. */
export const noEventPublisher: EventPublisher & ChallengePublisher = {
  publishUndelivered: async () => undefined,
  publishChallenge: async () => undefined,
};
