/**
 * ChatBackend props and the app's context keys, without a full synth: context parsing (lib/app.ts) and the
 * construct's refusals of bad values, which it raises before creating any function.
 */
import { App, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { backendPropsFromContext } from '../lib/app.js';
import { ChatBackend, type ChatBackendProps } from '../lib/index.js';

function fromContext(context: Record<string, unknown>): ChatBackendProps {
  return backendPropsFromContext(new App({ context }));
}

describe('context keys (lib/app.ts)', () => {
  it('defaults to a retained stack with the construct defaults', () => {
    expect(fromContext({})).toEqual({ removalPolicy: RemovalPolicy.RETAIN });
  });

  it('reads alarmEmail, logLevel, tracing, messageRetentionDays and pushIncludesBody from -c strings', () => {
    const props = fromContext({
      alarmEmail: 'ops@example.com',
      logLevel: 'warn',
      tracing: 'true',
      messageRetentionDays: '90',
      pushIncludesBody: 'false',
      removalPolicy: 'destroy',
    });
    expect(props).toMatchObject({
      alarmEmail: 'ops@example.com',
      logLevel: 'WARN',
      tracing: true,
      pushIncludesBody: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    expect(props.messageRetention?.toDays()).toBe(90);
  });

  it('reads booleans and numbers from cdk.json values', () => {
    expect(fromContext({ tracing: false, messageRetentionDays: 7 })).toMatchObject({ tracing: false });
    expect(fromContext({ messageRetentionDays: 7 }).messageRetention?.toDays()).toBe(7);
  });

  it('reads an OIDC issuer with audiences', () => {
    expect(fromContext({ oidcIssuer: 'https://id.example.com', oidcAudience: 'a, b' }).auth).toEqual({
      issuer: 'https://id.example.com',
      audiences: ['a', 'b'],
    });
  });

  it('reads apiGatewayLogsRole', () => {
    expect(fromContext({ apiGatewayLogsRole: 'leave' }).apiGatewayLogsRole).toBe('leave');
    expect(fromContext({ apiGatewayLogsRole: 'overwrite' }).apiGatewayLogsRole).toBe('overwrite');
    expect(fromContext({}).apiGatewayLogsRole).toBeUndefined();
  });

  it('reads monitoring, smokeTestClient and the stage throttle', () => {
    expect(fromContext({ monitoring: 'minimal', smokeTestClient: 'true', stageRateLimit: '3000' })).toMatchObject({
      monitoring: 'minimal',
      smokeTestClient: true,
      throttle: { rateLimit: 3000, burstLimit: 2000 },
    });
    expect(fromContext({ stageBurstLimit: 500 }).throttle).toEqual({ rateLimit: 1000, burstLimit: 500 });
  });

  it('turns push on from secret names or ARNs, with the APNs ids and the Web Push subject', () => {
    const stack = new Stack(new App(), 'Probe');
    const push = backendPropsFromContext(
      new App({
        context: {
          pushFcmSecret: 'chat/fcm',
          pushApnsSecret: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:chat/apns-AbCdEf',
          pushApnsKeyId: 'ABC123DEFG',
          pushApnsTeamId: 'TEAM123456',
          pushApnsBundleId: 'com.example.chat',
          pushApnsProduction: 'false',
          pushWebPushSecret: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:chat/vapid',
          pushWebPushSubject: 'mailto:ops@example.com',
        },
      }),
      stack,
    ).push!;
    expect(push.fcm!.serviceAccountSecret.secretName).toBe('chat/fcm');
    expect(push.apns).toMatchObject({
      keyId: 'ABC123DEFG',
      teamId: 'TEAM123456',
      bundleId: 'com.example.chat',
      production: false,
    });
    expect(push.apns!.signingKeySecret.secretArn).toBe(
      'arn:aws:secretsmanager:eu-west-1:111111111111:secret:chat/apns-AbCdEf',
    );
    expect(push.webPush!.subject).toBe('mailto:ops@example.com');
    expect(push.webPush!.vapidKeysSecret.secretArn).toBe(
      'arn:aws:secretsmanager:eu-west-1:111111111111:secret:chat/vapid',
    );
    expect(fromContext({}).push).toBeUndefined();
  });

  it.each([
    [{ pushApnsSecret: 'chat/apns', pushApnsKeyId: 'K' }, /pushApnsTeamId, pushApnsBundleId/],
    [{ pushApnsBundleId: 'com.example.chat' }, /need pushApnsSecret/],
    [{ pushWebPushSecret: 'chat/vapid' }, /pushWebPushSubject/],
    [{ pushWebPushSubject: 'mailto:a@b.c' }, /needs pushWebPushSecret/],
    [{ pushFcmSecret: 'arn:aws:s3:::bucket' }, /not a Secrets Manager secret ARN/],
  ])('refuses incomplete push keys %j', (context, message) => {
    expect(() => backendPropsFromContext(new App({ context }), new Stack(new App(), 'Probe'))).toThrow(message);
  });

  it.each([
    [{ logLevel: 'verbose' }, /logLevel/],
    [{ monitoring: 'some' }, /monitoring/],
    [{ stageRateLimit: '0' }, /stageRateLimit/],
    [{ smokeTestClient: 'true', oidcIssuer: 'https://id.example.com', oidcAudience: 'a' }, /not with oidcIssuer/],
    [{ sesRegion: 'eu-west-1' }, /sesRegion needs sesFromEmail/],
    [{ oidcIssuer: 'https://id.example.com' }, /oidcAudience/],
    [{ apiGatewayLogsRole: 'sometimes' }, /apiGatewayLogsRole/],
    [{ tracing: 'yes' }, /tracing/],
    [{ messageRetentionDays: '0' }, /messageRetentionDays/],
    [{ messageRetentionDays: '1.5' }, /messageRetentionDays/],
    [{ pushIncludesBody: 1 }, /pushIncludesBody/],
    [{ oidcIssuer: 'http://id.example.com' }, /https/],
    [{ oidcAudience: 'a' }, /need oidcIssuer/],
  ])('refuses %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });
});

describe('ChatBackend refuses bad props', () => {
  const build = (props: ChatBackendProps): ChatBackend => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    return new ChatBackend(new Stack(app, 'Probe'), 'Chat', props);
  };

  it.each([
    ['a retention in part days', { messageRetention: Duration.hours(36) }, /messageRetention/],
    ['a log level', { logLevel: 'TRACE' as never }, /logLevel/],
    ['an alarm email', { alarmEmail: 'not-an-address' }, /alarmEmail/],
    ['an alarm threshold', { alarmThresholds: { lambdaErrors: 0 } }, /alarmThresholds.lambdaErrors/],
    ['a group size', { maxGroupMembers: 0 }, /maxGroupMembers/],
    ['a sweep interval', { sweepInterval: Duration.seconds(90) }, /sweepInterval/],
    ['an http issuer', { auth: { issuer: 'http://id.example.com' } }, /https/],
    ['an auth with neither pool nor issuer', { auth: {} as never }, /userPool.*issuer/],
    [
      'an issuer without audiences (any token of the issuer would do)',
      { auth: { issuer: 'https://id.example.com' } },
      /audiences/,
    ],
    [
      'an issuer with an empty audience list',
      { auth: { issuer: 'https://id.example.com', audiences: [''] } },
      /audiences/,
    ],
    ['an API Gateway logs role mode', { apiGatewayLogsRole: 'sometimes' as never }, /apiGatewayLogsRole/],
    ['a service name', { serviceName: '' }, /serviceName/],
    [
      'a reserved concurrency of no function',
      { reservedConcurrency: { nope: 5 } as never },
      /reservedConcurrency has no function nope/,
    ],
    ['a reserved concurrency of zero', { reservedConcurrency: { send: 0 } }, /reservedConcurrency.send/],
    ['a token age in part seconds', { maxTokenAge: Duration.millis(1500) }, /maxTokenAge/],
    ['a typing interval below 100 ms', { typingIntervalMs: 50 }, /typingIntervalMs/],
    [
      'a member-delivery budget below a full group',
      { maxGroupMembers: 50, memberDeliveriesPerSecond: 48 },
      /memberDeliveriesPerSecond/,
    ],
  ])('%s', (_name, props, message) => {
    expect(() => build(props as ChatBackendProps)).toThrow(message);
  });

  it('an existing user pool without clientIds (any app client of the pool would do)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbCdEf123');
    expect(() => new ChatBackend(stack, 'Chat', { auth: { userPool } })).toThrow(/clientIds/);
    expect(() => new ChatBackend(stack, 'Chat2', { auth: { userPool, clientIds: [] } })).toThrow(/clientIds/);
  });
});

describe('token times', () => {
  it('reach the authorizer only: the clock skew and the maximum age, in seconds', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    new ChatBackend(stack, 'Chat', { tokenClockSkew: Duration.seconds(5), maxTokenAge: Duration.hours(12) });
    const environments = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(
      (f) => f['Properties']['Environment']?.['Variables'] ?? {},
    );
    const timed = environments.filter((env) => 'JWT_MAX_TOKEN_AGE_SECONDS' in env);
    expect(timed).toEqual([
      expect.objectContaining({
        JWT_ISSUER: expect.anything(),
        JWT_CLOCK_SKEW_SECONDS: '5',
        JWT_MAX_TOKEN_AGE_SECONDS: '43200',
      }),
    ]);
  });
});

