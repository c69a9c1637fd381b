/**
 * ChatMonitoring: the dashboard and alarms of a ChatBackend. Metric names come from core/observability.ts (the EMF
 * metrics the handlers emit, dimension `service`), the rest are the AWS/Lambda, AWS/DynamoDB, AWS/ApiGateway and
 * AWS/SQS metrics of the construct's own resources.
 *
 * Alarms and the dashboard are what an idle deployment pays for (CloudWatch bills every metric an alarm reads, every
 * month): `full` watches each function, table and queue and draws the dashboard; `minimal` keeps the alarms that say
 * messages are failing or waiting — Lambda errors and throttles, WebSocket integration errors, give-ups, dead letters,
 * the push queue's age — and drops the per-table throttle alarms and the dashboard (docs/deploy.md "Fixed monthly cost").
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
import { METRIC, METRICS_NAMESPACE } from '../core/metric-names.js';
import { ConfigError } from '../core/errors.js';

/** How much the construct monitors: every alarm and the dashboard, or the alarms that say messages are failing. */
export type MonitoringLevel = 'full' | 'minimal';
export const MONITORING_LEVELS: readonly MonitoringLevel[] = ['full', 'minimal'];

/** When the construct's alarms fire. */
export interface AlarmThresholds {
  /** Lambda errors, summed over all the construct's functions, in 5 minutes. @default 5 */
  readonly lambdaErrors?: number;
  /** Lambda throttles (invocations refused for want of concurrency), summed over the functions, in 5 minutes. @default 5 */
  readonly lambdaThrottles?: number;
  /** WebSocket stage IntegrationError + ExecutionError (frames whose function failed or could not be called) in 5 minutes. @default 5 */
  readonly apiErrors?: number;
  /** Age of the oldest event in the push queue, in seconds (a push this late is of little use). @default 300 */
  readonly pushQueueAgeSeconds?: number;
  /** DynamoDB throttle events (ReadThrottleEvents + WriteThrottleEvents) of one table in 5 minutes. @default 10 */
  readonly dynamoDbThrottleEvents?: number;
  /** Deliveries the sweeper gave up on (DeliveriesGivenUp) in 15 minutes. @default 10 */
  readonly deliveriesGivenUp?: number;
}

export const DEFAULT_ALARM_THRESHOLDS: Required<AlarmThresholds> = {
  lambdaErrors: 5,
  lambdaThrottles: 5,
  apiErrors: 5,
  pushQueueAgeSeconds: 300,
  dynamoDbThrottleEvents: 10,
  deliveriesGivenUp: 10,
};

/** The thresholds with their defaults; throws on a value that is not a positive number. */
export function resolveAlarmThresholds(thresholds: AlarmThresholds = {}): Required<AlarmThresholds> {
  const resolved = { ...DEFAULT_ALARM_THRESHOLDS, ...thresholds };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new ConfigError(`ChatBackend: alarmThresholds.${name} must be a positive number, got ${value}`);
  }
  return resolved;
}

export interface ChatMonitoringProps {
  /** `full`: every alarm and the dashboard; `minimal`: the alarms that say messages are failing, no dashboard. */
  readonly level: MonitoringLevel;
  readonly dashboardName: string;
  /** The `service` dimension of the handlers' EMF metrics (their POWERTOOLS_SERVICE_NAME); also the alarms' label. */
  readonly serviceName: string;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly tables: Readonly<Record<string, dynamodb.ITableV2>>;
  readonly apiId: string;
  readonly stageName: string;
  /** Dead-letter queues by a short label; each gets a depth alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** The push queue, when push is on: an alarm on the age of its oldest event. */
  readonly pushQueue?: sqs.IQueue;
  /** Alarm and OK notifications go here when given. */
  readonly alarmTopic?: sns.ITopic;
  readonly thresholds?: AlarmThresholds;
}

