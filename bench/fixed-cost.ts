/**
 * What a deployment costs a month before its first message: read off the synthesized template, priced with
 * bench/prices.ts. CloudWatch bills every metric an alarm reads (a metric-math alarm pays for each metric in its
 * expression) and every dashboard, every month; KMS bills the alarm topic's key; Secrets Manager the push
 * credentials the sender may read. Everything else of the stack bills per use: on-demand tables, Lambda, API Gateway,
 * SQS, S3 and Cognito cost nothing idle, custom (EMF) metrics are billed only in hours they are published (the
 * handlers publish none at zero), and the sweeper's empty runs are the benchmark's (≈ $0.015 a month).
 *
 * `npx tsx bench/fixed-cost.ts` prints the table of docs/deploy.md "Fixed monthly cost"; test/docs/fixed-cost.test.ts
 * synthesizes the same variants and checks that table and the README's figures against it.
 */
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../lib/app.js';
import { PRICES } from './prices.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
// biome-ignore lint/suspicious/noExplicitAny: synthesized JSON is walked freely; the assertions check its shape.
type Json = Record<string, any>;

export interface FixedCost {
  readonly alarms: number;
  /** Metrics the alarms read: what CloudWatch bills. */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  /** Secrets the template's roles may read (GetSecretValue): the push credentials. */
  readonly secrets: number;
  /** $ a month. */
  readonly total: number;
}

/** Metrics one alarm reads: its own metric, or each MetricStat of its metric math. */
function metricsOf(alarm: Json): number {
  const props = alarm['Properties'] as Json;
  return props['MetricName'] ? 1 : (props['Metrics'] as Json[]).filter((m) => m['MetricStat']).length;
}

/** Distinct resources of the statements that allow secretsmanager:GetSecretValue. */
function readableSecrets(resources: Json[]): number {
  const secrets = new Set<string>();
  for (const r of resources.filter((x) => x['Type'] === 'AWS::IAM::Policy')) {
    for (const statement of r['Properties']['PolicyDocument']['Statement'] as Json[]) {
      if (![statement['Action']].flat().includes('secretsmanager:GetSecretValue')) continue;
      for (const resource of [statement['Resource']].flat()) secrets.add(JSON.stringify(resource));
    }
  }
  return secrets.size;
}

export function fixedMonthlyCost(template: Json): FixedCost {
  const resources = Object.values(template['Resources'] as Record<string, Json>);
  const ofType = (type: string) => resources.filter((r) => r['Type'] === type);
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((sum, alarm) => sum + metricsOf(alarm), 0);
  const dashboards = ofType('AWS::CloudWatch::Dashboard').length;
  const kmsKeys = ofType('AWS::KMS::Key').length;
  const secrets = readableSecrets(resources);
  const total =
    alarmMetrics * PRICES.cloudwatch.perAlarmMetricMonth +
    dashboards * PRICES.cloudwatch.perDashboardMonth +
    kmsKeys * PRICES.kms.perKeyMonth +
    secrets * PRICES.secretsManager.perSecretMonth;
  return { alarms: alarms.length, alarmMetrics, dashboards, kmsKeys, secrets, total: Math.round(total * 100) / 100 };
}

const PUSH_CONTEXT = {
  pushFcmSecret: 'chat/fcm',
  pushApnsSecret: 'chat/apns',
  pushApnsKeyId: 'ABC123DEFG',
  pushApnsTeamId: 'DEF123GHIJ',
  pushApnsBundleId: 'com.example.chat',
  pushWebPushSecret: 'chat/vapid',
  pushWebPushSubject: 'mailto:ops@example.com',
};

/** The deployments docs/deploy.md prices, by the `-c` keys that make them. */
export const FIXED_COST_VARIANTS: readonly {
  readonly name: string;
  readonly context: Readonly<Record<string, string>>;
}[] = [
  { name: 'default (`monitoring` full)', context: {} },
  { name: 'default + `alarmEmail`', context: { alarmEmail: 'ops@example.com' } },
  { name: '`monitoring=minimal`', context: { monitoring: 'minimal' } },
  { name: '`monitoring=minimal` + `alarmEmail`', context: { monitoring: 'minimal', alarmEmail: 'ops@example.com' } },
  { name: 'push with FCM, APNs and Web Push', context: PUSH_CONTEXT },
  {
    name: '`monitoring=minimal` + push with FCM, APNs and Web Push',
    context: { monitoring: 'minimal', ...PUSH_CONTEXT },
  },
];

/** The stack `cdk synth` makes with these context keys (bundling skipped: it does not change the template's cost). */
export function synthesizedTemplate(
  context: Readonly<Record<string, string>>,
  cdkContext: Readonly<Record<string, unknown>> = {},
): Json {
  const { stack } = createApp({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(stack).toJSON();
}

const dollars = (value: number) => `$${value.toFixed(2)}`;

/** The markdown rows of docs/deploy.md's table: variant | alarms (metrics) | dashboards | KMS keys | secrets | $ a month. */
export function fixedCostRow(name: string, cost: FixedCost): string {
  return `| ${name} | ${cost.alarms} (${cost.alarmMetrics} metrics) | ${cost.dashboards} | ${cost.kmsKeys} | ${cost.secrets} | ${dollars(cost.total)} |`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const variant of FIXED_COST_VARIANTS)
    console.log(fixedCostRow(variant.name, fixedMonthlyCost(synthesizedTemplate(variant.context))));
}
