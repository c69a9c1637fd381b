/** What nearly every function composes first: its settings, clock, @connections gateway and DynamoDB client. */
import type { Clock } from '../ports/clock.js';
import type { Gateway } from '../ports/gateway.js';
import type { Config } from '../config.js';
import type { Adapters } from './adapters.js';
import { documentClient } from './dynamo.js';
import { connectionsGateway } from './gateway.js';

export function routePortsBase(adapters: Adapters): {
  readonly config: Config;
  readonly clock: Clock;
  readonly gateway: Gateway;
  readonly db: ReturnType<typeof documentClient>;
} {
  return {
    config: adapters.config,
    clock: adapters.clock,
    gateway: connectionsGateway(adapters),
    db: documentClient(adapters),
  };
}
