/** The presence checks' queue of the connect function: SQS standard, local mode's in-process queue, or none. */
import { noPresenceChecks, SqsPresenceChecks } from '../gateway/presence-checks.js';
import type { PresenceCheckQueue } from '../ports/presence.js';
import type { Adapters } from './adapters.js';

export function presenceChecks({ config, region, options }: Adapters): PresenceCheckQueue {
  if (options.presenceChecks) return options.presenceChecks;
  return config.presenceChecksQueueUrl
    ? new SqsPresenceChecks(config.presenceChecksQueueUrl, { region })
    : noPresenceChecks;
}
