/**
 * The push hook's bus of a function that publishes: one EventBridge client for both kinds of event, none without a
 * bus; local mode hands its own publisher in the adapter options.
 */
import { EventBridgePublisher, noEventPublisher } from '../gateway/event-bus.js';
import type { ChallengePublisher, EventPublisher } from '../ports/events.js';
import type { Adapters } from './adapters.js';

export function eventBus({ config, region, options }: Adapters): EventPublisher & ChallengePublisher {
  if (options.events) return options.events;
  return config.eventBusName ? new EventBridgePublisher(config.eventBusName, { region }) : noEventPublisher;
}
