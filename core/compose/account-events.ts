/** Where the deletion job announces its end: the construct's bus, local mode's record, or nowhere without a bus. */
import { EventBridgeAccountEvents, noAccountEvents } from '../gateway/account-events.js';
import type { AccountEventPublisher } from '../ports/accounts.js';
import type { Adapters } from './adapters.js';

export function accountEvents({ config, region, options }: Adapters): AccountEventPublisher {
  if (options.accountEvents) return options.accountEvents;
  return config.eventBusName ? new EventBridgeAccountEvents(config.eventBusName, { region }) : noAccountEvents;
}
