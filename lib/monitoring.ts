/**
 * ChatMonitoring: the dashboard and alarms of a ChatBackend. Metric names come from core/observability.ts (the EMF
 * metrics the handlers emit, dimension `service`), the rest are the AWS/Lambda, AWS/DynamoDB, AWS/ApiGateway and
 * AWS/SQS metrics of the construct's own resources.
 */
import { ArnFormat, Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../core/observability.js';

/** When the construct's alarms fire. */
export interface AlarmThresholds {
  /** Lambda errors, summed over all the construct's functions, in 5 minutes. @default 5 */
  readonly lambdaErrors?: number;
  /** DynamoDB throttle events (ReadThrottleEvents + WriteThrottleEvents) of one table in 5 minutes. @default 10 */
  readonly dynamoDbThrottleEvents?: number;
  /** Deliveries the sweeper gave up on (DeliveriesGivenUp) in 15 minutes. @default 10 */
  readonly deliveriesGivenUp?: number;
}

export const DEFAULT_ALARM_THRESHOLDS: Required<AlarmThresholds> = {
  lambdaErrors: 5,
  dynamoDbThrottleEvents: 10,
  deliveriesGivenUp: 10,
};

/** The thresholds with their defaults; throws on a value that is not a positive number. */
export function resolveAlarmThresholds(thresholds: AlarmThresholds = {}): Required<AlarmThresholds> {
  const resolved = { ...DEFAULT_ALARM_THRESHOLDS, ...thresholds };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`ChatBackend: alarmThresholds.${name} must be a positive number, got ${value}`);
  }
  return resolved;
}

export interface ChatMonitoringProps {
  readonly dashboardName: string;
  /** The `service` dimension of the handlers' EMF metrics (their POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly tables: Readonly<Record<string, dynamodb.ITableV2>>;
  readonly apiId: string;
  readonly stageName: string;
  /** Dead-letter queues by a short label; each gets a depth alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Alarm and OK notifications go here when given. */
  readonly alarmTopic?: sns.ITopic;
  readonly thresholds?: AlarmThresholds;
}

/** Most metrics one alarm's metric math may use (CloudWatch limit). */
const MAX_METRICS_PER_ALARM = 10;
const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/** An EMF metric of the handlers (Powertools: namespace METRICS_NAMESPACE, default dimension `service`). */
export function appMetric(serviceName: string, metricName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: serviceName },
    statistic: cloudwatch.Stats.SUM,
    period: ONE_MINUTE,
    ...options,
  });
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `FILL(a,0)+FILL(b,0)+…`: a sum that still counts when some of the series have no data point. */
function filledSum(ids: readonly string[]): string {
  return ids.map((id) => `FILL(${id},0)`).join('+');
}

