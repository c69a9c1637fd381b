/**
 * ChatBackend: TeamTalk's IM message path on API Gateway WebSocket + Lambda + DynamoDB, as one L3 construct.
 *
 * Tables come from core/store/schema.ts, env var names and defaults from core/config.ts and
 * core/auth/verify-token.ts, and IAM access from lib/grants.ts, so nothing here repeats a key name or a grant.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUTH_ENV } from '../core/auth/verify-token.js';
import { DEFAULTS, ENV } from '../core/config.js';
import { SERVICE_NAME } from '../core/observability.js';
import { ALL_TABLES, type KeyAttribute, type TableId } from '../core/store/schema.js';
import { ACTION_ROUTES, type RoutedAction } from '../core/routes.js';
import { FUNCTION_ACCESS, FUNCTION_IDS, tablesOf, type FunctionId } from './grants.js';
import { ChatMonitoring, resolveAlarmThresholds, type AlarmThresholds } from './monitoring.js';

export type { AlarmThresholds } from './monitoring.js';

/** Tokens from an existing Cognito user pool (issuer `https://cognito-idp.<region>.amazonaws.com/<poolId>`). */
export interface ExistingUserPoolAuthProps {
  /** The pool, e.g. `cognito.UserPool.fromUserPoolId(this, 'Pool', 'eu-west-1_abc')`. */
  readonly userPool: cognito.IUserPool;
  /** Accepted app client ids (`aud` of id tokens, `client_id` of access tokens). @default - any client of the pool */
  readonly clientIds?: string[];
  readonly issuer?: never;
}

/** Tokens from any OIDC issuer that publishes a JWKS. */
export interface OidcAuthProps {
  /** Expected `iss` claim, e.g. `https://login.example.com/realms/chat`; must be https. */
  readonly issuer: string;
  /** Accepted audiences (`aud`, or `client_id` of Cognito access tokens). @default - any audience */
  readonly audiences?: string[];
  /** JWKS location. @default `${issuer}/.well-known/jwks.json` */
  readonly jwksUrl?: string;
  readonly userPool?: never;
}

/**
 * Who issues the connection tokens (`?token=<jwt>`, `sub` = user id): an existing user pool (`{ userPool }`) or an
 * OIDC issuer (`{ issuer }`). Omit `auth` to have the construct create a Cognito user pool and app client.
 */
export type ChatBackendAuth = ExistingUserPoolAuthProps | OidcAuthProps;

