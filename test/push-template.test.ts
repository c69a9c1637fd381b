/**
 * ChatBackend with `push`: the rule → queue (SSL-only, encrypted, DLQ) → sender (partial batch failures) path,
 * secrets only by ARN, the sender's grants exactly lib/grants.ts PUSH_SENDER_ACCESS plus GetSecretValue on the
 * configured secrets, metrics on the dashboard, and no unacknowledged cdk-nag finding. Bundling is skipped, as in
 * test/stack.test.ts.
 */
import { readFileSync } from 'node:fs';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENV } from '../core/config.js';
import { PUSH_METRIC } from '../core/observability.js';
import { TABLES, type TableId } from '../core/store/schema.js';
import { PUSH_ENV } from '../lambdas/push-sender/providers.js';
import { PUSH_SENDER_ACCESS } from '../lib/grants.js';
import { ChatBackend, type ChatPushProps } from '../lib/index.js';

const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context;
// biome-ignore lint/suspicious/noExplicitAny: synthesized JSON is walked freely; the assertions check its shape.
type Json = Record<string, any>;

function synth(push: (stack: Stack) => ChatPushProps | undefined) {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'PushProbe', { env: { account: '111111111111', region: 'eu-west-1' } });
  const pushProps = push(stack);
  const backend = new ChatBackend(stack, 'Chat', { ...(pushProps ? { push: pushProps } : {}) });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  const template = Template.fromStack(stack);
  return { app, stack, backend, nag, template, resources: template.toJSON()['Resources'] as Record<string, Json> };
}

const allProviders = (stack: Stack): ChatPushProps => ({
  fcm: { serviceAccountSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Fcm', 'chat/fcm-service-account') },
  apns: {
    signingKeySecret: secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Apns',
      'arn:aws:secretsmanager:eu-west-1:111111111111:secret:chat/apns-key-AbCdEf',
    ),
    keyId: 'ABC123DEFG',
    teamId: 'TEAM123456',
    bundleId: 'com.example.chat',
  },
  webPush: {
    vapidKeysSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Vapid', 'chat/vapid'),
    subject: 'mailto:ops@example.com',
  },
  maxRetryWait: Duration.seconds(5),
});

