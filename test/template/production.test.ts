/**
 * What a production account needs of the template: two backends in one stack that share no name or metric
 * dimension, reserved concurrency refused at synth past the account's quota, a Cognito app client without OAuth or
 * password auth and a separate smoke client, SES mail, deletion protection, a bounded wait on the deploy-time custom
 * resource, the alarms on Lambda throttles, WebSocket errors and the push queue's age, and the smaller
 * `monitoring: 'minimal'`. Bundling is skipped, as in test/stack.test.ts.
 */
import { readFileSync } from 'node:fs';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../../core/auth/verify-token.js';
import { METRIC } from '../../core/observability.js';
import { ALL_TABLES } from '../../core/store/schema.js';
import { LOGS_ROLE_SERVICE_TIMEOUT } from '../../lib/api-gateway-logs-role.js';
import { createApp } from '../../lib/app.js';
import { ChatBackend, type ChatBackendProps } from '../../lib/chat-backend.js';

const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context;
const NO_BUNDLING = { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] };
// biome-ignore lint/suspicious/noExplicitAny: synthesized JSON is walked freely; the assertions check its shape.
type Json = Record<string, any>;

function newStack(name = 'Prod'): Stack {
  return new Stack(new App({ context: NO_BUNDLING }), name);
}

function synth(props: ChatBackendProps = {}) {
  const stack = newStack();
  const backend = new ChatBackend(stack, 'Chat', props);
  const template = Template.fromStack(stack);
  return { stack, backend, template, resources: template.toJSON()['Resources'] as Record<string, Json> };
}

const ofType = (resources: Record<string, Json>, type: string): Json[] =>
  Object.values(resources).filter((r) => r['Type'] === type);

/** Every metric an alarm reads: its own, or each MetricStat of its metric math. */
function alarmMetrics(alarm: Json): Json[] {
  const p = alarm['Properties'];
  if (p['MetricName']) return [{ Namespace: p['Namespace'], MetricName: p['MetricName'], Dimensions: p['Dimensions'] }];
  return (p['Metrics'] as Json[]).filter((m) => m['MetricStat']).map((m) => m['MetricStat']['Metric'] as Json);
}

/** Two ChatBackends in one stack, both with every default. */
function twoBackends() {
  const stack = newStack('Shared');
  const first = new ChatBackend(stack, 'Chat');
  const second = new ChatBackend(stack, 'Support');
  const nag = new AwsSolutionsChecks(stack.node.scope as App);
  Validations.of(stack.node.scope as App).addPlugins(nag);
  return {
    stack,
    first,
    second,
    nag,
    resources: Template.fromStack(stack).toJSON()['Resources'] as Record<string, Json>,
  };
}

