/**
 * Synthesizes the stack the way `cdk synth` does (lib/app.ts createApp, cdk.json's context, cdk-nag registered)
 * and checks the template against the specs it is built from: core/store/schema.ts and lib/grants.ts.
 */
import { ACTION_ROUTES } from '../core/routes.js';
import { readFileSync } from 'node:fs';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../core/auth/verify-token.js';
import { ENV } from '../core/config.js';
import { ALL_TABLES, type TableId } from '../core/store/schema.js';
import { createApp, type CreatedApp } from '../lib/app.js';
import { FUNCTION_ACCESS, FUNCTION_IDS, type FunctionId } from '../lib/grants.js';

const CDK_CONTEXT = (JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
}).context;

const OIDC_ISSUER = 'https://login.example.com/realms/chat';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
type Json = Record<string, any>;

interface Synth {
  readonly created: CreatedApp;
  readonly template: Template;
  readonly resources: Record<string, Json>;
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
}

function synth(context: Record<string, unknown>): Synth {
  const created = createApp({ context: { ...CDK_CONTEXT, ...context } });
  const template = Template.fromStack(created.stack);
  const stack = created.stack;
  return {
    created,
    template,
    resources: template.toJSON()['Resources'] as Record<string, Json>,
    logicalId: (construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement),
  };
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
      for (const p of asArray<Json>(props['Policies'])) statements.push(...asArray<Json>(p['PolicyDocument']?.['Statement']));
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

describe.each([
  { variant: 'cognito (default)', context: {} as Record<string, unknown> },
  {
    variant: 'oidc issuer',
    // The default variant bundles the handlers as `cdk synth` does; this one skips esbuild to stay fast.
    context: {
      oidcIssuer: OIDC_ISSUER,
      oidcAudience: 'chat-web, chat-mobile',
      removalPolicy: 'destroy',
      'aws:cdk:bundling-stacks': [],
    },
  },
])('TeamTalkStack: $variant', ({ variant, context }) => {
  let s: Synth;
  const oidc = variant === 'oidc issuer';

  beforeAll(() => {
    s = synth(context);
  });

  const fnLogicalId = (fn: FunctionId): string => s.logicalId(s.created.stack.backend.functions[fn]);
  const tableLogicalId = (table: TableId): string => s.logicalId(s.created.stack.backend.tables[table]);

  it('has the routes of core/routes.ts, $connect behind the token authorizer, each on its function', () => {
    const routes = ofType(s.resources, 'AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r['Properties']['RouteKey']).sort()).toEqual(
      [
        ...['$connect', '$default', '$disconnect', 'msg_data', 'msg_data_ack'],
        ...['msg_list', 'latest_msg_id', 'msg_by_ids', 'unread_cnt', 'recent_sessions', 'msg_read_ack', 'remove_session'],
        ...['group_create', 'group_change_member', 'group_list', 'group_info'],
      ].sort(),
    );
    const expectedFunction: Record<string, FunctionId> = {
      $connect: 'connect',
      $disconnect: 'connect',
      $default: 'default',
      ...ACTION_ROUTES,
    };
    expect(expectedFunction).toMatchObject({ msg_data: 'send', msg_data_ack: 'ack', msg_list: 'sync', msg_read_ack: 'sync', group_create: 'groups' });
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

  it('runs every function on Node.js 22/24 on arm64', () => {
    const functions = ofType(s.resources, 'AWS::Lambda::Function').filter(([id]) => !isCdkHelperFunction(id));
    expect(functions.map(([id]) => id).sort()).toEqual(FUNCTION_IDS.map(fnLogicalId).sort());
    for (const [id, fn] of functions) {
      expect(['nodejs22.x', 'nodejs24.x'], id).toContain(fn['Properties']['Runtime']);
      expect(fn['Properties']['Architectures'], id).toEqual(['arm64']);
      expect(fn['Properties']['LoggingConfig']?.['LogGroup'], id).toBeDefined();
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
      expect(props['AttributeDefinitions'], spec.id).toEqual(keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })));
      expect(props['BillingMode'], spec.id).toBe('PAY_PER_REQUEST');
      expect(props['Replicas'], spec.id).toHaveLength(1);
      expect(props['Replicas'][0]['PointInTimeRecoverySpecification'], spec.id).toEqual({ PointInTimeRecoveryEnabled: true });
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

  it('gives each function exactly the DynamoDB actions of lib/grants.ts, on exactly those tables', () => {
    const tableByLogicalId = new Map(ALL_TABLES.map((t) => [tableLogicalId(t.id), t.id]));
    for (const fnId of FUNCTION_IDS) {
      const fn = s.resources[fnLogicalId(fnId)]!;
      const roleId = fn['Properties']['Role']['Fn::GetAtt'][0] as string;
      expect(s.resources[roleId]!['Properties']['ManagedPolicyArns'], fnId).toBeUndefined();
      const granted: Record<string, string[]> = {};
      let manageConnections = 0;
      for (const statement of roleStatements(s.resources, roleId)) {
        expect(statement['Effect']).toBe('Allow');
        const actions = asArray<string>(statement['Action']);
        for (const action of actions) {
          if (action.startsWith('dynamodb:')) {
            for (const resource of asArray<Json>(statement['Resource'])) {
              const getAtt = resource['Fn::GetAtt'] as [string, string] | undefined;
              const table = getAtt && getAtt[1] === 'Arn' ? tableByLogicalId.get(getAtt[0]) : undefined;
              const key = table ?? `not a table ARN: ${JSON.stringify(resource)}`;
              (granted[key] ??= []).push(action);
            }
          } else if (action === 'execute-api:ManageConnections') {
            manageConnections += 1;
            expect(JSON.stringify(statement['Resource'])).toContain(`{"Ref":"${s.logicalId(s.created.stack.backend.webSocketApi)}"}`);
            expect(JSON.stringify(statement['Resource'])).toContain('/prod/*/@connections/*');
          } else {
            expect(['logs:CreateLogStream', 'logs:PutLogEvents'], `${fnId}: ${action}`).toContain(action);
          }
        }
      }
      const expected = Object.fromEntries(
        Object.entries(FUNCTION_ACCESS[fnId].tables).map(([t, actions]) => [t, [...actions].sort()]),
      );
      const actual = Object.fromEntries(Object.entries(granted).map(([t, actions]) => [t, [...new Set(actions)].sort()]));
      expect(actual, fnId).toEqual(expected);
      expect(manageConnections, fnId).toBe(FUNCTION_ACCESS[fnId].manageConnections ? 1 : 0);
    }
  });

  it('passes each function the env vars of its tables and settings only', () => {
    for (const fnId of FUNCTION_IDS) {
      const env = s.resources[fnLogicalId(fnId)]!['Properties']['Environment']['Variables'] as Json;
      const tableVars = ALL_TABLES.filter((t) => t.envVar in env).map((t) => t.id).sort();
      expect(tableVars, fnId).toEqual(Object.keys(FUNCTION_ACCESS[fnId].tables).sort());
      for (const t of tableVars) expect(env[ALL_TABLES.find((x) => x.id === t)!.envVar], fnId).toEqual({ Ref: tableLogicalId(t) });
      expect(ENV.connectionsEndpoint in env, fnId).toBe(FUNCTION_ACCESS[fnId].manageConnections);
      if (FUNCTION_ACCESS[fnId].manageConnections) {
        expect(JSON.stringify(env[ENV.connectionsEndpoint])).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",.*"\/prod"\]\]\}$/);
      }
      expect(env['NODE_OPTIONS'], fnId).toBe('--enable-source-maps');
      expect(env['POWERTOOLS_SERVICE_NAME'], fnId).toBe('teamtalk-serverless');
      expect(AUTH_ENV.secret in env, fnId).toBe(false);
    }
    const send = s.resources[fnLogicalId('send')]!['Properties']['Environment']['Variables'] as Json;
    expect(send[ENV.ackTimeoutMs]).toBe('15000');
    expect(send[ENV.maxDeliveryAttempts]).toBe('5');
    expect(send[ENV.maxMsgBytes]).toBe('4096');
    expect(send[ENV.rateLimitPerSecond]).toBe('20');
    expect(send[ENV.sweepIntervalMs]).toBe('60000');
  });

  it('runs the sweeper every minute, with a dead-letter queue', () => {
    const rules = ofType(s.resources, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const props = rules[0]![1]['Properties'] as Json;
    expect(props['ScheduleExpression']).toBe('rate(1 minute)');
    expect(props['Targets']).toHaveLength(1);
    expect(props['Targets'][0]['Arn']).toEqual({ 'Fn::GetAtt': [fnLogicalId('sweeper'), 'Arn'] });
    expect(props['Targets'][0]['DeadLetterConfig']['Arn']['Fn::GetAtt'][0]).toBe(
      s.logicalId(s.created.stack.backend.sweeperDeadLetterQueue),
    );
  });

  it('authenticates against the right issuer', () => {
    const env = s.resources[fnLogicalId('authorizer')]!['Properties']['Environment']['Variables'] as Json;
    const outputs = Object.keys(s.template.toJSON()['Outputs'] as Json);
    expect(outputs).toEqual(expect.arrayContaining(['WebSocketUrl', 'ConnectionsEndpoint', ...ALL_TABLES.map((t) => `${t.id}TableName`)]));
    if (oidc) {
      s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
      s.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
      expect(env[AUTH_ENV.issuer]).toBe(OIDC_ISSUER);
      expect(env[AUTH_ENV.audiences]).toBe('chat-web,chat-mobile');
      expect(outputs).not.toContain('UserPoolId');
    } else {
      s.template.resourceCountIs('AWS::Cognito::UserPool', 1);
      const poolId = s.logicalId(s.created.stack.backend.userPool!);
      expect(JSON.stringify(env[AUTH_ENV.issuer])).toContain(`{"Ref":"${poolId}"}`);
      expect(JSON.stringify(env[AUTH_ENV.issuer])).toContain('"https://cognito-idp."');
      expect(env[AUTH_ENV.audiences]).toEqual({ Ref: s.logicalId(s.created.stack.backend.userPoolClient!) });
      expect(outputs).toEqual(expect.arrayContaining(['UserPoolId', 'UserPoolClientId']));
    }
  });

  it('has no unacknowledged cdk-nag AwsSolutions finding and no construct errors', () => {
    // cdk-nag v3 is a policy-validation plugin: findings are its report, not annotations.
    const { violations } = s.created.nag.validateScope(s.created.app);
    expect(violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    // Nor any CDK construct error or warning annotation (a v2-style nag would also report here).
    const annotations = Annotations.fromStack(s.created.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('cdk-nag setup', () => {
  it('reports a finding that is not acknowledged (the check above can fail)', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    const nag = new AwsSolutionsChecks(app);
    Validations.of(app).addPlugins(nag);
    const rules = nag.validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('refuses a bad removalPolicy context value', () => {
    expect(() => createApp({ context: { removalPolicy: 'sometimes' } })).toThrow(/removalPolicy/);
  });
});
