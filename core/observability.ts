/**
 * Logs and metrics, one of each per Lambda instance (Powertools for AWS Lambda). Logs are JSON lines correlated by
 * connection, user and msg_id, and never carry message bodies or tokens; metrics are CloudWatch EMF lines in the
 * METRICS_NAMESPACE, which the stack's dashboard and alarms read. Each invocation's correlation keys live in its own
 * async context, not on the shared logger: local mode and the chaos run overlap invocations in one process, and
 * so may Lambda (several concurrent invocations per instance), so no invocation may change another's keys.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type METRIC, METRICS_NAMESPACE, type PUSH_METRIC, SERVICE_NAME } from './metric-names.js';

export { METRIC, METRICS_NAMESPACE, PUSH_METRIC, SERVICE_NAME } from './metric-names.js';

/**
 * The `service` of every log line and the metrics' `service` dimension: POWERTOOLS_SERVICE_NAME, which the stack
 * sets per stack (the stack name by default), so two stacks in one account and region keep their metrics apart.
 */
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] || SERVICE_NAME;

const baseLogger = new Logger({ serviceName });

/** The correlation keys of the invocation running in this async context (observed() opens one per invocation). */
const invocationKeys = new AsyncLocalStorage<LogAttributes>();

const withKeys = (attributes: LogAttributes = {}): LogAttributes => {
  const keys = invocationKeys.getStore();
  return keys ? { ...keys, ...attributes } : attributes;
};

/** The handlers' logger: every line carries the keys of the invocation that wrote it. */
export const logger = {
  debug: (message: string, attributes?: LogAttributes) => baseLogger.debug(message, withKeys(attributes)),
  info: (message: string, attributes?: LogAttributes) => baseLogger.info(message, withKeys(attributes)),
  warn: (message: string, attributes?: LogAttributes) => baseLogger.warn(message, withKeys(attributes)),
  error: (message: string, attributes?: LogAttributes) => baseLogger.error(message, withKeys(attributes)),
  /** Adds keys to the later lines of the running invocation (outside one: to every later line). */
  appendKeys(keys: LogAttributes): void {
    const current = invocationKeys.getStore();
    if (current) Object.assign(current, keys);
    else baseLogger.appendKeys(keys);
  },
  setLogLevel: (level: LogLevel) => baseLogger.setLogLevel(level),
};

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
    try {
      return await invocationKeys.run({ ...correlation(event) }, () => handler(event, context));
    } finally {
      if (ON_LAMBDA && metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else metrics.clearMetrics();
    }
  };
}