describe('two ChatBackends in one stack', () => {
  const { stack, first, second, nag, resources } = twoBackends();

  it('get different dashboard names, the first keeping <stack>-<region> of earlier releases', () => {
    const names = ofType(resources, 'AWS::CloudWatch::Dashboard').map((d) =>
      JSON.stringify(d['Properties']['DashboardName']),
    );
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    const nameOf = (backend: ChatBackend) =>
      resources[stack.getLogicalId(backend.dashboard!.node.defaultChild as never)]!['Properties']['DashboardName'];
    expect(nameOf(first)).toEqual({ 'Fn::Join': ['', ['Shared-', { Ref: 'AWS::Region' }]] });
    expect(nameOf(second)).toEqual({ 'Fn::Join': ['', ['Shared-Support-', { Ref: 'AWS::Region' }]] });
  });

  it('publish their metrics under different service names, each read by its own alarms and dashboard only', () => {
    expect([first.serviceName, second.serviceName]).toEqual(['Shared', 'Shared-Support']);
    for (const backend of [first, second]) {
      const other = backend === first ? second : first;
      const functions = Object.values(backend.functions).map(
        (fn) => resources[stack.getLogicalId(fn.node.defaultChild as never)]!,
      );
      for (const fn of functions)
        expect(fn['Properties']['Environment']['Variables']['POWERTOOLS_SERVICE_NAME']).toBe(backend.serviceName);
      const alarmLogicalIds = new Set(backend.alarms.map((a) => stack.getLogicalId(a.node.defaultChild as never)));
      const services = [...alarmLogicalIds]
        .flatMap((id) => alarmMetrics(resources[id]!))
        .flatMap((m) => (m['Dimensions'] as Json[]).filter((d) => d['Name'] === 'service').map((d) => d['Value']));
      expect(new Set(services)).toEqual(new Set([backend.serviceName]));
      const body = JSON.stringify(
        resources[stack.getLogicalId(backend.dashboard!.node.defaultChild as never)]!['Properties']['DashboardBody'],
      );
      expect(body).toContain(`\\"${METRIC.messagesStored}\\",\\"service\\",\\"${backend.serviceName}\\"`);
      expect(body).not.toContain(`\\"service\\",\\"${other.serviceName}\\"`);
    }
  });

  it('share no alarm metric: every function, table, queue and stage dimension belongs to one backend', () => {
    const keys = (backend: ChatBackend) =>
      new Set(
        backend.alarms
          .flatMap((a) => alarmMetrics(resources[stack.getLogicalId(a.node.defaultChild as never)]!))
          .map((m) => JSON.stringify([m['MetricName'], m['Dimensions']])),
      );
    const a = keys(first);
    const b = keys(second);
    expect(a.size).toBeGreaterThan(30);
    expect([...a].filter((k) => b.has(k))).toEqual([]);
  });

  it('have one API Gateway logs-role setter between them (the setting is one per region) and distinct API names', () => {
    expect(ofType(resources, 'Custom::ApiGatewayCloudWatchRole')).toHaveLength(1);
    expect(
      ofType(resources, 'AWS::ApiGatewayV2::Api')
        .map((a) => a['Properties']['Name'])
        .sort(),
    ).toEqual(['Shared-Support-chat', 'Shared-chat']);
  });

  it('have no unacknowledged cdk-nag finding', () => {
    const { violations } = nag.validateScope(stack.node.scope as App);
    expect(
      violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    ).toEqual([]);
  });

  it('refuses two backends of a stack given the same serviceName or dashboardName, and different logs-role modes', () => {
    const sameService = newStack();
    new ChatBackend(sameService, 'A', { serviceName: 'chat' });
    new ChatBackend(sameService, 'B', { serviceName: 'chat' });
    expect(() => Template.fromStack(sameService)).toThrow(/serviceName "chat" is also .*A's/);
    const sameDashboard = newStack();
    new ChatBackend(sameDashboard, 'A', { dashboardName: 'chat' });
    new ChatBackend(sameDashboard, 'B', { dashboardName: 'chat' });
    expect(() => Template.fromStack(sameDashboard)).toThrow(/dashboardName "chat"/);
    const modes = newStack();
    new ChatBackend(modes, 'A', { apiGatewayLogsRole: 'overwrite' });
    expect(() => new ChatBackend(modes, 'B', { apiGatewayLogsRole: 'ifMissing' })).toThrow(/apiGatewayLogsRole/);
  });
});

describe('reserved concurrency against the account quota', () => {
  it('refuses at synth a reservation that leaves Lambda fewer than 100 unreserved executions', () => {
    expect(() => synth({ reservedConcurrency: { send: 950 } })).toThrow(/reserves 950 executions.*at most 900/);
    expect(() => synth({ reservedConcurrency: { send: 10 }, accountConcurrencyLimit: 100 })).toThrow(
      /at most 0 be reserved/,
    );
    const { resources } = synth({ reservedConcurrency: { send: 400, ack: 500 } });
    expect(
      ofType(resources, 'AWS::Lambda::Function')
        .map((f) => f['Properties']['ReservedConcurrentExecutions'])
        .filter(Boolean)
        .sort(),
    ).toEqual([400, 500]);
  });

  it('reserves nothing by default', () => {
    expect(
      ofType(synth().resources, 'AWS::Lambda::Function').filter(
        (f) => f['Properties']['ReservedConcurrentExecutions'] !== undefined,
      ),
    ).toEqual([]);
  });
});

describe('the created user pool', () => {
  const clients = (resources: Record<string, Json>) =>
    ofType(resources, 'AWS::Cognito::UserPoolClient').map((c) => c['Properties'] as Json);

  it('has an app client with SRP only and OAuth off', () => {
    const [client, ...others] = clients(synth().resources);
    expect(others).toEqual([]);
    expect(client!['ExplicitAuthFlows'].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(client!['AllowedOAuthFlows']).toBeUndefined();
    expect(client!['CallbackURLs']).toBeUndefined();
    expect(client!['AllowedOAuthFlowsUserPoolClient']).not.toBe(true);
  });

  it('turns OAuth on only when asked', () => {
    const [client] = clients(
      synth({
        userPoolOAuth: { flows: { authorizationCodeGrant: true }, callbackUrls: ['https://chat.example.com/cb'] },
      }).resources,
    );
    expect(client!['AllowedOAuthFlows']).toEqual(['code']);
    expect(client!['CallbackURLs']).toEqual(['https://chat.example.com/cb']);
  });

  it('gives the smoke run its own client with USER_PASSWORD_AUTH, accepted by the authorizer', () => {
    const s = synth({ smokeTestClient: true });
    const all = clients(s.resources);
    expect(all.map((c) => c['ExplicitAuthFlows'].sort())).toEqual([
      ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH'],
      ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH'],
    ]);
    const audiences =
      s.resources[s.stack.getLogicalId(s.backend.functions.authorizer.node.defaultChild as never)]!['Properties'][
        'Environment'
      ]['Variables'][AUTH_ENV.audiences];
    expect(JSON.stringify(audiences)).toContain(
      s.stack.getLogicalId(s.backend.smokeTestClient!.node.defaultChild as never),
    );
    expect(() =>
      synth({ smokeTestClient: true, auth: { issuer: 'https://id.example.com', audiences: ['a'] } }),
    ).toThrow(/user pool the construct creates/);
  });

  it('sends its mail through SES when userPoolEmail is given', () => {
    const { template } = synth({
      userPoolEmail: cognito.UserPoolEmail.withSES({ fromEmail: 'no-reply@example.com', sesRegion: 'eu-west-1' }),
    });
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      EmailConfiguration: { EmailSendingAccount: 'DEVELOPER', From: 'no-reply@example.com' },
    });
  });

  it('sends through SES from the -c sesFromEmail key, in the stack region unless sesRegion says otherwise', () => {
    const { stack } = createApp({ context: { ...NO_BUNDLING, sesFromEmail: 'no-reply@example.com' } });
    const pool = Object.values(Template.fromStack(stack).findResources('AWS::Cognito::UserPool'))[0]!;
    expect(JSON.stringify(pool['Properties']['EmailConfiguration']['SourceArn'])).toContain('{"Ref":"AWS::Region"}');
  });
});