describe('stateful resources keep the logical ids of earlier releases (an upgrade must not replace them)', () => {
  it('tables, user pool, app client, API and stage sit directly under the construct, as before the sub-construct split', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    const backend = new ChatBackend(stack, 'Chat', {});
    const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
    for (const [id, table] of Object.entries(backend.tables))
      expect(logicalId(table)).toMatch(new RegExp(`^Chat${id}[0-9A-F]{8}$`));
    expect(logicalId(backend.userPool!)).toMatch(/^ChatUserPool[0-9A-F]{8}$/);
    expect(logicalId(backend.userPoolClient!)).toMatch(/^ChatUserPoolAppClient[0-9A-F]{8}$/);
    // The API and its stage: a new API would change the wss URL; a new stage would collide with the old one's name.
    expect(logicalId(backend.webSocketApi)).toMatch(/^ChatWebSocketApi[0-9A-F]{8}$/);
    expect(logicalId(backend.stage)).toMatch(/^ChatStage[0-9A-F]{8}$/);
  });
});

describe('reserved concurrency', () => {
  it('is set only on the functions named (opt-in: it takes from the account pool)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    new ChatBackend(stack, 'Chat', { reservedConcurrency: { send: 50 } });
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    const reserved = functions
      .map((f) => f['Properties']['ReservedConcurrentExecutions'])
      .filter((v) => v !== undefined);
    expect(reserved).toEqual([50]);
  });
});

