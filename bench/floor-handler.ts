/**
 * The cold-start floor (bench section 4): a handler that does nothing but create, at init, what every route
 * function creates — the DynamoDB document client, the @connections client, the EventBridge client, Powertools'
 * logger and metrics — bundled with the same settings. A function's bundle and init above this row is its own code.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDocumentClient } from '../core/store/document-client.js';

const region = process.env['AWS_REGION'];
const clients = [
  createDocumentClient({ region }),
  new ApiGatewayManagementApiClient({ region, endpoint: process.env['CONNECTIONS_ENDPOINT'] }),
  new EventBridgeClient({ region }),
];
const logger = new Logger({ serviceName: 'floor' });
const metrics = new Metrics({ namespace: 'floor', serviceName: 'floor' });

export const handler = async (): Promise<number> => {
  logger.debug('floor', { clients: clients.length });
  metrics.publishStoredMetrics();
  return clients.length;
};
