/**
 * Synthesizes the stack the way `cdk synth` does (lib/app.ts createApp, cdk.json's context, cdk-nag registered)
 * and checks the template against the specs it is built from: core/store/schema.ts, lib/grants.ts and
 * core/observability.ts. Three variants, one synth each: the default stack (created Cognito pool), the stack with
 * every context option (OIDC issuer, alarm email, tracing, retention, log level), and the construct embedded in a
 * team's own stack (existing user pool, own event bus, own alarm topic).
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`) to keep the suite fast; `npm run synth` bundles every handler.
 */
import { readFileSync } from 'node:fs';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../core/auth/verify-token.js';
import { ENV } from '../core/config.js';
import { METRIC, METRICS_NAMESPACE } from '../core/observability.js';
import { ROUTES } from '../core/routes.js';
import { ALL_TABLES, type TableId } from '../core/store/schema.js';
import { createApp } from '../lib/app.js';
import { ChatBackend, LAMBDA_RUNTIME } from '../lib/chat-backend.js';
import { BUNDLING, NODE_MAJOR } from '../lib/function-specs.js';
import { TeamTalkStack } from '../lib/stack.js';
import { FUNCTION_ACCESS, FUNCTION_IDS, type FunctionId } from '../lib/grants.js';

const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

const OIDC_ISSUER = 'https://login.example.com/realms/chat';
const ALARM_EMAIL = 'ops@example.com';
const EMBEDDED_POOL_ID = 'eu-west-1_AbCdEf123';
const EMBEDDED_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:team-ops';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
// biome-ignore lint/suspicious/noExplicitAny: synthesized JSON is walked freely; the assertions check its shape.
type Json = Record<string, any>;

interface Synth {
  readonly app: App;
  readonly stack: Stack;
  readonly backend: ChatBackend;
  readonly nag: AwsSolutionsChecks;
  readonly template: Template;
  readonly resources: Record<string, Json>;
  readonly outputs: Record<string, Json>;
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
}

function inspect(app: App, stack: Stack, backend: ChatBackend, nag: AwsSolutionsChecks): Synth {
  const template = Template.fromStack(stack);
  const json = template.toJSON();
  return {
    app,
    stack,
    backend,
    nag,
    template,
    resources: json['Resources'] as Record<string, Json>,
    outputs: (json['Outputs'] ?? {}) as Record<string, Json>,
    logicalId: (construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement),
  };
}

/** The app `cdk synth` runs, with extra context. */
function synthApp(context: Record<string, unknown>): Synth {
  const created = createApp({ context: { ...CDK_CONTEXT, ...NO_BUNDLING, ...context } });
  return inspect(created.app, created.stack, created.stack.backend, created.nag);
}

/** A team's own stack embedding the construct: existing user pool, own bus, own (imported) alarm topic. */
function synthEmbedded(): Synth {
  const app = new App({ context: { ...CDK_CONTEXT, ...NO_BUNDLING } });
  const stack = new Stack(app, 'Embedded', { env: { account: '123456789012', region: 'eu-west-1' } });
  const backend = new ChatBackend(stack, 'Chat', {
    auth: {
      userPool: cognito.UserPool.fromUserPoolId(stack, 'TeamPool', EMBEDDED_POOL_ID),
      clientIds: ['client-a', 'client-b'],
    },
    eventBus: new events.EventBus(stack, 'AppBus'),
    pushIncludesBody: true,
    alarmTopic: sns.Topic.fromTopicArn(stack, 'TeamOps', EMBEDDED_TOPIC_ARN),
    alarmEmail: ALARM_EMAIL,
    alarmThresholds: { deliveriesGivenUp: 50 },
    maxGroupMembers: 50,
    tracing: false,
    apiGatewayLogsRole: 'leave',
  });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return inspect(app, stack, backend, nag);
}