/** Level of the handlers' Powertools logs (POWERTOOLS_LOG_LEVEL). */
export type ChatLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LOG_LEVELS: readonly ChatLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Properties of {@link ChatBackend}; all optional. */
export interface ChatBackendProps {
  /**
   * Who issues the connection tokens (`?token=<jwt>`, `sub` = user id).
   * @default - a Cognito user pool and app client are created; issuer
   *   `https://cognito-idp.<region>.amazonaws.com/<poolId>`, audience = the client id
   */
  readonly auth?: ChatBackendAuth;
  /** Removal policy of the tables, the user pool, the log groups and the alarm topic's key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** How long a delivery waits for msg_data_ack before it is sent again. @default 15 seconds */
  readonly ackTimeout?: Duration;
  /** Deliveries of one message to one connection, the first included. @default 5 */
  readonly maxDeliveryAttempts?: number;
  /** Largest msg_data in UTF-8 bytes. @default 4096 */
  readonly maxMessageBytes?: number;
  /** msg_data frames one connection may send per second. @default 20 */
  readonly rateLimitPerSecond?: number;
  /** Partitions per minute slot of the PendingDeliveries table. @default 1 */
  readonly pendingShards?: number;
  /** Most members a group may hold (MAX_GROUP_MEMBERS). @default 1000 */
  readonly maxGroupMembers?: number;
  /**
   * How long messages are kept: whole days, set as each new message's TTL (MESSAGE_RETENTION_DAYS). Messages stored
   * before a retention was set keep no TTL.
   * @default - messages are kept for ever
   */
  readonly messageRetention?: Duration;
  /** WebSocket stage name. @default 'prod' */
  readonly stageName?: string;
  /** How often the sweeper redelivers unacked messages; whole minutes, at least one. @default 1 minute */
  readonly sweepInterval?: Duration;
  /** Default route throttling of the stage (steady requests per second and burst). @default 1000 / 2000 */
  readonly throttle?: apigwv2.ThrottleSettings;
  /** Log retention of the function and access log groups. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Level of the handlers' logs (POWERTOOLS_LOG_LEVEL). @default 'INFO' */
  readonly logLevel?: ChatLogLevel;
  /** Active X-Ray tracing on every function. @default false */
  readonly tracing?: boolean;
  /**
   * Bus of the offline push hook: send and sweeper put a `Message Undelivered` event (source `teamtalk-serverless`,
   * core/domain/push.ts) there for every message a receiver could not get live.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /** Whether the push events carry the message body (`msg_data`); off, push providers see no content. @default false */
  readonly pushIncludesBody?: boolean;
  /** Alarms notify this topic (ALARM and OK). @default - no notification (alarms still show on the dashboard) */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Creates a KMS-encrypted topic with an email subscription for the alarms (or, with `alarmTopic`, subscribes the
   * address to that topic). The address must confirm the subscription.
   * @default - no email
   */
  readonly alarmEmail?: string;
  /** When the alarms fire. @default - see AlarmThresholds (5 Lambda errors / 5 min, 10 throttle events / 5 min per table, 10 give-ups / 15 min) */
  readonly alarmThresholds?: AlarmThresholds;
  /** Name of the CloudWatch dashboard (names are unique per account). @default `<stack name>-<region>` */
  readonly dashboardName?: string;
  /**
   * Set the region's API Gateway CloudWatch Logs role (AWS::ApiGateway::Account), which WebSocket access logging
   * needs. Turn off when the account already has one; the role is retained on stack deletion because the setting
   * is region-wide.
   * @default true
   */
  readonly configureApiGatewayLogsRole?: boolean;
}

/** Runtime of every function; esbuild targets the same Node.js major. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
const ESBUILD_TARGET = 'node22';

interface FunctionSpec {
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Gets the handler config env vars (ACK_TIMEOUT_MS, ...). */
  readonly config: boolean;
  /** Gets SWEEP_INTERVAL_MS. */
  readonly sweepInterval: boolean;
  /** Invoked asynchronously (EventBridge schedule): gets a dead-letter queue for failed invocations, no retries. */
  readonly asyncInvoked: boolean;
}

/** API Gateway gives up on an integration after 29 s; nothing behind a route should run longer. */
const ROUTE_TIMEOUT = Duration.seconds(29);