export class ChatMonitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ChatMonitoringProps) {
    super(scope, id);
    this.alarms = this.createAlarms(props);
    this.dashboard = this.createDashboard(props, this.alarms);
  }

  /** Lambda errors, DynamoDB throttles per table, delivery give-ups, dead-letter queue depths; each notifies the topic. */
  private createAlarms(props: ChatMonitoringProps): cloudwatch.Alarm[] {
    const stackName = Stack.of(this).stackName;
    const thresholds = resolveAlarmThresholds(props.thresholds);
    const functions = Object.entries(props.functions);
    const alarms: cloudwatch.Alarm[] = [];
    const addAlarm = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
      if (props.alarmTopic) {
        const action = new cwActions.SnsAction(props.alarmTopic);
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
      alarms.push(alarm);
      return alarm;
    };

    const errorChunks = chunks(functions, MAX_METRICS_PER_ALARM);
    errorChunks.forEach((chunk, i) => {
      const usingMetrics = Object.fromEntries(chunk.map(([, fn], j) => [`e${j}`, fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM })]));
      addAlarm(
        new cloudwatch.Alarm(this, errorChunks.length === 1 ? 'LambdaErrorsAlarm' : `LambdaErrorsAlarm${i + 1}`, {
          alarmDescription: `${stackName}: Lambda errors of ${chunk.map(([name]) => name).join(', ')} ≥ ${thresholds.lambdaErrors} in 5 minutes`,
          metric: new cloudwatch.MathExpression({
            expression: filledSum(Object.keys(usingMetrics)),
            usingMetrics,
            period: FIVE_MINUTES,
            label: 'Lambda errors',
          }),
          threshold: thresholds.lambdaErrors,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });

    for (const [name, table] of Object.entries(props.tables)) {
      addAlarm(
        new cloudwatch.Alarm(this, `${name}ThrottleAlarm`, {
          alarmDescription: `${stackName}: DynamoDB table ${name} throttle events (read + write) ≥ ${thresholds.dynamoDbThrottleEvents} in 5 minutes`,
          metric: throttleEvents(table, 'r', 'w', FIVE_MINUTES, name),
          threshold: thresholds.dynamoDbThrottleEvents,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    addAlarm(
      new cloudwatch.Alarm(this, 'DeliveriesGivenUpAlarm', {
        alarmDescription: `${stackName}: deliveries given up after the last redelivery ≥ ${thresholds.deliveriesGivenUp} in 15 minutes`,
        metric: appMetric(props.serviceName, METRIC.deliveriesGivenUp, { period: Duration.minutes(15) }),
        threshold: thresholds.deliveriesGivenUp,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const [label, queue] of Object.entries(props.deadLetterQueues)) {
      addAlarm(
        new cloudwatch.Alarm(this, `${label}DepthAlarm`, {
          alarmDescription: `${stackName}: ${label} dead-letter queue holds at least one message (a failed asynchronous invocation)`,
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    return alarms;
  }

  /** Messages, WebSocket traffic and errors, the alarms' state, and per function and per table health. */
  private createDashboard(props: ChatMonitoringProps, alarms: readonly cloudwatch.Alarm[]): cloudwatch.Dashboard {
    const functions = Object.entries(props.functions);
    const tables = Object.entries(props.tables);
    const apiMetric = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.apiId, Stage: props.stageName },
        statistic: cloudwatch.Stats.SUM,
        period: ONE_MINUTE,
        label: metricName,
      });
    const perFunction = (metric: (fn: lambda.IFunction) => cloudwatch.Metric): cloudwatch.IMetric[] =>
      functions.map(([name, fn]) => metric(fn).with({ label: name }));
    const perTable = (metricName: string): cloudwatch.IMetric[] =>
      tables.map(([name, table]) => table.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE, label: name }));
    const widget = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });

    return new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          widget('Messages (per minute)', [
            appMetric(props.serviceName, METRIC.messagesStored, { label: 'stored' }),
            appMetric(props.serviceName, METRIC.deliveries, { label: 'deliveries' }),
            appMetric(props.serviceName, METRIC.redeliveries, { label: 'redeliveries' }),
            appMetric(props.serviceName, METRIC.deliveriesDeferred, { label: 'deferred' }),
            appMetric(props.serviceName, METRIC.offlineEvents, { label: 'offline events' }),
          ]),
          widget('Lost deliveries (per minute)', [
            appMetric(props.serviceName, METRIC.deliveriesGivenUp, { label: 'given up' }),
            appMetric(props.serviceName, METRIC.goneConnections, { label: 'gone connections' }),
          ]),
          widget('Ack latency (ms)', [
            appMetric(props.serviceName, METRIC.ackLatency, { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
            appMetric(props.serviceName, METRIC.ackLatency, { statistic: cloudwatch.Stats.p(99), label: 'p99' }),
          ]),
        ],
        [
          widget('WebSocket connects and messages (per minute)', [apiMetric('ConnectCount'), apiMetric('MessageCount')]),
          widget('WebSocket errors (per minute)', [apiMetric('IntegrationError'), apiMetric('ClientError'), apiMetric('ExecutionError')]),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: 8, height: 6 }),
        ],
        [
          widget('Lambda errors', perFunction((fn) => fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE }))),
          widget('Lambda throttles', perFunction((fn) => fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE }))),
          widget('Lambda duration p99 (ms)', perFunction((fn) => fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period: ONE_MINUTE }))),
        ],
        [
          widget(
            'DynamoDB throttle events (read + write)',
            tables.map(([name, table], i) => throttleEvents(table, `r${i}`, `w${i}`, ONE_MINUTE, name)),
          ),
          widget('DynamoDB consumed read units', perTable('ConsumedReadCapacityUnits')),
          widget('DynamoDB consumed write units', perTable('ConsumedWriteCapacityUnits')),
        ],
      ],
    });
  }
}

/** ReadThrottleEvents + WriteThrottleEvents of a table; DynamoDB reports them only when non-zero, hence FILL. */
function throttleEvents(table: dynamodb.ITableV2, readId: string, writeId: string, period: Duration, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: filledSum([readId, writeId]),
    usingMetrics: {
      [readId]: table.metric('ReadThrottleEvents', { statistic: cloudwatch.Stats.SUM, period }),
      [writeId]: table.metric('WriteThrottleEvents', { statistic: cloudwatch.Stats.SUM, period }),
    },
    period,
    label,
  });
}

export interface ChatAlarmTopicProps {
  /** Removal policy of the topic's KMS key. */
  readonly removalPolicy: RemovalPolicy;
}

/** An SNS topic for the alarms, encrypted with a customer managed key CloudWatch may use, HTTPS only. */
export class ChatAlarmTopic extends Construct {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: ChatAlarmTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // CloudWatch cannot publish to a topic under the AWS managed key (alias/aws/sns): its key policy is fixed.
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm topic of ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    allowCloudWatchAlarms(this.topic);
  }
}

/**
 * Lets this account's CloudWatch alarms of this region publish to the topic. A topic policy (which `enforceSSL`
 * creates) replaces SNS's default one, so without this statement every alarm action fails with "not authorized to
 * perform SNS:Publish" while the subscription mail still arrives. A no-op on an imported topic, whose policy its
 * owner manages.
 */
export function allowCloudWatchAlarms(topic: sns.ITopic): void {
  const stack = Stack.of(topic);
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        },
      },
    }),
  );
}
