/**
 * PushNotifications: the optional push part of ChatBackend. A rule on the push-hook bus matches the
 * undelivered-message events (source `teamtalk-serverless`, detail-type `Message Undelivered`) and the device-token
 * challenges (`Device Token Challenge`) and the account exports ready for users offline (`Account Export Ready`) and
 * puts them on an encrypted, SSL-only queue; the sender function takes them
 * in batches, at most `maxConcurrency` instances at once, and reports partial batch failures, so only the events
 * whose reads failed (or that an invocation had no time left to begin) come back after the visibility timeout and,
 * after `maxReceiveCount` receipts, rest in the dead-letter queue. Credentials stay in Secrets Manager: the function
 * gets the secrets' ARNs and `secretsmanager:GetSecretValue` on exactly those secrets, and its tables' actions from
 * lib/grants.ts PUSH_SENDER_ACCESS.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, ENV } from '../core/config.js';
import { METRICS_NAMESPACE, PUSH_METRIC } from '../core/metric-names.js';
import {
  DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE,
  EXPORT_READY_DETAIL_TYPE,
  PUSH_EVENT_SOURCE,
  UNDELIVERED_DETAIL_TYPE,
} from '../core/domain/push.js';
import { TABLES, type TableId } from '../core/store/schema.js';
import { PUSH_ENV } from '../lambdas/push-sender/providers.js';
import { bundledHandler, LAMBDA_RUNTIME } from './bundling.js';
import { PUSH_SENDER_SPEC } from './function-specs.js';
import { PUSH_SENDER_ACCESS } from './grants.js';
import { ConfigError } from '../core/errors.js';

/** Firebase Cloud Messaging (Android, and any app using FCM). */
export interface FcmPushProps {
  /** Secret whose SecretString is the service-account key file (JSON) of a Firebase project's service account. */
  readonly serviceAccountSecret: secretsmanager.ISecret;
}

/** Apple Push Notification service, token-based (.p8 key). */
export interface ApnsPushProps {
  /** Secret whose SecretString is the .p8 signing key's text (`-----BEGIN PRIVATE KEY-----…`). */
  readonly signingKeySecret: secretsmanager.ISecret;
  /** The key's id (10 characters, Apple Developer → Keys). */
  readonly keyId: string;
  /** The team id (10 characters, Apple Developer → Membership). */
  readonly teamId: string;
  /** The app's bundle id: the apns-topic. */
  readonly bundleId: string;
  /** Production APNs (App Store and TestFlight builds); false for development builds. @default true */
  readonly production?: boolean;
}

/** Web Push for browsers (VAPID). */
export interface WebPushProps {
  /** Secret whose SecretString is `{"publicKey":"…","privateKey":"…"}` (`npx web-push generate-vapid-keys --json`). */
  readonly vapidKeysSecret: secretsmanager.ISecret;
  /** The VAPID contact, a `mailto:` or `https:` URL the push services may use to reach you. */
  readonly subject: string;
  /**
   * Push service hosts to allow besides the browsers' (`fcm.googleapis.com`, `updates.push.services.mozilla.com`,
   * `web.push.apple.com`, `*.notify.windows.com`): exact names or `*.example.com` (one label under it). A `web` token
   * whose endpoint is not https on an allowed host is refused at registration and dropped at send
   * (WEB_PUSH_ENDPOINT_ALLOWLIST).
   * @default []
   */
  readonly endpointHosts?: readonly string[];
}