const FUNCTION_SPECS: Readonly<Record<FunctionId, FunctionSpec>> = {
  authorizer: {
    entry: 'lambdas/authorizer/handler.ts',
    description: '$connect authorizer: verifies ?token= against the configured issuer',
    memorySize: 256,
    timeout: Duration.seconds(10),
    config: false,
    sweepInterval: false,
    asyncInvoked: false,
  },
  connect: {
    entry: 'lambdas/connect/handler.ts',
    description: '$connect / $disconnect: registers and removes connections',
    memorySize: 256,
    timeout: Duration.seconds(10),
    config: true,
    sweepInterval: true,
    asyncInvoked: false,
  },
  send: {
    entry: 'lambdas/send/handler.ts',
    description: 'msg_data: stores, numbers and fans out a message',
    memorySize: 256,
    timeout: ROUTE_TIMEOUT,
    config: true,
    sweepInterval: true,
    asyncInvoked: false,
  },
  ack: {
    entry: 'lambdas/ack/handler.ts',
    description: 'msg_data_ack: clears a pending delivery',
    memorySize: 256,
    timeout: Duration.seconds(10),
    config: true,
    sweepInterval: true,
    asyncInvoked: false,
  },
  sync: {
    entry: 'lambdas/sync/handler.ts',
    description: 'Read side: history, recent sessions, unread counts, read receipts',
    memorySize: 256,
    timeout: ROUTE_TIMEOUT,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  groups: {
    entry: 'lambdas/groups/handler.ts',
    description: 'Groups: create, change members, list, info',
    memorySize: 256,
    timeout: ROUTE_TIMEOUT,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  devices: {
    entry: 'lambdas/devices/handler.ts',
    description: 'device_token: registers push tokens',
    memorySize: 256,
    timeout: Duration.seconds(10),
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  default: {
    entry: 'lambdas/default/handler.ts',
    description: '$default: frames that match no route',
    memorySize: 128,
    timeout: Duration.seconds(10),
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  sweeper: {
    entry: 'lambdas/sweeper/handler.ts',
    description: 'Scheduled: redelivers unacked messages',
    memorySize: 256,
    timeout: Duration.seconds(50),
    config: true,
    sweepInterval: true,
    asyncInvoked: true,
  },
};

/** Repository root (this file is lib/chat-backend.ts). */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * This repository's lock file; absent when the construct is installed as a package (npm does not publish lock
 * files), and then NodejsFunction finds the consuming app's lock file from the working directory.
 */
const LOCK_FILE = existsSync(`${PROJECT_ROOT}package-lock.json`) ? `${PROJECT_ROOT}package-lock.json` : undefined;

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

function attributeType(key: KeyAttribute): dynamodb.AttributeType {
  return key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
}

/** A retention in whole days (DynamoDB TTL granularity of the handlers). */
function wholeDays(retention: Duration): number {
  const days = retention.toDays({ integral: false });
  if (!Number.isInteger(days) || days <= 0) throw new Error(`ChatBackend: messageRetention must be a whole number of days, at least one, got ${retention.toHumanString()}`);
  return days;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`ChatBackend: ${name} must be a positive integer, got ${value}`);
  return value;
}

export class ChatBackend extends Construct {
  public readonly webSocketApi: apigwv2.WebSocketApi;
  public readonly stage: apigwv2.WebSocketStage;
  /** DynamoDB tables by logical id (core/store/schema.ts). */
  public readonly tables: Readonly<Record<TableId, dynamodb.TableV2>>;
  /** Lambda functions by id (lib/grants.ts). */
  public readonly functions: Readonly<Record<FunctionId, NodejsFunction>>;
  /** The created user pool: only when `auth` is omitted. */
  public readonly userPool?: cognito.UserPool;
  /** Only when `auth` is omitted. */
  public readonly userPoolClient?: cognito.UserPoolClient;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}` */
  public readonly webSocketUrl: string;
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: the @connections endpoint. */
  public readonly connectionsEndpoint: string;
  /** Token issuer the authorizer accepts. */
  public readonly issuer: string;
  /** Dead-letter queue of the sweeper's schedule (events EventBridge could not deliver). */
  public readonly sweeperDeadLetterQueue: sqs.Queue;
  /** Dead-letter queue of the sweeper function (asynchronous invocations that failed). */
  public readonly sweeperFunctionDeadLetterQueue: sqs.Queue;
  /** Bus of the offline push hook (`Message Undelivered` events). */
  public readonly eventBus: events.IEventBus;
  /** Where the alarms notify: `alarmTopic`, or the topic created for `alarmEmail`. */
  public readonly alarmTopic?: sns.ITopic;
  /** Lambda errors, DynamoDB throttles per table, delivery give-ups, dead-letter queue depths. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The construct's CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ChatBackendProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const stageName = props.stageName ?? 'prod';
    const ackTimeoutMs = positiveInteger('ackTimeout', (props.ackTimeout ?? Duration.millis(DEFAULTS.ackTimeoutMs)).toMilliseconds());
    const sweepInterval = props.sweepInterval ?? Duration.millis(DEFAULTS.sweepIntervalMs);
    const sweepIntervalMs = sweepInterval.toMilliseconds();
    if (sweepIntervalMs < 60_000 || sweepIntervalMs % 60_000 !== 0) {
      throw new Error(`ChatBackend: sweepInterval must be a whole number of minutes (EventBridge rate), got ${sweepIntervalMs} ms`);
    }
    // Handler settings of every function with `config` (core/config.ts reads them with these defaults).
    const config: Record<string, string> = {
      [ENV.ackTimeoutMs]: String(ackTimeoutMs),
      [ENV.maxDeliveryAttempts]: String(positiveInteger('maxDeliveryAttempts', props.maxDeliveryAttempts ?? DEFAULTS.maxDeliveryAttempts)),
      [ENV.maxMsgBytes]: String(positiveInteger('maxMessageBytes', props.maxMessageBytes ?? DEFAULTS.maxMsgBytes)),
      [ENV.rateLimitPerSecond]: String(positiveInteger('rateLimitPerSecond', props.rateLimitPerSecond ?? DEFAULTS.rateLimitPerSecond)),
      [ENV.pendingShards]: String(positiveInteger('pendingShards', props.pendingShards ?? DEFAULTS.pendingShards)),
      [ENV.fanoutConcurrency]: String(DEFAULTS.fanoutConcurrency),
      [ENV.maxGroupMembers]: String(positiveInteger('maxGroupMembers', props.maxGroupMembers ?? DEFAULTS.maxGroupMembers)),
    };
    // Only for the functions that store messages (PutItem on Messages in lib/grants.ts); unset keeps them for ever.
    const retentionDays = props.messageRetention ? wholeDays(props.messageRetention) : undefined;
    const logLevel = props.logLevel ?? 'INFO';
    if (!LOG_LEVELS.includes(logLevel)) throw new Error(`ChatBackend: logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${String(logLevel)}`);
    if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
      throw new Error(`ChatBackend: alarmEmail must be an email address, got "${props.alarmEmail}"`);
    }
    const alarmThresholds = resolveAlarmThresholds(props.alarmThresholds);

    // ---- Tables -----------------------------------------------------------------------------------------------
    const tables = {} as Record<TableId, dynamodb.TableV2>;
    for (const spec of ALL_TABLES) {
      tables[spec.id] = new dynamodb.TableV2(this, spec.id, {
        partitionKey: { name: spec.partitionKey.name, type: attributeType(spec.partitionKey) },
        ...(spec.sortKey ? { sortKey: { name: spec.sortKey.name, type: attributeType(spec.sortKey) } } : {}),
        ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(), // default SSE, no KMS request charges
        removalPolicy,
      });
    }
    this.tables = tables;

    // ---- Identity -----------------------------------------------------------------------------------------------
    let audiences: string[];
    let jwksUrl: string | undefined;
    const auth = props.auth;
    if (auth && 'userPool' in auth && auth.userPool) {
      const poolRegion = auth.userPool.env.region;
      this.issuer = `https://cognito-idp.${poolRegion}.${stack.urlSuffix}/${auth.userPool.userPoolId}`;
      audiences = [...(auth.clientIds ?? [])];
      jwksUrl = undefined;
    } else if (auth && 'issuer' in auth && auth.issuer !== undefined) {
      if (!Token.isUnresolved(auth.issuer) && !/^https:\/\/\S+$/.test(auth.issuer)) {
        throw new Error(`ChatBackend: auth.issuer must be an https URL, got "${auth.issuer}"`);
      }
      this.issuer = auth.issuer;
      audiences = [...(auth.audiences ?? [])];
      jwksUrl = auth.jwksUrl;
    } else if (auth) {
      throw new Error('ChatBackend: auth needs either userPool (an existing Cognito user pool) or issuer (an OIDC issuer)');
    } else {
      this.userPool = new cognito.UserPool(this, 'UserPool', {
        selfSignUpEnabled: false,
        signInAliases: { username: true, email: true },
        autoVerify: { email: true },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        passwordPolicy: {
          minLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: cognito.Mfa.OPTIONAL,
        mfaSecondFactor: { sms: false, otp: true },
        featurePlan: cognito.FeaturePlan.ESSENTIALS,
        removalPolicy,
      });
      this.userPoolClient = this.userPool.addClient('AppClient', {
        generateSecret: false,
        authFlows: { userSrp: true, userPassword: true },
        preventUserExistenceErrors: true,
      });
      this.issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
      audiences = [this.userPoolClient.userPoolClientId];
      jwksUrl = undefined;
    }

    // ---- API and stage (created before the functions: their env needs the callback URL) ------------------------
    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      apiName: `${stack.stackName}-chat`,
      description: 'TeamTalk IM message path (JSON frames, route on $request.body.action)',
      routeSelectionExpression: '$request.body.action',
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName,
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 1000, burstLimit: 2000 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            connectionId: '$context.connectionId',
            userId: '$context.authorizer.principalId',
            sourceIp: '$context.identity.sourceIp',
            status: '$context.status',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            error: '$context.error.message',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    if (props.configureApiGatewayLogsRole ?? true) {
      const logsRole = new iam.Role(this, 'ApiGatewayLogsRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        description: 'Region-wide API Gateway role for CloudWatch Logs (access logs of WebSocket stages)',
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
      });
      logsRole.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const account = new CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: logsRole.roleArn });
      this.stage.node.addDependency(account);
      Validations.of(logsRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'API Gateway\'s region-wide CloudWatch Logs role: the AWS managed policy is the documented one, and it must cover every API in the region, not only this stack\'s log groups.',
      });
    }
    this.webSocketUrl = this.stage.url;
    this.connectionsEndpoint = this.stage.callbackUrl;

    // ---- Offline push hook and async failures (before the functions: their env and DLQ config need them) ------
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    this.sweeperFunctionDeadLetterQueue = new sqs.Queue(this, 'SweeperFunctionDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // ---- Functions ----------------------------------------------------------------------------------------------
    const manageConnectionsArn = stack.formatArn({
      service: 'execute-api',
      resource: this.webSocketApi.apiId,
      resourceName: `${stageName}/*/@connections/*`,
    });
    const functions = {} as Record<FunctionId, NodejsFunction>;
    for (const fnId of FUNCTION_IDS) {
      const spec = FUNCTION_SPECS[fnId];
      const access = FUNCTION_ACCESS[fnId];
      const name = pascal(fnId);
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: logRetention, removalPolicy });
      // An explicit role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only.
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the ${fnId} function`,
      });
      logGroup.grantWrite(role);

      const environment: Record<string, string> = {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: logLevel,
      };
      for (const tableId of tablesOf(fnId)) {
        const spec = ALL_TABLES.find((t) => t.id === tableId);
        if (!spec) throw new Error(`grants: unknown table ${tableId}`);
        environment[spec.envVar] = tables[tableId].tableName;
      }
      if (spec.config) Object.assign(environment, config);
      if (spec.sweepInterval) environment[ENV.sweepIntervalMs] = String(sweepIntervalMs);
      if (access.manageConnections) environment[ENV.connectionsEndpoint] = this.connectionsEndpoint;
      if (retentionDays !== undefined && access.tables.Messages?.includes('dynamodb:PutItem')) {
        environment[ENV.messageRetentionDays] = String(retentionDays);
      }
      if (access.publishesEvents) {
        environment[ENV.eventBusName] = this.eventBus.eventBusName;
        environment[ENV.pushIncludesBody] = String(props.pushIncludesBody ?? false);
      }
      if (fnId === 'authorizer') {
        environment[AUTH_ENV.issuer] = this.issuer;
        if (audiences.length > 0) environment[AUTH_ENV.audiences] = audiences.join(',');
        if (jwksUrl) environment[AUTH_ENV.jwksUrl] = jwksUrl;
      }

      const fn = new NodejsFunction(this, `${name}Function`, {
        entry: `${PROJECT_ROOT}${spec.entry}`,
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        ...(LOCK_FILE ? { depsLockFilePath: LOCK_FILE } : {}),
        description: spec.description,
        runtime: LAMBDA_RUNTIME,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        role,
        logGroup,
        // JSON logs; platform START/END/REPORT lines only at WARN, which keeps the idle sweeper's log bill near zero.
        loggingFormat: lambda.LoggingFormat.JSON,
        systemLogLevelV2: lambda.SystemLogLevel.WARN,
        environment,
        ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
        // A failed scheduled run is not retried (the next run does the same work) but kept in a dead-letter queue.
        ...(spec.asyncInvoked ? { deadLetterQueue: this.sweeperFunctionDeadLetterQueue, retryAttempts: 0 } : {}),
        bundling: {
          minify: true,
          sourceMap: true,
          target: ESBUILD_TARGET,
          format: OutputFormat.ESM,
          mainFields: ['module', 'main'],
          // Some bundled dependencies still call require(); give ESM output one.
          banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
          externalModules: [],
          forceDockerBundling: false,
          logLevel: LogLevel.WARNING,
        },
      });

      for (const [tableId, actions] of Object.entries(access.tables) as [TableId, readonly string[]][]) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: [...actions], resources: [tables[tableId].tableArn] }),
        );
      }
      if (access.manageConnections) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [manageConnectionsArn] }),
        );
      }
      if (access.publishesEvents) this.eventBus.grantPutEventsTo(fn);
      functions[fnId] = fn;
    }
    this.functions = functions;

    // ---- Routes -------------------------------------------------------------------------------------------------
    const connectIntegration = new WebSocketLambdaIntegration('ConnectIntegration', functions.connect);
    this.webSocketApi.addRoute('$connect', {
      integration: connectIntegration,
      authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', functions.authorizer, {
        identitySource: ['route.request.querystring.token'],
      }),
    });
    this.webSocketApi.addRoute('$disconnect', { integration: connectIntegration });
    // One integration per function, shared by all the actions it serves (core/routes.ts).
    const integrations = new Map<FunctionId, WebSocketLambdaIntegration>();
    const integrationOf = (fnId: FunctionId): WebSocketLambdaIntegration => {
      let integration = integrations.get(fnId);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(`${pascal(fnId)}Integration`, functions[fnId]);
        integrations.set(fnId, integration);
      }
      return integration;
    };
    for (const [action, fnId] of Object.entries(ACTION_ROUTES) as [RoutedAction, FunctionId][]) {
      this.webSocketApi.addRoute(action, { integration: integrationOf(fnId) });
    }
    this.webSocketApi.addRoute('$default', { integration: integrationOf('default') });

    // ---- Sweeper schedule ---------------------------------------------------------------------------------------
    this.sweeperDeadLetterQueue = new sqs.Queue(this, 'SweeperScheduleDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    new events.Rule(this, 'SweeperSchedule', {
      description: 'Runs the sweeper: redelivers deliveries not acked within the ack timeout',
      schedule: events.Schedule.rate(Duration.minutes(sweepIntervalMs / 60_000)),
      targets: [
        new targets.LambdaFunction(functions.sweeper, {
          retryAttempts: 0,
          deadLetterQueue: this.sweeperDeadLetterQueue,
        }),
      ],
    });

    // ---- Alarms and dashboard -----------------------------------------------------------------------------------
    this.alarmTopic = props.alarmTopic;
    if (props.alarmEmail !== undefined) {
      this.alarmTopic ??= this.createAlarmTopic(removalPolicy);
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const monitoring = new ChatMonitoring(this, 'Monitoring', {
      dashboardName: props.dashboardName ?? `${stack.stackName}-${stack.region}`,
      functions: this.functions,
      tables: this.tables,
      apiId: this.webSocketApi.apiId,
      stageName,
      deadLetterQueues: { SweeperSchedule: this.sweeperDeadLetterQueue, SweeperFunction: this.sweeperFunctionDeadLetterQueue },
      ...(this.alarmTopic ? { alarmTopic: this.alarmTopic } : {}),
      thresholds: alarmThresholds,
    });
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;

    this.acknowledgeNagFindings(manageConnectionsArn, props.tracing ?? false);
  }

  /** An SNS topic for the alarms, encrypted with a customer managed key CloudWatch may use, HTTPS only. */
  private createAlarmTopic(removalPolicy: RemovalPolicy): sns.Topic {
    // CloudWatch cannot publish to a topic under the AWS managed key (alias/aws/sns): its key policy is fixed.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic of ${Stack.of(this).stackName}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: `${Stack.of(this).stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
  }

  /** cdk-nag AwsSolutions findings that are deliberate, each acknowledged on the narrowest construct. */
  private acknowledgeNagFindings(manageConnectionsArn: string, tracing: boolean): void {
    const stack = Stack.of(this);
    for (const route of this.webSocketApi.node.children) {
      if (!(route instanceof apigwv2.WebSocketRoute)) continue;
      const routeKey = (route.node.defaultChild as apigwv2.CfnRoute).routeKey;
      if (routeKey === '$connect') continue;
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `API Gateway WebSocket APIs authorize only $connect; route ${routeKey} runs on a connection its $connect authorizer already admitted and receives that identity in the authorizer context.`,
      });
    }

    for (const fnId of FUNCTION_IDS) {
      const fn = this.functions[fnId];
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: `${LAMBDA_RUNTIME.name} is pinned on purpose (supported LTS, matching the esbuild target); moving to a newer Node.js is a one-line change of LAMBDA_RUNTIME after testing.`,
      });
      if (FUNCTION_ACCESS[fnId].manageConnections && fn.role) {
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagArn(stack, manageConnectionsArn)}]`,
          reason: 'execute-api:ManageConnections on this API and stage only; the wildcards are the HTTP method and the connection ids, which exist only at run time.',
        });
      }
      if (tracing && fn.role) {
        Validations.of(fn.role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
        });
      }
    }

    if (this.userPool) {
      Validations.of(this.userPool).acknowledge(
        {
          id: 'AwsSolutions-COG2',
          reason: 'MFA is optional (TOTP) by product decision: a chat app must not lock users out; sessions are short-lived tokens.',
        },
        {
          id: 'AwsSolutions-COG8',
          reason: 'Cognito Plus tier (threat protection) is billed per MAU; the Essentials tier with a strong password policy is the default, upgrade via featurePlan when needed.',
        },
      );
    }

    Validations.of(this.sweeperDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: it receives schedule events EventBridge could not deliver to the sweeper.',
    });
    Validations.of(this.sweeperFunctionDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: it receives the sweeper invocations that failed.',
    });
  }
}

/**
 * The resource string cdk-nag reports for an ARN built from tokens: references become `<LogicalId>` and
 * pseudo parameters `<AWS::Name>`.
 */
function nagArn(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object') {
      const obj = part as Record<string, unknown>;
      if (typeof obj['Ref'] === 'string') return `<${obj['Ref']}>`;
      if (Array.isArray(obj['Fn::GetAtt'])) return `<${(obj['Fn::GetAtt'] as string[]).join('.')}>`;
      if (Array.isArray(obj['Fn::Join'])) {
        const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(sep);
      }
    }
    throw new Error(`nagArn: cannot render ${JSON.stringify(part)}`);
  };
  return render(resolved);
}