function ofType(resources: Record<string, Json>, type: string): [string, Json][] {
  return Object.entries(resources).filter(([, r]) => r['Type'] === type);
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every statement of every IAM policy in the template: AWS::IAM::Policy, inline role policies, managed policies. */
function allStatements(resources: Record<string, Json>): Json[] {
  const statements: Json[] = [];
  for (const [, r] of Object.entries(resources)) {
    const props = (r['Properties'] ?? {}) as Json;
    if (r['Type'] === 'AWS::IAM::Policy' || r['Type'] === 'AWS::IAM::ManagedPolicy') {
      statements.push(...asArray<Json>(props['PolicyDocument']?.['Statement']));
    }
    if (r['Type'] === 'AWS::IAM::Role') {
      for (const p of asArray<Json>(props['Policies']))
        statements.push(...asArray<Json>(p['PolicyDocument']?.['Statement']));
    }
  }
  return statements;
}

/** Statements of the AWS::IAM::Policy resources attached to one role. */
function roleStatements(resources: Record<string, Json>, roleLogicalId: string): Json[] {
  return ofType(resources, 'AWS::IAM::Policy')
    .filter(([, p]) => asArray<Json>(p['Properties']['Roles']).some((r) => r['Ref'] === roleLogicalId))
    .flatMap(([, p]) => asArray<Json>(p['Properties']['PolicyDocument']['Statement']));
}

/** A user function, not one of CDK's own helper functions (custom resources, log retention, ...). */
function isCdkHelperFunction(logicalId: string): boolean {
  return /^(AWS[0-9a-fA-F]{32}|CustomResource|LogRetention|BucketNotificationsHandler|CustomCDK)/.test(logicalId);
}

/** A resource policy that refuses every request not made over TLS (cdk-nag SQS4, SNS3). */
function deniesInsecureTransport(policyDocument: Json): boolean {
  return asArray<Json>(policyDocument['Statement']).some(
    (st) => st['Effect'] === 'Deny' && st['Condition']?.['Bool']?.['aws:SecureTransport'] === 'false',
  );
}

/**
 * The topic policy lets CloudWatch alarms publish, and only this account's alarms of this region: `sns:Publish` for
 * `cloudwatch.amazonaws.com` on the topic, scoped by `aws:SourceAccount` and an `aws:SourceArn` of alarms.
 */
function allowsCloudWatchAlarms(policyDocument: Json, topicArn: unknown): boolean {
  return asArray<Json>(policyDocument['Statement']).some(
    (st) =>
      st['Effect'] === 'Allow' &&
      asArray<string>(st['Principal']?.['Service']).includes('cloudwatch.amazonaws.com') &&
      asArray<string>(st['Action']).includes('sns:Publish') &&
      JSON.stringify(asArray(st['Resource'])) === JSON.stringify([topicArn]) &&
      JSON.stringify(st['Condition']?.['StringEquals']?.['aws:SourceAccount']) ===
        JSON.stringify({ Ref: 'AWS::AccountId' }) &&
      /:cloudwatch:.*:alarm:\*/.test(JSON.stringify(st['Condition']?.['ArnLike']?.['aws:SourceArn'])),
  );
}

/** The functions lib/grants.ts lets publish push events. */
const PUBLISHERS = FUNCTION_IDS.filter((fn) => FUNCTION_ACCESS[fn].publishesEvents === true);
/** The functions that store messages, and so get MESSAGE_RETENTION_DAYS. */
const MESSAGE_WRITERS = FUNCTION_IDS.filter((fn) => FUNCTION_ACCESS[fn].tables.Messages?.includes('dynamodb:PutItem'));
const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
/** What grantSendMessages and the SQS event source grant on the account deletion queue. */
const DELETION_QUEUE_SEND = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'];
const DELETION_QUEUE_READ = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'];

type Variant = 'cognito' | 'oidc' | 'embedded';

describe.each([
  { variant: 'cognito' as Variant, title: 'default stack: created Cognito pool', build: () => synthApp({}) },
  {
    variant: 'oidc' as Variant,
    title: 'stack with every context option: OIDC issuer, alarm email, tracing, source maps, retention, log level',
    build: () =>
      synthApp({
        oidcIssuer: OIDC_ISSUER,
        oidcAudience: 'chat-web, chat-mobile',
        removalPolicy: 'destroy',
        alarmEmail: ALARM_EMAIL,
        tracing: 'true',
        sourceMaps: 'true',
        messageRetentionDays: '30',
        logLevel: 'debug',
        apiGatewayLogsRole: 'overwrite',
      }),
  },
  {
    variant: 'embedded' as Variant,
    title: 'construct in a team stack: existing user pool, own bus and topic',
    build: synthEmbedded,
  },
])('$title', ({ variant, build }) => {
  let s: Synth;
  const oidc = variant === 'oidc';
  const embedded = variant === 'embedded';
  const tracing = oidc;

  beforeAll(() => {
    s = build();
  });

  /** The `service` dimension and POWERTOOLS_SERVICE_NAME: the stack's name, so two stacks never share metrics. */
  const serviceName = embedded ? 'Embedded' : 'TeamTalkServerless';
  const fnLogicalId = (fn: FunctionId): string => s.logicalId(s.backend.functions[fn]);
  const tableLogicalId = (table: TableId): string => s.logicalId(s.backend.tables[table]);
  const fnProps = (fn: FunctionId): Json => s.resources[fnLogicalId(fn)]!['Properties'] as Json;
  const envOf = (fn: FunctionId): Json => fnProps(fn)['Environment']['Variables'] as Json;
  const roleOf = (fn: FunctionId): string => fnProps(fn)['Role']['Fn::GetAtt'][0] as string;

  // ---- API, functions, tables, IAM ---------------------------------------------------------------------------

  it('has the routes of core/routes.ts, $connect behind the token authorizer, each on its function', () => {
    const routes = ofType(s.resources, 'AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r['Properties']['RouteKey']).sort()).toEqual(Object.keys(ROUTES).sort());
    const expectedFunction: Record<string, FunctionId> = ROUTES;
    expect(expectedFunction).toMatchObject({
      msg_data: 'send',
      msg_data_ack: 'ack',
      msg_list: 'sync',
      msg_read_ack: 'sync',
      group_create: 'groups',
    });
    for (const [, route] of routes) {
      const props = route['Properties'] as Json;
      const integrationId = (props['Target']['Fn::Join'][1] as unknown[]).find((p) => typeof p === 'object') as Json;
      const integration = s.resources[integrationId['Ref'] as string]!['Properties'] as Json;
      expect(JSON.stringify(integration['IntegrationUri']), props['RouteKey']).toContain(
        `"${fnLogicalId(expectedFunction[props['RouteKey'] as string]!)}"`,
      );
      if (props['RouteKey'] === '$connect') {
        expect(props['AuthorizationType']).toBe('CUSTOM');
        const authorizer = s.resources[props['AuthorizerId']['Ref'] as string]!['Properties'] as Json;
        expect(authorizer['IdentitySource']).toEqual(['route.request.querystring.token']);
        expect(authorizer['AuthorizerType']).toBe('REQUEST');
        expect(JSON.stringify(authorizer['AuthorizerUri'])).toContain(`"${fnLogicalId('authorizer')}"`);
      } else {
        expect(props['AuthorizationType'] ?? 'NONE').toBe('NONE');
      }
    }
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
  });

  it('runs every function on Node.js 24 on arm64, traced only when tracing is on', () => {
    const functions = ofType(s.resources, 'AWS::Lambda::Function').filter(([id]) => !isCdkHelperFunction(id));
    // The chat functions, and in the default mode the deploy-time setter of the region's API Gateway logs role.
    const setter = s.backend.node.findAll().find((c) => c.node.path.endsWith('/LogsRole/Setter'));
    expect(setter === undefined, 'setter only in the default mode').toBe(variant !== 'cognito');
    const expected = [...FUNCTION_IDS.map(fnLogicalId), ...(setter ? [s.logicalId(setter)] : [])];
    expect(functions.map(([id]) => id).sort()).toEqual(expected.sort());
    // esbuild targets the runtime's Node.js major (lib/function-specs.ts).
    expect(LAMBDA_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
    expect(BUNDLING.target).toBe(`node${NODE_MAJOR}`);
    for (const [id, fn] of functions) {
      // nodejs22.x is deprecated on 30 April 2027: every function, the logs-role setter included, is on 24.
      expect(fn['Properties']['Runtime'], id).toBe('nodejs24.x');
      expect(fn['Properties']['Architectures'], id).toEqual(['arm64']);
      expect(fn['Properties']['LoggingConfig']?.['LogGroup'], id).toBeDefined();
      if (tracing) expect(fn['Properties']['TracingConfig'], id).toEqual({ Mode: 'Active' });
      else expect(fn['Properties']['TracingConfig'], id).toBeUndefined();
    }
  });

  it("sets each function's application log level from logLevel and keeps the platform REPORT lines (system level INFO)", () => {
    for (const fnId of FUNCTION_IDS) {
      expect(fnProps(fnId)['LoggingConfig'], fnId).toMatchObject({
        LogFormat: 'JSON',
        ApplicationLogLevel: oidc ? 'DEBUG' : 'INFO',
        SystemLogLevel: 'INFO',
      });
    }
  });

  it("sets the region's API Gateway CloudWatch role only as asked: when none is set (default), overwriting, or never", () => {
    const accounts = ofType(s.resources, 'AWS::ApiGateway::Account');
    const setters = ofType(s.resources, 'Custom::ApiGatewayCloudWatchRole');
    const apiGatewayRoles = ofType(s.resources, 'AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r['Properties']['AssumeRolePolicyDocument']).includes('apigateway.amazonaws.com'),
    );
    const [stageId, stage] = ofType(s.resources, 'AWS::ApiGatewayV2::Stage')[0]!;
    if (variant === 'cognito') {
      // Default: a deploy-time check that sets this stack's role only where the region has none; never overwrites.
      expect(accounts, 'no unconditional AWS::ApiGateway::Account').toEqual([]);
      expect(setters).toHaveLength(1);
      const [setterId, setter] = setters[0]!;
      expect(apiGatewayRoles).toHaveLength(1);
      expect(setter['Properties']['RoleArn']).toEqual({ 'Fn::GetAtt': [apiGatewayRoles[0]![0], 'Arn'] });
      expect(asArray<string>(stage['DependsOn']), stageId).toContain(setterId);
    } else if (oidc) {
      // -c apiGatewayLogsRole=overwrite: the old behaviour, on request only.
      expect(accounts).toHaveLength(1);
      expect(setters).toEqual([]);
      expect(accounts[0]![1]['Properties']['CloudWatchRoleArn']).toEqual({
        'Fn::GetAtt': [apiGatewayRoles[0]![0], 'Arn'],
      });
    } else {
      // apiGatewayLogsRole: 'leave': the account has one; nothing region-wide is created.
      expect(accounts).toEqual([]);
      expect(setters).toEqual([]);
      expect(apiGatewayRoles).toEqual([]);
    }
  });

  it('creates the tables from ALL_TABLES: keys, on demand, PITR, TTL, removal policy', () => {
    expect(ofType(s.resources, 'AWS::DynamoDB::GlobalTable')).toHaveLength(ALL_TABLES.length);
    for (const spec of ALL_TABLES) {
      const table = s.resources[tableLogicalId(spec.id)]!;
      const props = table['Properties'] as Json;
      const keys = [spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : [])];
      expect(props['KeySchema'], spec.id).toEqual(
        keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      );
      expect(props['AttributeDefinitions'], spec.id).toEqual(
        keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
      );
      expect(props['BillingMode'], spec.id).toBe('PAY_PER_REQUEST');
      expect(props['Replicas'], spec.id).toHaveLength(1);
      expect(props['Replicas'][0]['PointInTimeRecoverySpecification'], spec.id).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      if (spec.ttlAttribute) {
        expect(props['TimeToLiveSpecification'], spec.id).toEqual({ AttributeName: spec.ttlAttribute, Enabled: true });
      } else {
        expect(props['TimeToLiveSpecification'], spec.id).toBeUndefined();
      }
      expect(table['DeletionPolicy'], spec.id).toBe(oidc ? 'Delete' : 'Retain');
    }
  });

  it('has no wildcard IAM action anywhere', () => {
    const statements = allStatements(s.resources);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of asArray<string>(statement['Action'])) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/^dynamodb:\*$/);
        expect(action).not.toMatch(/\*/);
      }
    }
  });

  it('gives each function exactly the actions of lib/grants.ts (tables, @connections, event bus), plus logs, DLQ and X-Ray', () => {
    const tableByLogicalId = new Map(ALL_TABLES.map((t) => [tableLogicalId(t.id), t.id]));
    const busArn = JSON.stringify(s.stack.resolve(s.backend.eventBus.eventBusArn));
    for (const fnId of FUNCTION_IDS) {
      const roleId = roleOf(fnId);
      expect(s.resources[roleId]!['Properties']['ManagedPolicyArns'], fnId).toBeUndefined();
      const hasDlq = fnProps(fnId)['DeadLetterConfig'] !== undefined;
      const allowed = new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        ...(hasDlq ? ['sqs:SendMessage'] : []),
        ...(tracing ? XRAY_ACTIONS : []),
        // The account deletion queue (lib/account-jobs.ts): queued to by account and account-jobs, read by the latter.
        ...(FUNCTION_ACCESS[fnId].deletionQueue ? DELETION_QUEUE_SEND : []),
        ...(fnId === 'account-jobs' ? DELETION_QUEUE_READ : []),
        // The presence checks queue (lib/presence-jobs.ts): queued to by connect, read by presence-jobs.
        ...(FUNCTION_ACCESS[fnId].presenceChecks ? DELETION_QUEUE_SEND : []),
        ...(fnId === 'presence-jobs' ? [...DELETION_QUEUE_READ, 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] : []),
        ...(FUNCTION_ACCESS[fnId].deletesIdentityUsers && s.backend.userPool ? ['cognito-idp:AdminDeleteUser'] : []),
      ]);
      const granted: Record<string, string[]> = {};
      let manageConnections = 0;
      let putEvents = 0;
      const objects: Record<string, string[]> = {};
      const bucketArn = JSON.stringify(s.stack.resolve(s.backend.attachmentBucket.bucketArn));
      for (const statement of roleStatements(s.resources, roleId)) {
        expect(statement['Effect']).toBe('Allow');
        for (const action of asArray<string>(statement['Action'])) {
          if (action.startsWith('dynamodb:')) {
            for (const resource of asArray<Json>(statement['Resource'])) {
              const getAtt = resource['Fn::GetAtt'] as [string, string] | undefined;
              const table = getAtt && getAtt[1] === 'Arn' ? tableByLogicalId.get(getAtt[0]) : undefined;
              const key = table ?? `not a table ARN: ${JSON.stringify(resource)}`;
              (granted[key] ??= []).push(action);
            }
          } else if (action === 'execute-api:ManageConnections') {
            manageConnections += 1;
            expect(JSON.stringify(statement['Resource'])).toContain(`{"Ref":"${s.logicalId(s.backend.webSocketApi)}"}`);
            expect(JSON.stringify(statement['Resource'])).toContain('/prod/*/@connections/*');
          } else if (action === 'events:PutEvents') {
            putEvents += 1;
            expect(JSON.stringify(statement['Resource']), fnId).toBe(busArn);
          } else if (action === 's3:GetObject' || action === 's3:PutObject' || action === 's3:DeleteObject') {
            // Objects under a prefix of the attachment bucket only (lib/grants.ts `attachments`).
            for (const resource of asArray<Json>(statement['Resource'])) {
              expect(JSON.stringify(resource), fnId).toContain(bucketArn);
              (objects[action] ??= []).push(
                /"\/(uploads\/|att\/|exports\/)\*"\]\]\}$/.exec(JSON.stringify(resource))?.[1] ??
                  JSON.stringify(resource),
              );
            }
          } else {
            expect([...allowed], `${fnId}: ${action}`).toContain(action);
          }
        }
      }
      const expected = Object.fromEntries(
        Object.entries(FUNCTION_ACCESS[fnId].tables).map(([t, actions]) => [t, [...actions].sort()]),
      );
      const actual = Object.fromEntries(
        Object.entries(granted).map(([t, actions]) => [t, [...new Set(actions)].sort()]),
      );
      expect(actual, fnId).toEqual(expected);
      expect(manageConnections, fnId).toBe(FUNCTION_ACCESS[fnId].manageConnections ? 1 : 0);
      expect(putEvents, fnId).toBe(FUNCTION_ACCESS[fnId].publishesEvents ? 1 : 0);
      const attachments = FUNCTION_ACCESS[fnId].attachments;
      const expectedObjects = attachments
        ? Object.fromEntries(
            (
              [
                ['s3:GetObject', attachments.read],
                ['s3:PutObject', attachments.write],
                ['s3:DeleteObject', attachments.delete ?? []],
              ] as const
            )
              .filter(([, p]) => p.length > 0)
              .map(([a, p]) => [a, [...p].sort()]),
          )
        : {};
      expect(Object.fromEntries(Object.entries(objects).map(([a, p]) => [a, [...p].sort()])), fnId).toEqual(
        expectedObjects,
      );
    }
  });

  it('lets exactly send and sweeper put events, on exactly the configured bus', () => {
    expect([...PUBLISHERS].sort()).toEqual(['account-jobs', 'devices', 'exports', 'reports', 'send', 'sweeper']);
    const putEvents = allStatements(s.resources).filter((st) =>
      asArray<string>(st['Action']).some((a) => a.startsWith('events:')),
    );
    expect(putEvents).toHaveLength(PUBLISHERS.length);
    for (const st of putEvents) expect(st['Action']).toBe('events:PutEvents');
    const busArn = s.stack.resolve(s.backend.eventBus.eventBusArn) as Json;
    // The given bus, or the construct's own (never the account's default bus, which every stack's rules read).
    const bus = embedded
      ? (s.stack.node.findChild('AppBus') as events.EventBus)
      : (s.backend.node.findChild('EventBus') as events.EventBus);
    expect(busArn).toEqual({ 'Fn::GetAtt': [s.logicalId(bus), 'Arn'] });
  });

  it('passes each function the env vars of its tables and settings only', () => {
    for (const fnId of FUNCTION_IDS) {
      const env = envOf(fnId);
      const tableVars = ALL_TABLES.filter((t) => t.envVar in env)
        .map((t) => t.id)
        .sort();
      expect(tableVars, fnId).toEqual(Object.keys(FUNCTION_ACCESS[fnId].tables).sort());
      for (const t of tableVars)
        expect(env[ALL_TABLES.find((x) => x.id === t)!.envVar], fnId).toEqual({ Ref: tableLogicalId(t) });
      expect(ENV.connectionsEndpoint in env, fnId).toBe(FUNCTION_ACCESS[fnId].manageConnections);
      if (FUNCTION_ACCESS[fnId].manageConnections) {
        expect(JSON.stringify(env[ENV.connectionsEndpoint])).toMatch(
          /^\{"Fn::Join":\["",\["https:\/\/",.*"\/prod"\]\]\}$/,
        );
      }
      // Source maps only when asked: they cost every cold start 20–30 ms.
      expect(env['NODE_OPTIONS'], fnId).toBe(oidc ? '--enable-source-maps' : undefined);
      expect(env['POWERTOOLS_SERVICE_NAME'], fnId).toBe(serviceName);
      expect(env['POWERTOOLS_LOG_LEVEL'], fnId).toBe(oidc ? 'DEBUG' : 'INFO');
      expect(AUTH_ENV.secret in env, fnId).toBe(false);
      // The push hook's settings go to the publishers only, retention to the functions that store messages only.
      const publishes = PUBLISHERS.includes(fnId);
      expect(ENV.eventBusName in env, fnId).toBe(publishes);
      expect(ENV.pushIncludesBody in env, fnId).toBe(publishes);
      if (publishes) {
        expect(env[ENV.eventBusName], fnId).toEqual(s.stack.resolve(s.backend.eventBus.eventBusName));
        expect(env[ENV.pushIncludesBody], fnId).toBe(embedded ? 'true' : 'false');
      }
      expect(env[ENV.messageRetentionDays], fnId).toBe(oidc && MESSAGE_WRITERS.includes(fnId) ? '30' : undefined);
    }
    expect(MESSAGE_WRITERS).toContain('send');
    const bus = embedded ? s.stack.node.findChild('AppBus') : s.backend.node.findChild('EventBus');
    expect(envOf('send')[ENV.eventBusName]).toEqual({ Ref: s.logicalId(bus as events.EventBus) });
    const send = envOf('send');
    expect(send[ENV.ackTimeoutMs]).toBe('15000');
    expect(send[ENV.maxDeliveryAttempts]).toBe('5');
    expect(send[ENV.maxMsgBytes]).toBe('4096');
    expect(send[ENV.rateLimitPerSecond]).toBe('20');
    expect(send[ENV.sweepIntervalMs]).toBe('60000');
    expect(envOf('groups')[ENV.maxGroupMembers]).toBe(embedded ? '50' : '1000');
  });

  it('authenticates against the right issuer', () => {
    const env = envOf('authorizer');
    const outputs = Object.keys(s.outputs);
    if (oidc) {
      s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
      s.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
      expect(env[AUTH_ENV.issuer]).toBe(OIDC_ISSUER);
      expect(env[AUTH_ENV.audiences]).toBe('chat-web,chat-mobile');
      expect(outputs).not.toContain('UserPoolId');
    } else if (embedded) {
      s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
      s.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
      const issuer = JSON.stringify(env[AUTH_ENV.issuer]);
      expect(issuer).toContain('https://cognito-idp.eu-west-1.');
      expect(issuer).toContain(`/${EMBEDDED_POOL_ID}`);
      expect(env[AUTH_ENV.audiences]).toBe('client-a,client-b');
      expect(s.backend.userPool).toBeUndefined();
    } else {
      s.template.resourceCountIs('AWS::Cognito::UserPool', 1);
      const poolId = s.logicalId(s.backend.userPool!);
      expect(JSON.stringify(env[AUTH_ENV.issuer])).toContain(`{"Ref":"${poolId}"}`);
      expect(JSON.stringify(env[AUTH_ENV.issuer])).toContain('"https://cognito-idp."');
      expect(env[AUTH_ENV.audiences]).toEqual({ Ref: s.logicalId(s.backend.userPoolClient!) });
      expect(outputs).toEqual(expect.arrayContaining(['UserPoolId', 'UserPoolClientId']));
    }
  });

  // ---- Async failures, alarms, dashboard, outputs -----------------------------------------------------------

  it('runs the sweeper every minute; both its schedule and the function have an encrypted, SSL-only dead-letter queue', () => {
    const rules = ofType(s.resources, 'AWS::Events::Rule').filter(([, r]) => r['Properties']['ScheduleExpression']);
    expect(rules).toHaveLength(1);
    const props = rules[0]![1]['Properties'] as Json;
    expect(props['ScheduleExpression']).toBe('rate(1 minute)');
    expect(props['Targets']).toHaveLength(1);
    expect(props['Targets'][0]['Arn']).toEqual({ 'Fn::GetAtt': [fnLogicalId('sweeper'), 'Arn'] });
    const scheduleDlq = s.logicalId(s.backend.sweeperDeadLetterQueue);
    const functionDlq = s.logicalId(s.backend.sweeperFunctionDeadLetterQueue);
    expect(props['Targets'][0]['DeadLetterConfig']['Arn']['Fn::GetAtt'][0]).toBe(scheduleDlq);
    expect(fnProps('sweeper')['DeadLetterConfig']).toEqual({ TargetArn: { 'Fn::GetAtt': [functionDlq, 'Arn'] } });
    // A failed sweep goes to the DLQ at once: the next scheduled run redoes the work.
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnLogicalId('sweeper') },
      MaximumRetryAttempts: 0,
    });
    // The export worker too: a failed export is restarted by the user's next request (docs/moderation.md).
    expect(fnProps('exports')['DeadLetterConfig']).toEqual({ TargetArn: { 'Fn::GetAtt': [functionDlq, 'Arn'] } });
    for (const fnId of FUNCTION_IDS.filter((f) => f !== 'sweeper' && f !== 'exports'))
      expect(fnProps(fnId)['DeadLetterConfig'], fnId).toBeUndefined();

    const queues = ofType(s.resources, 'AWS::SQS::Queue');
    const deletionQueue = s.logicalId(s.backend.accountDeletionQueue);
    const deletionDlq = s.logicalId(s.backend.accountDeletionQueue.deadLetterQueue!.queue);
    const presenceQueue = s.logicalId(s.backend.presenceChecksQueue);
    const presenceDlq = s.logicalId(s.backend.presenceChecksQueue.deadLetterQueue!.queue);
    expect(queues.map(([id]) => id).sort()).toEqual(
      [scheduleDlq, functionDlq, deletionQueue, deletionDlq, presenceQueue, presenceDlq].sort(),
    );
    for (const [id, queue] of queues) {
      expect(queue['Properties']['SqsManagedSseEnabled'], id).toBe(true);
      const policy = ofType(s.resources, 'AWS::SQS::QueuePolicy').find(([, p]) =>
        asArray<Json>(p['Properties']['Queues']).some((q) => q['Ref'] === id),
      );
      expect(policy, id).toBeDefined();
      expect(deniesInsecureTransport(policy![1]['Properties']['PolicyDocument'] as Json), id).toBe(true);
    }
  });

  it('hands exactly the account export requests on the bus to the export worker', () => {
    const rules = ofType(s.resources, 'AWS::Events::Rule').filter(([, r]) => r['Properties']['EventPattern']);
    const exportRule = rules.find(([, r]) =>
      JSON.stringify(r['Properties']['Targets']).includes(fnLogicalId('exports')),
    );
    expect(exportRule).toBeDefined();
    expect(exportRule![1]['Properties']['EventPattern']).toEqual({
      source: ['teamtalk-serverless'],
      'detail-type': ['Account Export Requested'],
    });
  });

  it('has the alarms: Lambda errors and throttles, WebSocket errors, throttles per table, delivery give-ups, depth of the four DLQs, notifying the topic', () => {
    const alarms = ofType(s.resources, 'AWS::CloudWatch::Alarm');
    const errorAlarms = Math.ceil(FUNCTION_IDS.length / 10);
    expect(alarms).toHaveLength(2 * errorAlarms + 1 + ALL_TABLES.length + 1 + 4);
    expect(s.backend.alarms).toHaveLength(alarms.length);
    const metricsOf = (alarm: Json): Json[] =>
      asArray<Json>(alarm['Properties']['Metrics'])
        .filter((m) => m['MetricStat'])
        .map((m) => m['MetricStat']['Metric'] as Json);

    // Lambda errors: one sum over every function (FILL: an idle function reports nothing).
    const errors = alarms.filter(([, a]) => metricsOf(a).some((m) => m['MetricName'] === 'Errors'));
    expect(errors).toHaveLength(errorAlarms);
    const errorFunctions = errors.flatMap(([, a]) =>
      metricsOf(a).map((m) => m['Dimensions'][0]['Value']['Ref'] as string),
    );
    expect(errorFunctions.sort()).toEqual(FUNCTION_IDS.map(fnLogicalId).sort());
    for (const [id, a] of errors) {
      const expression = asArray<Json>(a['Properties']['Metrics']).find((m) => m['Expression'])![
        'Expression'
      ] as string;
      expect(expression, id).toMatch(/^FILL\(e0,0\)(\+FILL\(e\d,0\))*$/);
      expect(a['Properties']).toMatchObject({
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }

    // Lambda throttles (a new account's concurrency quota is low): the same sum over every function.
    const throttles = alarms.filter(([, a]) => metricsOf(a).some((m) => m['MetricName'] === 'Throttles'));
    expect(throttles).toHaveLength(errorAlarms);
    expect(
      throttles.flatMap(([, a]) => metricsOf(a).map((m) => m['Dimensions'][0]['Value']['Ref'] as string)).sort(),
    ).toEqual(FUNCTION_IDS.map(fnLogicalId).sort());
    for (const [, a] of throttles)
      expect(a['Properties']).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });

    // WebSocket integration and execution errors of this API's stage, summed.
    const apiErrors = alarms.filter(([, a]) => metricsOf(a).some((m) => m['Namespace'] === 'AWS/ApiGateway'));
    expect(apiErrors).toHaveLength(1);
    expect(
      metricsOf(apiErrors[0]![1])
        .map((m) => m['MetricName'])
        .sort(),
    ).toEqual(['ExecutionError', 'IntegrationError']);
    for (const m of metricsOf(apiErrors[0]![1])) {
      expect(m['Dimensions']).toEqual([
        { Name: 'ApiId', Value: { Ref: s.logicalId(s.backend.webSocketApi) } },
        { Name: 'Stage', Value: 'prod' },
      ]);
    }
    expect(apiErrors[0]![1]['Properties']['Metrics'].find((m: Json) => m['Expression'])['Expression']).toBe(
      'FILL(a0,0)+FILL(a1,0)',
    );

    // DynamoDB throttles: one alarm per table on its read + write throttle events.
    for (const spec of ALL_TABLES) {
      const mine = alarms.filter(([, a]) =>
        metricsOf(a).some(
          (m) => m['Namespace'] === 'AWS/DynamoDB' && m['Dimensions'][0]['Value']['Ref'] === tableLogicalId(spec.id),
        ),
      );
      expect(mine, spec.id).toHaveLength(1);
      expect(
        metricsOf(mine[0]![1])
          .map((m) => m['MetricName'])
          .sort(),
        spec.id,
      ).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
      expect(mine[0]![1]['Properties']['Threshold'], spec.id).toBe(10);
    }

    // Delivery give-ups: the handlers' EMF metric, 15 minutes.
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.deliveriesGivenUp,
      Dimensions: [{ Name: 'service', Value: serviceName }],
      Statistic: 'Sum',
      Period: 900,
      Threshold: embedded ? 50 : 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });

    // DLQ depth ≥ 1 on the sweeper's two queues and the account deletion's.
    for (const queue of [
      s.backend.sweeperDeadLetterQueue,
      s.backend.sweeperFunctionDeadLetterQueue,
      s.backend.accountDeletionQueue.deadLetterQueue!.queue,
    ]) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [s.logicalId(queue), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }

    // Notifications: none without a topic; otherwise ALARM and OK to that topic.
    const topic = s.backend.alarmTopic ? s.stack.resolve(s.backend.alarmTopic.topicArn) : undefined;
    expect(topic === undefined, variant).toBe(variant === 'cognito');
    for (const [id, a] of alarms) {
      expect(a['Properties']['AlarmActions'], id).toEqual(topic ? [topic] : undefined);
      expect(a['Properties']['OKActions'], id).toEqual(topic ? [topic] : undefined);
    }
    if (embedded) expect(topic).toBe(EMBEDDED_TOPIC_ARN);
  });

  it('sends alarm email through an encrypted, SSL-only topic when alarmEmail is set', () => {
    const topics = ofType(s.resources, 'AWS::SNS::Topic');
    const subscriptions = ofType(s.resources, 'AWS::SNS::Subscription');
    if (variant === 'cognito') {
      expect(topics).toHaveLength(0);
      expect(subscriptions).toHaveLength(0);
      return;
    }
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]![1]['Properties']).toMatchObject({ Protocol: 'email', Endpoint: ALARM_EMAIL });
    if (embedded) {
      // The team's own topic: subscribed to, not created.
      expect(topics).toHaveLength(0);
      expect(subscriptions[0]![1]['Properties']['TopicArn']).toBe(EMBEDDED_TOPIC_ARN);
      return;
    }
    expect(topics).toHaveLength(1);
    const [topicId, topic] = topics[0]!;
    expect(subscriptions[0]![1]['Properties']['TopicArn']).toEqual({ Ref: topicId });
    const keyId = topic['Properties']['KmsMasterKeyId']['Fn::GetAtt'][0] as string;
    const key = s.resources[keyId]!;
    expect(key['Type']).toBe('AWS::KMS::Key');
    expect(key['Properties']['EnableKeyRotation']).toBe(true);
    expect(JSON.stringify(key['Properties']['KeyPolicy'])).toContain('"Service":"cloudwatch.amazonaws.com"');
    const policy = ofType(s.resources, 'AWS::SNS::TopicPolicy').find(([, p]) =>
      asArray<Json>(p['Properties']['Topics']).some((t) => t['Ref'] === topicId),
    );
    const document = policy![1]['Properties']['PolicyDocument'] as Json;
    expect(deniesInsecureTransport(document)).toBe(true);
    // A topic policy replaces SNS's default one: without this Allow, every alarm action fails to publish.
    expect(allowsCloudWatchAlarms(document, { Ref: topicId })).toBe(true);
  });

  it('has one dashboard, named after the stack, with the message, latency, Lambda, DynamoDB and WebSocket metrics', () => {
    const dashboards = ofType(s.resources, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const props = dashboards[0]![1]['Properties'] as Json;
    if (embedded) {
      expect(props['DashboardName']).toBe('Embedded-eu-west-1');
    } else {
      expect(props['DashboardName']).toEqual({ 'Fn::Join': ['', ['TeamTalkServerless-', { Ref: 'AWS::Region' }]] });
    }
    const body = JSON.stringify(props['DashboardBody']);
    for (const name of Object.values(METRIC))
      expect(body, name).toContain(`\\"${METRICS_NAMESPACE}\\",\\"${name}\\",\\"service\\",\\"${serviceName}\\"`);
    for (const stat of ['p50', 'p99']) expect(body).toContain(`\\"stat\\":\\"${stat}\\"`);
    for (const name of ['ConnectCount', 'MessageCount', 'IntegrationError', 'ClientError']) {
      expect(body, name).toContain(`\\"AWS/ApiGateway\\",\\"${name}\\",\\"ApiId\\"`);
    }
    for (const name of ['Errors', 'Throttles', 'Duration'])
      expect(body, name).toContain(`\\"AWS/Lambda\\",\\"${name}\\"`);
    for (const name of [
      'ReadThrottleEvents',
      'WriteThrottleEvents',
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
    ]) {
      expect(body, name).toContain(`\\"AWS/DynamoDB\\",\\"${name}\\"`);
    }
    for (const fnId of FUNCTION_IDS) expect(body, fnId).toContain(`{"Ref":"${fnLogicalId(fnId)}"}`);
    for (const spec of ALL_TABLES) expect(body, spec.id).toContain(`{"Ref":"${tableLogicalId(spec.id)}"}`);
  });

  it('outputs the URLs, issuer, tables, dashboard and event bus', () => {
    const outputs = Object.keys(s.outputs);
    if (embedded) {
      expect(outputs).toEqual([]); // a team's own stack decides its outputs
      return;
    }
    expect(outputs).toEqual(
      expect.arrayContaining([
        'WebSocketUrl',
        'ConnectionsEndpoint',
        'TokenIssuer',
        'DashboardName',
        'EventBusName',
        ...ALL_TABLES.map((t) => `${t.id}TableName`),
      ]),
    );
    expect(s.outputs['DashboardName']!['Value']).toEqual({ Ref: s.logicalId(s.backend.dashboard!) });
    expect(s.outputs['EventBusName']!['Value']).toEqual({
      Ref: s.logicalId(s.backend.node.findChild('EventBus') as events.EventBus),
    });
    expect('AlarmTopicArn' in s.outputs).toBe(oidc);
  });

  it('has no unacknowledged cdk-nag AwsSolutions finding and no construct errors', () => {
    // cdk-nag v3 is a policy-validation plugin: findings are its report, not annotations.
    const { violations } = s.nag.validateScope(s.app);
    expect(
      violations.map(
        (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    // Nor any CDK construct error or warning annotation (a v2-style nag would also report here).
    const annotations = Annotations.fromStack(s.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('two stacks in one account', () => {
  it('publish, chart and alarm on their own service dimension (the stack name, or serviceName)', () => {
    const app = new App({ context: { ...CDK_CONTEXT, ...NO_BUNDLING } });
    const stacks = [
      new TeamTalkStack(app, 'ChatStaging'),
      new TeamTalkStack(app, 'ChatProd'),
      new TeamTalkStack(app, 'ChatDemo', { backend: { serviceName: 'demo-chat' } }),
    ];
    const services = stacks.map((stack) => {
      const resources = Template.fromStack(stack).toJSON()['Resources'] as Record<string, Json>;
      const envService = new Set(
        ofType(resources, 'AWS::Lambda::Function')
          .filter(([id]) => !isCdkHelperFunction(id) && !id.includes('LogsRoleSetter'))
          .map(([, fn]) => fn['Properties']['Environment']['Variables']['POWERTOOLS_SERVICE_NAME'] as string),
      );
      const giveUps = ofType(resources, 'AWS::CloudWatch::Alarm').find(
        ([, a]) => a['Properties']['MetricName'] === METRIC.deliveriesGivenUp,
      )!;
      expect([...envService], stack.stackName).toEqual([giveUps[1]['Properties']['Dimensions'][0]['Value']]);
      return [...envService][0];
    });
    expect(services).toEqual(['ChatStaging', 'ChatProd', 'demo-chat']);
  });
});

describe('cdk-nag setup', () => {
  it('reports a finding that is not acknowledged (the check above can fail)', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    new sns.Topic(stack, 'PlainTopic'); // no enforceSSL
    const nag = new AwsSolutionsChecks(app);
    Validations.of(app).addPlugins(nag);
    const rules = nag.validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4', 'AwsSolutions-SNS3']));
  });

  it('refuses a bad removalPolicy context value', () => {
    expect(() => createApp({ context: { removalPolicy: 'sometimes' } })).toThrow(/removalPolicy/);
  });
});
