/**
 * ChatFunctions: one NodejsFunction per entry of lib/function-specs.ts, each with its own log group and an explicit
 * role holding exactly its lib/grants.ts access (tables, @connections, event bus), and the environment of exactly
 * its tables and settings (core/config.ts, core/auth/verify-token.ts).
 */
import assert from 'node:assert/strict';
import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUTH_ENV } from '../core/auth/verify-token.js';
import { ENV } from '../core/config.js';
import { TABLES, type TableId } from '../core/store/schema.js';
import { bundledHandler, LAMBDA_RUNTIME } from './bundling.js';
import { FUNCTION_SPECS, type FunctionSpec } from './function-specs.js';
import { FUNCTION_ACCESS, FUNCTION_IDS, tablesOf, type FunctionAccess, type FunctionId } from './grants.js';

/** Level of the handlers' logs: Lambda's application log level, which Powertools obeys. */
export type ChatLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export const LOG_LEVELS: readonly ChatLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** What the authorizer verifies tokens against. */
export interface TokenIssuerSettings {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwksUrl?: string;
  /** JWT_CLOCK_SKEW_SECONDS. @default - the verifier's (60 s) */
  readonly clockSkewSeconds?: number;
  /** JWT_MAX_TOKEN_AGE_SECONDS. @default - no maximum age */
  readonly maxTokenAgeSeconds?: number;
}

export interface ChatFunctionsProps {
  readonly tables: Readonly<Record<TableId, dynamodb.ITableV2>>;
  /** The @connections endpoint (CONNECTIONS_ENDPOINT) of the functions that manage connections. */
  readonly connectionsEndpoint: string;
  /** The ARN those functions may `execute-api:ManageConnections` on. */
  readonly manageConnectionsArn: string;
  /** Bus of the push hook, for the functions lib/grants.ts lets publish. */
  readonly eventBus: events.IEventBus;
  readonly pushIncludesBody: boolean;
  /** The attachment bucket (lib/attachments.ts), for the functions lib/grants.ts gives attachment access. */
  readonly attachmentBucket: s3.IBucket;
  /** The account deletion queue, for the functions lib/grants.ts lets queue deletion pages. */
  readonly deletionQueue: sqs.IQueue;
  /** The presence checks queue, for the functions lib/grants.ts lets queue checks. */
  readonly presenceChecksQueue: sqs.IQueue;
  /** The user pool the stack owns, whose users a finished deletion removes. @default - none (an outside issuer) */
  readonly userPool?: cognito.IUserPool;
  /** Handler settings by env var name (ACK_TIMEOUT_MS, ...), for every function whose spec has `config`. */
  readonly handlerSettings: Readonly<Record<string, string>>;
  /** SWEEP_INTERVAL_MS, for the functions whose spec has `sweepInterval`. */
  readonly sweepIntervalMs: number;
  /** MESSAGE_RETENTION_DAYS of the functions that store messages. @default - messages are kept for ever */
  readonly messageRetentionDays?: number;
  readonly tokenIssuer: TokenIssuerSettings;
  /** POWERTOOLS_SERVICE_NAME: the `service` of the logs and the metrics' dimension. */
  readonly serviceName: string;
  readonly logLevel: ChatLogLevel;
  readonly tracing: boolean;
  /** NODE_OPTIONS=--enable-source-maps on every function. */
  readonly sourceMaps: boolean;
  /** Reserved concurrency of the functions that have one. */
  readonly reservedConcurrency: Partial<Readonly<Record<FunctionId, number>>>;
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log groups. */
  readonly removalPolicy: RemovalPolicy;
}