/** ChatBackend's `push`: which providers to send through, and how hard to try. At least one provider. */
export interface ChatPushProps {
  /** @default - no FCM pushes (android tokens are skipped) */
  readonly fcm?: FcmPushProps;
  /** @default - no APNs pushes (ios and mac tokens are skipped) */
  readonly apns?: ApnsPushProps;
  /** @default - no Web Push (web tokens are skipped) */
  readonly webPush?: WebPushProps;
  /** Tries of one push while its provider answers 429/5xx (PUSH_MAX_ATTEMPTS). @default 3 */
  readonly maxAttempts?: number;
  /** Longest wait between tries; a longer Retry-After gives the push up (PUSH_MAX_RETRY_WAIT_MS). @default Duration.seconds(10) */
  readonly maxRetryWait?: Duration;
  /** Events per sender invocation (SQS batch size). @default 10 */
  readonly batchSize?: number;
  /**
   * Most sender instances at once (the SQS event source's maximum concurrency, 2–1000), so that a burst of pushes
   * never takes the account's concurrency that send and ack need.
   * @default 2
   */
  readonly maxConcurrency?: number;
  /** Receipts of an event before it goes to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /**
   * A receiver gets at most one push per conversation in this window; the messages in between are collapsed into it
   * and the next push carries the unread count (PUSH_COLLAPSE_WINDOW_MS).
   * @default Duration.seconds(30)
   */
  readonly collapseWindow?: Duration;
  /** Receivers one sender's messages may push per minute, all conversations together (PUSH_SENDER_BUDGET_PER_MINUTE). @default 1000 */
  readonly senderBudgetPerMinute?: number;
}

