/**
 * Logs and metrics, one of each per Lambda instance (Powertools for AWS Lambda). Logs are JSON lines correlated by
 * connection, user and msg_id, and never carry message bodies or tokens; metrics are CloudWatch EMF lines in the
 * METRICS_NAMESPACE, which the stack's dashboard and alarms read.
 */
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type METRIC, METRICS_NAMESPACE, type PUSH_METRIC, SERVICE_NAME } from './metric-names.js';

export { METRIC, METRICS_NAMESPACE, PUSH_METRIC, SERVICE_NAME } from './metric-names.js';

/**
 * The `service` of every log line and the metrics' `service` dimension: POWERTOOLS_SERVICE_NAME, which the stack
 * sets per stack (the stack name by default), so two stacks in one account and region keep their metrics apart.
 */
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] || SERVICE_NAME;

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });

export { MetricUnit };

/** Metrics go out as EMF only on Lambda; in local mode and tests they are dropped (no CloudWatch to read them). */
const ON_LAMBDA = Boolean(process.env['AWS_LAMBDA_FUNCTION_NAME']);

/** Adds a count metric, skipping zeros so idle invocations publish nothing. */
export function count(
  name: (typeof METRIC)[keyof typeof METRIC] | (typeof PUSH_METRIC)[keyof typeof PUSH_METRIC],
  value: number,
): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
}

/**
 * Wraps a handler: every log line of the invocation carries its correlation keys (connection, user, route — never
 * bodies or tokens), and the metrics it added are published when it ends.
 */
export function observed<E, R>(
  handler: (event: E, context?: Context) => Promise<R>,
  correlation: (event: E) => Record<string, unknown>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    logger.appendKeys(correlation(event));
    try {
      return await handler(event, context);
    } finally {
      logger.resetKeys();
      if (ON_LAMBDA && metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else metrics.clearMetrics();
    }
  };
}