describe('ChatBackend push', () => {
  const s = synth(allProviders);
  const logicalId = (c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as never);
  const fnId = logicalId(s.backend.push!.function);
  const fn = s.resources[fnId]!['Properties'] as Json;

  it('routes undelivered-message events from the bus to the queue', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['teamtalk-serverless'],
        'detail-type': ['Message Undelivered', 'Device Token Challenge', 'Account Export Ready'],
      },
      Targets: [{ Arn: { 'Fn::GetAtt': [logicalId(s.backend.push!.queue), 'Arn'] } }],
    });
  });

  it('keeps the queue and its DLQ encrypted and SSL-only, with a redrive after 5 receipts', () => {
    const queue = s.resources[logicalId(s.backend.push!.queue)]!['Properties'] as Json;
    expect(queue['SqsManagedSseEnabled']).toBe(true);
    expect(queue['RedrivePolicy']).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(s.backend.push!.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue['VisibilityTimeout']).toBe(6 * fn['Timeout']);
    const denials = Object.values(s.resources).filter(
      (r) => r['Type'] === 'AWS::SQS::QueuePolicy' && JSON.stringify(r).includes('"aws:SecureTransport":"false"'),
    );
    expect(denials.length).toBeGreaterThanOrEqual(2);
  });

  it('feeds the sender in batches and lets it report partial batch failures', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: { Ref: fnId },
    });
  });

  it('caps the sender’s concurrency, so pushes never take what send and ack need', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const raised = synth((stack) => ({ ...allProviders(stack), maxConcurrency: 20 }));
    raised.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    expect(() => synth((stack) => ({ ...allProviders(stack), maxConcurrency: 1 }))).toThrow(/maxConcurrency/);
  });

  it('gives the sender the secrets’ ARNs and its settings, never a secret value', () => {
    const env = fn['Environment']['Variables'] as Json;
    expect(env[PUSH_ENV.apnsKeySecret]).toBe(
      'arn:aws:secretsmanager:eu-west-1:111111111111:secret:chat/apns-key-AbCdEf',
    );
    expect(JSON.stringify(env[PUSH_ENV.fcmSecret])).toContain('chat/fcm-service-account');
    expect(env).toMatchObject({
      [PUSH_ENV.apnsKeyId]: 'ABC123DEFG',
      [PUSH_ENV.apnsProduction]: 'true',
      [PUSH_ENV.vapidSubject]: 'mailto:ops@example.com',
    });
    expect(env).toMatchObject({
      [ENV.pushMaxAttempts]: '3',
      [ENV.pushMaxRetryWaitMs]: '5000',
      [ENV.pushCollapseWindowMs]: '30000',
      [ENV.pushSenderBudgetPerMinute]: '1000',
    });
    const tableVars = Object.values(TABLES)
      .map((t) => t.envVar)
      .filter((v) => v in env)
      .sort();
    expect(tableVars).toEqual(
      (Object.keys(PUSH_SENDER_ACCESS.tables) as TableId[]).map((t) => TABLES[t].envVar).sort(),
    );
    expect(JSON.stringify(s.template.toJSON())).not.toMatch(/PRIVATE KEY|privateKey/);
  });

  it('grants exactly PUSH_SENDER_ACCESS on the tables and GetSecretValue on the three secrets', () => {
    const role = fn['Role']['Fn::GetAtt'][0] as string;
    const statements = Object.values(s.resources)
      .filter(
        (r) => r['Type'] === 'AWS::IAM::Policy' && (r['Properties']['Roles'] as Json[]).some((x) => x['Ref'] === role),
      )
      .flatMap((r) => r['Properties']['PolicyDocument']['Statement'] as Json[]);
    const tableActions = statements.filter((st) => JSON.stringify(st['Action']).includes('dynamodb:'));
    // CDK merges statements with the same actions: compare per table ARN.
    const granted = new Map<string, string[]>();
    for (const st of tableActions) {
      for (const resource of [st['Resource']].flat() as Json[]) {
        const table = resource['Fn::GetAtt'][0] as string;
        granted.set(table, [...(granted.get(table) ?? []), ...[st['Action']].flat()].sort());
      }
    }
    const expected = new Map(
      Object.entries(PUSH_SENDER_ACCESS.tables).map(([t, actions]) => [
        logicalId(s.backend.tables[t as TableId]),
        [...actions!].sort(),
      ]),
    );
    expect(granted).toEqual(expected);
    const secretStatements = statements.filter((st) => JSON.stringify(st['Action']).includes('secretsmanager:'));
    const secretActions = new Set(secretStatements.flatMap((st) => [st['Action']].flat()));
    expect([...secretActions].sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(secretStatements.flatMap((st) => [st['Resource']].flat())).toHaveLength(3);
    const other = statements.filter((st) => !tableActions.includes(st) && !secretStatements.includes(st));
    expect(other.flatMap((st) => [st['Action']].flat()).filter((a) => !/^(logs|sqs):/.test(a))).toEqual([]);
  });

  it('puts pushes sent, failed and tokens removed on the dashboard, and alarms on the push DLQ', () => {
    const body = JSON.stringify(
      s.resources[s.stack.getLogicalId(s.backend.dashboard!.node.defaultChild as never)]!['Properties'][
        'DashboardBody'
      ],
    );
    for (const name of [PUSH_METRIC.pushesSent, PUSH_METRIC.pushesFailed, PUSH_METRIC.pushTokensRemoved])
      expect(body).toContain(name);
    const dlqAlarm = Object.values(s.resources).some(
      (r) =>
        r['Type'] === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r['Properties']).includes(logicalId(s.backend.push!.deadLetterQueue)),
    );
    expect(dlqAlarm).toBe(true);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    const { violations } = s.nag.validateScope(s.app);
    expect(
      violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`),
    ).toEqual([]);
  });

  it('adds nothing without `push`, and refuses a push with no provider', () => {
    const plain = synth(() => undefined);
    expect(plain.backend.push).toBeUndefined();
    expect(
      Object.values(plain.resources).filter(
        (r) => r['Type'] === 'AWS::Events::Rule' && JSON.stringify(r).includes('Message Undelivered'),
      ),
    ).toEqual([]);
    expect(() => synth(() => ({}))).toThrow(/at least one of fcm, apns, webPush/);
    expect(() => synth((stack) => ({ ...allProviders(stack), maxAttempts: 0 }))).toThrow(/maxAttempts/);
  });
});

describe('two ChatBackends with push in one account (staging and production)', () => {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TwoBackends', { env: { account: '111111111111', region: 'eu-west-1' } });
  const backends = ['Staging', 'Production'].map(
    (id) =>
      new ChatBackend(stack, id, {
        serviceName: id,
        dashboardName: id,
        push: {
          webPush: {
            vapidKeysSecret: secretsmanager.Secret.fromSecretNameV2(stack, `Vapid${id}`, `chat/${id}/vapid`),
            subject: 'mailto:ops@example.com',
          },
        },
      }),
  );
  const resources = Template.fromStack(stack).toJSON()['Resources'] as Record<string, Json>;
  const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  /** The bus a rule listens on and the bus each publishing function puts its events on, as template values. */
  const wiring = (backend: ChatBackend) => {
    const rule = resources[idOf(backend.push!.rule)]!['Properties'] as Json;
    const publishers = (['send', 'sweeper', 'devices'] as const).map(
      (fn) =>
        (resources[idOf(backend.functions[fn])]!['Properties'] as Json)['Environment']['Variables'][ENV.eventBusName],
    );
    return {
      ruleBus: JSON.stringify(rule['EventBusName'] ?? 'default'),
      publishedTo: publishers.map((p) => JSON.stringify(p)),
      pattern: rule['EventPattern'],
    };
  };

  it('each push rule listens on the bus only its own functions publish to, so neither stack consumes the other’s events', () => {
    const [staging, production] = backends.map(wiring) as [ReturnType<typeof wiring>, ReturnType<typeof wiring>];
    for (const w of [staging, production]) {
      expect(w.publishedTo).toEqual([w.ruleBus, w.ruleBus, w.ruleBus]);
      expect(w.pattern).toEqual({
        source: ['teamtalk-serverless'],
        'detail-type': ['Message Undelivered', 'Device Token Challenge', 'Account Export Ready'],
      });
    }
    expect(staging.ruleBus).not.toBe(production.ruleBus);
    expect(staging.ruleBus).not.toBe(JSON.stringify('default'));
  });

  it('lets each stack put events on its own bus only', () => {
    for (const backend of backends) {
      const role = (resources[idOf(backend.functions.send)]!['Properties'] as Json)['Role']['Fn::GetAtt'][0] as string;
      const putEvents = Object.values(resources)
        .filter(
          (r) =>
            r['Type'] === 'AWS::IAM::Policy' && (r['Properties']['Roles'] as Json[]).some((x) => x['Ref'] === role),
        )
        .flatMap((r) => r['Properties']['PolicyDocument']['Statement'] as Json[])
        .filter((st) => [st['Action']].flat().includes('events:PutEvents'));
      expect(putEvents.flatMap((st) => [st['Resource']].flat()).map((r) => JSON.stringify(r))).toEqual([
        JSON.stringify({ 'Fn::GetAtt': [idOf(backend.eventBus as never), 'Arn'] }),
      ]);
    }
  });
});