describe("a team's own alarm topic", () => {
  it('gets a policy statement letting CloudWatch alarms of this account publish (its enforceSSL policy replaced the default)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    const topic = new sns.Topic(stack, 'Ops', { enforceSSL: true });
    new ChatBackend(stack, 'Chat', { alarmTopic: topic });
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::SNS::TopicPolicy'));
    const statements = policies.flatMap(
      (p) => p['Properties']['PolicyDocument']['Statement'] as Record<string, unknown>[],
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    );
  });
});

describe("a team's content check function", () => {
  it('is named to the send and edits functions alone (an edit is checked as a send), which alone may invoke it', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    const check = lambda.Function.fromFunctionArn(
      stack,
      'Check',
      'arn:aws:lambda:us-east-1:123456789012:function:check',
    );
    const backend = new ChatBackend(stack, 'Chat', {
      contentCheck: { function: check, timeout: Duration.millis(800) },
    });
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function');
    const checking = (['send', 'edits'] as const).map((fn) => backend.functions[fn]);
    const checkingIds = checking.map((fn) => stack.getLogicalId(fn.node.defaultChild as CfnElement));
    for (const [id, f] of Object.entries(functions)) {
      const variables = (f['Properties']['Environment']?.['Variables'] ?? {}) as Record<string, unknown>;
      if (checkingIds.includes(id))
        expect(variables).toMatchObject({
          CONTENT_CHECK_FUNCTION: check.functionArn,
          CONTENT_CHECK_TIMEOUT_MS: '800',
          CONTENT_CHECK_FAIL_OPEN: 'true',
        });
      else expect(variables['CONTENT_CHECK_FUNCTION'], id).toBeUndefined();
    }
    const invokes = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p['Properties']['PolicyDocument']['Statement'] as Record<string, unknown>[])
        .filter((s) => JSON.stringify(s['Action']).includes('lambda:InvokeFunction'))
        .map((s) => ({ roles: p['Properties']['Roles'], resource: s['Resource'] })),
    );
    expect(invokes).toEqual(
      checking.map((fn) => ({
        roles: [{ Ref: stack.getLogicalId(fn.role!.node.defaultChild as CfnElement) }],
        resource: check.functionArn,
      })),
    );
  });

  it('refuses a timeout the send cannot afford', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Probe');
    const check = lambda.Function.fromFunctionArn(
      stack,
      'Check',
      'arn:aws:lambda:us-east-1:123456789012:function:check',
    );
    expect(
      () => new ChatBackend(stack, 'Chat', { contentCheck: { function: check, timeout: Duration.seconds(10) } }),
    ).toThrow(/contentCheck.timeout/);
  });
});