export interface PushNotificationsProps extends ChatPushProps {
  readonly eventBus: events.IEventBus;
  readonly tables: Readonly<Record<TableId, dynamodb.ITableV2>>;
  /** FANOUT_CONCURRENCY and the like: the handler settings every function gets. */
  readonly handlerSettings: Readonly<Record<string, string>>;
  readonly serviceName: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** NODE_OPTIONS=--enable-source-maps, as on every function (ChatBackendProps.sourceMaps). */
  readonly sourceMaps: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** PUSH_COLLAPSE_WINDOW_MS and PUSH_SENDER_BUDGET_PER_MINUTE from the props (core/config.ts bounds them alike). */
function floodBounds(props: ChatPushProps): Record<string, string> {
  const windowMs = props.collapseWindow?.toMilliseconds() ?? DEFAULTS.pushCollapseWindowMs;
  if (!Number.isInteger(windowMs) || windowMs < 0 || windowMs > 3_600_000)
    throw new ConfigError('ChatBackend: push.collapseWindow must be whole milliseconds up to an hour');
  const budget = props.senderBudgetPerMinute ?? DEFAULTS.pushSenderBudgetPerMinute;
  if (!Number.isInteger(budget) || budget < 1)
    throw new ConfigError(`ChatBackend: push.senderBudgetPerMinute must be a positive integer, got ${budget}`);
  return { [ENV.pushCollapseWindowMs]: String(windowMs), [ENV.pushSenderBudgetPerMinute]: String(budget) };
}

/**
 * Default most sender instances at once. Two instances handle 10 events at a time (5 at once, 16 pushes each), a
 * few hundred pushes a second, and leave the rest of a new account's small concurrency quota to send and ack.
 */
export const PUSH_SENDER_MAX_CONCURRENCY = 2;

export class PushNotifications extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: NodejsFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: PushNotificationsProps) {
    super(scope, id);
    if (!props.fcm && !props.apns && !props.webPush)
      throw new ConfigError('ChatBackend: push needs at least one of fcm, apns, webPush');
    const maxAttempts = props.maxAttempts ?? DEFAULTS.pushMaxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10)
      throw new ConfigError(`ChatBackend: push.maxAttempts must be an integer from 1 to 10, got ${maxAttempts}`);
    const maxRetryWaitMs = props.maxRetryWait?.toMilliseconds() ?? DEFAULTS.pushMaxRetryWaitMs;
    if (maxRetryWaitMs > 60_000) throw new ConfigError('ChatBackend: push.maxRetryWait must be at most 60 seconds');
    const maxConcurrency = props.maxConcurrency ?? PUSH_SENDER_MAX_CONCURRENCY;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000)
      throw new ConfigError(
        `ChatBackend: push.maxConcurrency must be an integer from 2 to 1000, got ${maxConcurrency}`,
      );

    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the push queue.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice for a Lambda event source: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(6 * PUSH_SENDER_SPEC.timeoutSeconds),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.rule = new events.Rule(this, 'UndeliveredRule', {
      eventBus: props.eventBus,
      description: 'Undelivered messages and device-token challenges → the push queue',
      eventPattern: {
        source: [PUSH_EVENT_SOURCE],
        detailType: [UNDELIVERED_DETAIL_TYPE, DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE, EXPORT_READY_DETAIL_TYPE],
      },
      targets: [new targets.SqsQueue(this.queue)],
    });
    this.function = this.createFunction(props, maxAttempts, maxRetryWaitMs);
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
  }

  /** Pushes sent, failed, tokens removed, receivers collapsed and over budget, for the dashboard. */
  dashboardWidget(serviceName: string): cloudwatch.GraphWidget {
    const metric = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: serviceName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(1),
        label,
      });
    return new cloudwatch.GraphWidget({
      title: 'Push notifications',
      left: [
        metric(PUSH_METRIC.pushesSent, 'sent'),
        metric(PUSH_METRIC.pushesFailed, 'failed'),
        metric(PUSH_METRIC.pushTokensRemoved, 'tokens removed'),
        metric(PUSH_METRIC.pushesCollapsed, 'receivers collapsed'),
        metric(PUSH_METRIC.pushesOverBudget, 'receivers over budget'),
      ],
      right: [this.queue.metricApproximateAgeOfOldestMessage({ label: 'oldest queued (s)' })],
      width: 12,
      height: 6,
    });
  }

  private createFunction(props: PushNotificationsProps, maxAttempts: number, maxRetryWaitMs: number): NodejsFunction {
    const logGroup = new logs.LogGroup(this, 'SenderLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(this, 'SenderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the push sender',
    });
    logGroup.grantWrite(role);
    const environment: Record<string, string> = {
      ...(props.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
      ...props.handlerSettings,
      [ENV.pushMaxAttempts]: String(maxAttempts),
      [ENV.pushMaxRetryWaitMs]: String(maxRetryWaitMs),
      ...floodBounds(props),
    };
    const secrets: secretsmanager.ISecret[] = [];
    for (const [tableId, actions] of Object.entries(PUSH_SENDER_ACCESS.tables) as [TableId, readonly string[]][]) {
      environment[TABLES[tableId].envVar] = props.tables[tableId].tableName;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...actions], resources: [props.tables[tableId].tableArn] }),
      );
    }
    if (props.fcm) {
      environment[PUSH_ENV.fcmSecret] = props.fcm.serviceAccountSecret.secretArn;
      secrets.push(props.fcm.serviceAccountSecret);
    }
    if (props.apns) {
      Object.assign(environment, {
        [PUSH_ENV.apnsKeySecret]: props.apns.signingKeySecret.secretArn,
        [PUSH_ENV.apnsKeyId]: props.apns.keyId,
        [PUSH_ENV.apnsTeamId]: props.apns.teamId,
        [PUSH_ENV.apnsBundleId]: props.apns.bundleId,
        [PUSH_ENV.apnsProduction]: String(props.apns.production ?? true),
      });
      secrets.push(props.apns.signingKeySecret);
    }
    if (props.webPush) {
      environment[PUSH_ENV.vapidSecret] = props.webPush.vapidKeysSecret.secretArn;
      environment[PUSH_ENV.vapidSubject] = props.webPush.subject;
      secrets.push(props.webPush.vapidKeysSecret);
    }
    const fn = new NodejsFunction(this, 'SenderFunction', {
      ...bundledHandler(PUSH_SENDER_SPEC.entry),
      description: PUSH_SENDER_SPEC.description,
      memorySize: PUSH_SENDER_SPEC.memorySize,
      timeout: Duration.seconds(PUSH_SENDER_SPEC.timeoutSeconds),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment,
    });
    // Read only: GetSecretValue (and the secret's key's Decrypt, when it has a customer key) on these secrets.
    for (const secret of secrets) secret.grantRead(role);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${LAMBDA_RUNTIME.name} is pinned on purpose (supported LTS, matching the esbuild target), as for every function of ChatBackend.`,
    });
    return fn;
  }
}