export class ChatFunctions extends Construct {
  /** Lambda functions by id (lib/grants.ts). */
  public readonly functions: Readonly<Record<FunctionId, NodejsFunction>>;
  /** Dead-letter queue of the asynchronously invoked functions (the sweeper): invocations that failed. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ChatFunctionsProps,
  ) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'SweeperFunctionDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: it receives the sweeper invocations that failed.',
    });
    const functions = {} as Record<FunctionId, NodejsFunction>;
    for (const fnId of FUNCTION_IDS) functions[fnId] = this.createFunction(fnId);
    this.functions = functions;
  }

  private createFunction(fnId: FunctionId): NodejsFunction {
    const spec = FUNCTION_SPECS[fnId];
    const name = fnId
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('');
    const logGroup = new logs.LogGroup(this, `${name}Logs`, {
      retention: this.props.logRetention,
      removalPolicy: this.props.removalPolicy,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only.
    const role = new iam.Role(this, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${fnId} function`,
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, `${name}Function`, {
      ...bundledHandler(spec.entry),
      description: spec.description,
      memorySize: spec.memorySize,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role,
      logGroup,
      // JSON logs. The application level sets AWS_LAMBDA_LOG_LEVEL, which Powertools obeys over POWERTOOLS_LOG_LEVEL;
      // system level INFO keeps the platform REPORT lines (duration, memory, init duration).
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[this.props.logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: this.environmentOf(fnId, spec),
      ...(this.props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      ...(this.props.reservedConcurrency[fnId] !== undefined
        ? { reservedConcurrentExecutions: this.props.reservedConcurrency[fnId] }
        : {}),
      // A failed scheduled run is not retried (the next run does the same work) but kept in a dead-letter queue.
      ...(spec.asyncInvoked ? { deadLetterQueue: this.deadLetterQueue, retryAttempts: 0 } : {}),
    });
    this.grant(fnId, fn, role);
    this.acknowledgeNagFindings(fnId, fn);
    return fn;
  }

  /** Exactly the env vars of the function's tables and settings. */
  private environmentOf(fnId: FunctionId, spec: FunctionSpec): Record<string, string> {
    const { props } = this;
    const access = FUNCTION_ACCESS[fnId];
    const environment: Record<string, string> = {
      ...(props.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
    };
    for (const tableId of tablesOf(fnId)) environment[TABLES[tableId].envVar] = props.tables[tableId].tableName;
    if (spec.config) Object.assign(environment, props.handlerSettings);
    if (spec.sweepInterval) environment[ENV.sweepIntervalMs] = String(props.sweepIntervalMs);
    if (access.manageConnections) environment[ENV.connectionsEndpoint] = props.connectionsEndpoint;
    // Only for the functions that store messages; unset keeps them for ever.
    if (props.messageRetentionDays !== undefined && access.tables.Messages?.includes('dynamodb:PutItem')) {
      environment[ENV.messageRetentionDays] = String(props.messageRetentionDays);
    }
    if (access.publishesEvents) {
      environment[ENV.eventBusName] = props.eventBus.eventBusName;
      environment[ENV.pushIncludesBody] = String(props.pushIncludesBody);
    }
    if (access.attachments) environment[ENV.attachmentBucket] = props.attachmentBucket.bucketName;
    if (access.deletionQueue) environment[ENV.deletionQueueUrl] = props.deletionQueue.queueUrl;
    if (access.presenceChecks) environment[ENV.presenceChecksQueueUrl] = props.presenceChecksQueue.queueUrl;
    if (access.deletesIdentityUsers && props.userPool) environment[ENV.userPoolId] = props.userPool.userPoolId;
    if (fnId === 'authorizer') {
      const { issuer, audiences, jwksUrl, clockSkewSeconds, maxTokenAgeSeconds } = props.tokenIssuer;
      environment[AUTH_ENV.issuer] = issuer;
      if (audiences.length > 0) environment[AUTH_ENV.audiences] = audiences.join(',');
      if (jwksUrl) environment[AUTH_ENV.jwksUrl] = jwksUrl;
      if (clockSkewSeconds !== undefined) environment[AUTH_ENV.clockSkewSeconds] = String(clockSkewSeconds);
      if (maxTokenAgeSeconds !== undefined) environment[AUTH_ENV.maxTokenAgeSeconds] = String(maxTokenAgeSeconds);
    }
    return environment;
  }

  /** lib/grants.ts as IAM statements: each table's actions on that table's ARN only. */
  private grant(fnId: FunctionId, fn: NodejsFunction, role: iam.Role): void {
    const access = FUNCTION_ACCESS[fnId];
    for (const [tableId, actions] of Object.entries(access.tables) as [TableId, readonly string[]][]) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...actions], resources: [this.props.tables[tableId].tableArn] }),
      );
    }
    if (access.manageConnections) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['execute-api:ManageConnections'],
          resources: [this.props.manageConnectionsArn],
        }),
      );
    }
    if (access.publishesEvents) this.props.eventBus.grantPutEventsTo(fn);
    if (access.deletionQueue) this.props.deletionQueue.grantSendMessages(fn);
    if (access.presenceChecks) this.props.presenceChecksQueue.grantSendMessages(fn);
    if (access.deletesIdentityUsers && this.props.userPool) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['cognito-idp:AdminDeleteUser'],
          resources: [this.props.userPool.userPoolArn],
        }),
      );
    }
    for (const [actions, prefixes] of attachmentStatements(access)) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions,
          resources: prefixes.map((p) => this.props.attachmentBucket.arnForObjects(`${p}*`)),
        }),
      );
    }
  }

  private acknowledgeNagFindings(fnId: FunctionId, fn: NodejsFunction): void {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${LAMBDA_RUNTIME.name} is pinned on purpose (supported LTS, matching the esbuild target); moving to a newer Node.js is a change of LAMBDA_RUNTIME and NODE_MAJOR (a test keeps them together) after testing.`,
    });
    if (FUNCTION_ACCESS[fnId].manageConnections && fn.role) {
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(Stack.of(this), this.props.manageConnectionsArn)}]`,
        reason:
          'execute-api:ManageConnections on this API and stage only; the wildcards are the HTTP method and the connection ids, which exist only at run time.',
      });
    }
    for (const [, prefixes] of attachmentStatements(FUNCTION_ACCESS[fnId])) {
      for (const prefix of prefixes) {
        Validations.of(fn.role!).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagArn(Stack.of(this), this.props.attachmentBucket.arnForObjects(`${prefix}*`))}]`,
          reason: `Objects under ${prefix} of the attachment bucket only: their keys are random, made at run time.`,
        });
      }
    }
    if (this.props.tracing && fn.role) {
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      });
    }
  }
}

/** lib/grants.ts attachment access as (actions, key prefixes) pairs. */
function attachmentStatements(access: FunctionAccess): [string[], readonly string[]][] {
  if (!access.attachments) return [];
  return (
    [
      [['s3:GetObject'], access.attachments.read],
      [['s3:PutObject'], access.attachments.write],
      [['s3:DeleteObject'], access.attachments.delete ?? []],
    ] as [string[], readonly string[]][]
  ).filter(([, p]) => p.length > 0);
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
    assert.fail(`nagArn: cannot render ${JSON.stringify(part)}`);
  };
  return render(resolved);
}
