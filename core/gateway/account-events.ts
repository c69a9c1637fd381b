/** The AccountEventPublisher port on the construct's EventBridge bus: `Account Deleted`, beside the push hook's events. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ACCOUNT_DELETED_DETAIL_TYPE } from '../domain/account.js';
import { PUSH_EVENT_SOURCE } from '../domain/push.js';
import { EventsUnavailableError } from '../errors.js';
import type { AccountEventPublisher } from '../ports/accounts.js';

export class EventBridgeAccountEvents implements AccountEventPublisher {
  private readonly client: EventBridgeClient;

  constructor(
    private readonly busName: string,
    options: { region?: string | undefined } = {},
  ) {
    this.client = new EventBridgeClient({ ...(options.region ? { region: options.region } : {}), maxAttempts: 4 });
  }

  async publishAccountDeleted(detail: { user_id: string; deleted_at: number }): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: PUSH_EVENT_SOURCE,
            DetailType: ACCOUNT_DELETED_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) throw new EventsUnavailableError('Account Deleted event not published');
  }
}

/** No bus: the end of a deletion is only logged. */
export const noAccountEvents: AccountEventPublisher = { publishAccountDeleted: async () => undefined };
