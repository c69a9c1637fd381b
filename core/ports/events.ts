/** The push hook's bus, as the use-cases publish on it (core/gateway/event-bus.ts: EventBridge). */
import type { DeviceTokenChallengeDetail, UndeliveredMessageDetail } from '../domain/push.js';

/** Publishes undelivered-message events (the offline push hook); throws EventsUnavailableError when some were not. */
export interface EventPublisher {
  publishUndelivered(details: readonly UndeliveredMessageDetail[]): Promise<void>;
}

/** Publishes device-token challenges (a push to one token, core/domain/push.ts) on the push hook's bus. */
export interface ChallengePublisher {
  publishChallenge(detail: DeviceTokenChallengeDetail): Promise<void>;
}
