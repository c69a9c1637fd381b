/** The @connections client of a function: the Gateway port (API Gateway's management API). */
import { ConnectionsApiGateway } from '../gateway/connections-api.js';
import type { Gateway } from '../ports/gateway.js';
import type { Adapters } from './adapters.js';

export function connectionsGateway({ config, region, credentials }: Adapters): Gateway {
  return new ConnectionsApiGateway({ endpoint: config.connectionsEndpoint, region, credentials });
}