/** Most metrics one alarm's metric math may use (CloudWatch limit). */
const MAX_METRICS_PER_ALARM = 10;
const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/** An EMF metric of the handlers (Powertools: namespace METRICS_NAMESPACE, default dimension `service`). */
export function appMetric(
  serviceName: string,
  metricName: string,
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
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
  /** The dashboard: only at the `full` level. */
  public readonly dashboard?: cloudwatch.Dashboard;
  public readonly alarms: readonly cloudwatch.Alarm[];
  private readonly thresholds: Required<AlarmThresholds>;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ChatMonitoringProps,
  ) {
    super(scope, id);
    this.thresholds = resolveAlarmThresholds(props.thresholds);
    this.alarms = this.createAlarms();
    if (props.level === 'full') this.dashboard = this.createDashboard(props, this.alarms);
  }

  /** Each alarm notifies the topic, when there is one, on ALARM and on OK. */
  private createAlarms(): cloudwatch.Alarm[] {
    const { props } = this;
    const full = props.level === 'full';
    return [
      ...this.lambdaAlarms(
        'Errors',
        (fn) => fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        this.thresholds.lambdaErrors,
      ),
      ...this.lambdaAlarms(
        'Throttles',
        (fn) => fn.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        this.thresholds.lambdaThrottles,
      ),
      this.apiErrorsAlarm(),
      ...(full ? Object.entries(props.tables).map(([name, table]) => this.tableThrottleAlarm(name, table)) : []),
      this.alarm('DeliveriesGivenUpAlarm', {
        alarmDescription: `${props.serviceName}: deliveries given up after the last redelivery ≥ ${this.thresholds.deliveriesGivenUp} in 15 minutes`,
        metric: appMetric(props.serviceName, METRIC.deliveriesGivenUp, { period: Duration.minutes(15) }),
        threshold: this.thresholds.deliveriesGivenUp,
      }),
      ...Object.entries(props.deadLetterQueues).map(([label, queue]) =>
        this.alarm(`${label}DepthAlarm`, {
          alarmDescription: `${props.serviceName}: ${label} dead-letter queue holds at least one message (a failed asynchronous invocation)`,
          metric: queue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: 1,
        }),
      ),
      ...(props.pushQueue
        ? [
            this.alarm('PushQueueAgeAlarm', {
              alarmDescription: `${props.serviceName}: the oldest event in the push queue is ≥ ${this.thresholds.pushQueueAgeSeconds} s old (the sender is failing or behind)`,
              metric: props.pushQueue.metricApproximateAgeOfOldestMessage({
                period: FIVE_MINUTES,
                statistic: cloudwatch.Stats.MAXIMUM,
              }),
              threshold: this.thresholds.pushQueueAgeSeconds,
            }),
          ]
        : []),
    ];
  }

  /** A ≥-threshold alarm over one evaluation period, quiet without data, notifying the topic. */
  private alarm(
    id: string,
    props: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric' | 'threshold'>,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) {
      const action = new cwActions.SnsAction(this.props.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarm;
  }

  /** One alarm per ten functions (CloudWatch's limit per alarm) on the sum of a Lambda metric. */
  private lambdaAlarms(
    metricName: 'Errors' | 'Throttles',
    metric: (fn: lambda.IFunction) => cloudwatch.IMetric,
    threshold: number,
  ): cloudwatch.Alarm[] {
    const groups = chunks(Object.entries(this.props.functions), MAX_METRICS_PER_ALARM);
    return groups.map((group, i) => {
      const usingMetrics = Object.fromEntries(
        group.map(([, fn], j) => [`${metricName === 'Errors' ? 'e' : 't'}${j}`, metric(fn)]),
      );
      return this.alarm(groups.length === 1 ? `Lambda${metricName}Alarm` : `Lambda${metricName}Alarm${i + 1}`, {
        alarmDescription: `${this.props.serviceName}: Lambda ${metricName.toLowerCase()} of ${group.map(([name]) => name).join(', ')} ≥ ${threshold} in 5 minutes`,
        metric: new cloudwatch.MathExpression({
          expression: filledSum(Object.keys(usingMetrics)),
          usingMetrics,
          period: FIVE_MINUTES,
          label: `Lambda ${metricName.toLowerCase()}`,
        }),
        threshold,
      });
    });
  }

  /** Frames whose integration failed (IntegrationError) or could not be called (ExecutionError), on the stage. */
  private apiErrorsAlarm(): cloudwatch.Alarm {
    const usingMetrics = Object.fromEntries(
      ['IntegrationError', 'ExecutionError'].map((name, i) => [`a${i}`, apiMetric(this.props, name, FIVE_MINUTES)]),
    );
    return this.alarm('WebSocketErrorsAlarm', {
      alarmDescription: `${this.props.serviceName}: WebSocket integration and execution errors ≥ ${this.thresholds.apiErrors} in 5 minutes`,
      metric: new cloudwatch.MathExpression({
        expression: filledSum(Object.keys(usingMetrics)),
        usingMetrics,
        period: FIVE_MINUTES,
        label: 'WebSocket errors',
      }),
      threshold: this.thresholds.apiErrors,
    });
  }

  private tableThrottleAlarm(name: string, table: dynamodb.ITableV2): cloudwatch.Alarm {
    return this.alarm(`${name}ThrottleAlarm`, {
      alarmDescription: `${this.props.serviceName}: DynamoDB table ${name} throttle events (read + write) ≥ ${this.thresholds.dynamoDbThrottleEvents} in 5 minutes`,
      metric: throttleEvents(table, 'r', 'w', FIVE_MINUTES, name),
      threshold: this.thresholds.dynamoDbThrottleEvents,
    });
  }

  /** Messages, WebSocket traffic and errors, the alarms' state, and per function and per table health. */
  private createDashboard(props: ChatMonitoringProps, alarms: readonly cloudwatch.Alarm[]): cloudwatch.Dashboard {
    const functions = Object.entries(props.functions);
    const tables = Object.entries(props.tables);
    const stageMetric = (metricName: string): cloudwatch.Metric => apiMetric(props, metricName, ONE_MINUTE);
    const perFunction = (metric: (fn: lambda.IFunction) => cloudwatch.Metric): cloudwatch.IMetric[] =>
      functions.map(([name, fn]) => metric(fn).with({ label: name }));
    const perTable = (metricName: string): cloudwatch.IMetric[] =>
      tables.map(([name, table]) =>
        table.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE, label: name }),
      );
    const widget = (
      title: string,
      left: cloudwatch.IMetric[],
      right: cloudwatch.IMetric[] = [],
    ): cloudwatch.GraphWidget => new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });

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
            appMetric(props.serviceName, METRIC.presenceAnnouncementsCapped, { label: 'presence capped' }),
          ]),
          widget('Ack latency (ms)', [
            appMetric(props.serviceName, METRIC.ackLatency, { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
            appMetric(props.serviceName, METRIC.ackLatency, { statistic: cloudwatch.Stats.p(99), label: 'p99' }),
          ]),
        ],
        [
          widget('WebSocket connects and messages (per minute)', [
            stageMetric('ConnectCount'),
            stageMetric('MessageCount'),
          ]),
          widget('WebSocket errors (per minute)', [
            stageMetric('IntegrationError'),
            stageMetric('ClientError'),
            stageMetric('ExecutionError'),
          ]),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: 8, height: 6 }),
        ],
        [
          widget(
            'Lambda errors',
            perFunction((fn) => fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE })),
          ),
          widget(
            'Lambda throttles',
            perFunction((fn) => fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE })),
          ),
          widget(
            'Lambda duration p99 (ms)',
            perFunction((fn) => fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period: ONE_MINUTE })),
          ),
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

/** A metric of the WebSocket stage (AWS/ApiGateway, dimensions ApiId and Stage). */
function apiMetric(
  props: Pick<ChatMonitoringProps, 'apiId' | 'stageName'>,
  metricName: string,
  period: Duration,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/ApiGateway',
    metricName,
    dimensionsMap: { ApiId: props.apiId, Stage: props.stageName },
    statistic: cloudwatch.Stats.SUM,
    period,
    label: metricName,
  });
}

/** ReadThrottleEvents + WriteThrottleEvents of a table; DynamoDB reports them only when non-zero, hence FILL. */
function throttleEvents(
  table: dynamodb.ITableV2,
  readId: string,
  writeId: string,
  period: Duration,
  label: string,
): cloudwatch.MathExpression {
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
  /** Whose alarms: the backend's name in the topic's display name and the key's description. */
  readonly label: string;
}

/** An SNS topic for the alarms, encrypted with a customer managed key CloudWatch may use, HTTPS only. */
export class ChatAlarmTopic extends Construct {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: ChatAlarmTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // CloudWatch cannot publish to a topic under the AWS managed key (alias/aws/sns): its key policy is fixed.
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm topic of ${props.label}`,
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
      displayName: `${props.label} alarms`,
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
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
