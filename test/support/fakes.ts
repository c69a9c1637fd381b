/** Hand-made port fakes for tests: a recording gateway and a settable clock. */
import { GatewayUnavailableError } from '../../core/errors.js';
import type { ServerFrame } from '../../core/domain/frames.js';
import type { DeviceTokenChallengeDetail, UndeliveredMessageDetail } from '../../core/domain/push.js';
import type { ChallengePublisher, EventPublisher } from '../../core/ports/events.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Gateway, PostResult } from '../../core/ports/gateway.js';
import type { PushThrottle } from '../../core/ports/push.js';

export class RecordingGateway implements Gateway {
  readonly posts: { connectionId: string; frame: ServerFrame }[] = [];
  /** Connections that answer 410. */
  readonly gone = new Set<string>();
  /** Connections whose posts fail after retries (429s, timeouts). */
  readonly unavailable = new Set<string>();

  async post(connectionId: string, frame: ServerFrame): Promise<PostResult> {
    if (this.gone.has(connectionId)) return 'gone';
    if (this.unavailable.has(connectionId)) throw new GatewayUnavailableError(`${connectionId} unavailable`);
    this.posts.push({ connectionId, frame });
    return 'delivered';
  }

  /** Connections closed with disconnect() (DELETE @connections). */
  readonly disconnected: string[] = [];

  async disconnect(connectionId: string): Promise<void> {
    this.disconnected.push(connectionId);
  }

  framesTo(connectionId: string): ServerFrame[] {
    return this.posts.filter((p) => p.connectionId === connectionId).map((p) => p.frame);
  }
}

export class ManualClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export class RecordingEventPublisher implements EventPublisher, ChallengePublisher {
  readonly events: UndeliveredMessageDetail[] = [];
  readonly challenges: DeviceTokenChallengeDetail[] = [];

  async publishUndelivered(details: readonly UndeliveredMessageDetail[]): Promise<void> {
    this.events.push(...details);
  }

  async publishChallenge(detail: DeviceTokenChallengeDetail): Promise<void> {
    this.challenges.push(detail);
  }
}

/** Push flood bounds that never hold a push back (tests of what is sent, not of how often). */
export const noThrottle: PushThrottle = {
  claimWindow: async () => true,
  takeBudget: async (_sender, wanted) => wanted,
};
