/**
 * Logs and metrics, one of each per Lambda instance (Powertools for AWS Lambda). Logs are JSON lines correlated by
 * connection, user and msg_id, and never carry message bodies or tokens; metrics are CloudWatch EMF lines in the
 * METRICS_NAMESPACE, which the stack's dashboard and alarms read.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'teamtalk-serverless';
export const METRICS_NAMESPACE = 'TeamTalkServerless';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/** The custom metrics, by name: the dashboard and the alarms use these names. */
export const METRIC = {
  messagesStored: 'MessagesStored',
  deliveries: 'Deliveries',
  redeliveries: 'Redeliveries',
  deliveriesGivenUp: 'DeliveriesGivenUp',
  goneConnections: 'GoneConnections',
  /** Posts that failed after retries (429 LimitExceeded, timeouts): left pending for the sweeper. */
  deliveriesDeferred: 'DeliveriesDeferred',
  /** Time from a delivery to its msg_data_ack. */
  ackLatency: 'AckLatency',
  offlineEvents: 'OfflineEvents',
} as const;

export { MetricUnit };