describe('deletion protection', () => {
  const bucketDeletionDenied = (resources: Record<string, Json>) =>
    ofType(resources, 'AWS::S3::BucketPolicy').some((p) =>
      (p['Properties']['PolicyDocument']['Statement'] as Json[]).some(
        (st) => st['Effect'] === 'Deny' && st['Action'] === 's3:DeleteBucket' && st['Principal']?.['AWS'] === '*',
      ),
    );

  it('protects every table, the user pool and the bucket of a retained stack (the default)', () => {
    const { resources } = synth();
    const tables = ofType(resources, 'AWS::DynamoDB::GlobalTable');
    expect(tables).toHaveLength(ALL_TABLES.length);
    for (const table of tables) expect(table['Properties']['Replicas'][0]['DeletionProtectionEnabled']).toBe(true);
    expect(ofType(resources, 'AWS::Cognito::UserPool')[0]!['Properties']['DeletionProtection']).toBe('ACTIVE');
    expect(bucketDeletionDenied(resources)).toBe(true);
  });

  it('protects nothing of a stack meant to be destroyed, unless asked', () => {
    const destroy = synth({ removalPolicy: RemovalPolicy.DESTROY }).resources;
    for (const table of ofType(destroy, 'AWS::DynamoDB::GlobalTable'))
      expect(table['Properties']['Replicas'][0]['DeletionProtectionEnabled']).toBe(false);
    expect(ofType(destroy, 'AWS::Cognito::UserPool')[0]!['Properties']['DeletionProtection']).toBe('INACTIVE');
    expect(bucketDeletionDenied(destroy)).toBe(false);
    expect(
      bucketDeletionDenied(synth({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true }).resources),
    ).toBe(true);
  });
});

describe('the deploy-time custom resource', () => {
  it('has a ServiceTimeout, so a setter that never answers fails the deploy in minutes, not an hour', () => {
    const [resource, ...others] = ofType(synth().resources, 'Custom::ApiGatewayCloudWatchRole');
    expect(others).toEqual([]);
    expect(resource!['Properties']['ServiceTimeout']).toBe(String(LOGS_ROLE_SERVICE_TIMEOUT.toSeconds()));
    expect(LOGS_ROLE_SERVICE_TIMEOUT.toMinutes()).toBeLessThanOrEqual(10);
  });
});

describe('alarms and monitoring levels', () => {
  const withPush = (props: ChatBackendProps = {}) => {
    const stack = newStack();
    const push = {
      webPush: {
        vapidKeysSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Vapid', 'chat/vapid'),
        subject: 'mailto:ops@example.com',
      },
    };
    const backend = new ChatBackend(stack, 'Chat', { push, ...props });
    return { stack, backend, resources: Template.fromStack(stack).toJSON()['Resources'] as Record<string, Json> };
  };

  it('alarms on the age of the push queue when push is on', () => {
    const { stack, backend, resources } = withPush({ alarmThresholds: { pushQueueAgeSeconds: 120 } });
    const age = ofType(resources, 'AWS::CloudWatch::Alarm').filter(
      (a) => a['Properties']['MetricName'] === 'ApproximateAgeOfOldestMessage',
    );
    expect(age).toHaveLength(1);
    expect(age[0]!['Properties']).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 120,
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [stack.getLogicalId(backend.push!.queue.node.defaultChild as never), 'QueueName'] },
        },
      ],
    });
  });

  it('minimal: no dashboard and no per-table alarms, but errors, throttles, WebSocket errors, give-ups, dead letters and push age', () => {
    const { backend, resources } = withPush({ monitoring: 'minimal' });
    expect(backend.dashboard).toBeUndefined();
    expect(ofType(resources, 'AWS::CloudWatch::Dashboard')).toEqual([]);
    const metrics = ofType(resources, 'AWS::CloudWatch::Alarm')
      .flatMap(alarmMetrics)
      .map((m) => m['MetricName'] as string);
    expect(new Set(metrics)).toEqual(
      new Set([
        'Errors',
        'Throttles',
        'IntegrationError',
        'ExecutionError',
        METRIC.deliveriesGivenUp,
        'ApproximateNumberOfMessagesVisible',
        'ApproximateAgeOfOldestMessage',
      ]),
    );
    expect(() => synth({ monitoring: 'none' as never })).toThrow(/monitoring must be one of full, minimal/);
  });
});
