/**
 * The synthesized templates checked by cfn-lint, AWS's CloudFormation linter: every resource against the
 * CloudFormation resource schemas (property names, types, enums, ranges, patterns), IAM policies against the
 * service authorization reference (an action that does not exist, such as `dynamodb:TransactWriteItems`, grants
 * nothing and fails only at run time), deprecated Lambda runtimes. cdk-nag checks practices; this checks validity,
 * offline. It needs the cfn-lint command (`pip install cfn-lint`; .ci/run installs it).
 *
 * Checks left out, each with the reason:
 * - W3005 (DependsOn already implied by a GetAtt): CDK adds explicit dependencies its own way; harmless.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../lib/app.js';
import { ChatBackend } from '../lib/chat-backend.js';

const run = promisify(execFile);
const IGNORED = ['W3005'];
const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context;
const NO_BUNDLING = { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] };

interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'teamtalk-lint-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** cfn-lint's findings for some templates (JSON output); fails the test if cfn-lint cannot run. */
async function lint(templates: Record<string, unknown>): Promise<Finding[]> {
  const files = Object.entries(templates).map(([name, template]) => {
    const file = join(dir, `${name}.template.json`);
    writeFileSync(file, JSON.stringify(template));
    return file;
  });
  const args = ['--format', 'json', '--ignore-checks', ...IGNORED, '--', ...files];
  // The cfn-lint command, or the module where pip put no script on the PATH.
  for (const [command, prefix] of [
    ['cfn-lint', []],
    ['python3', ['-m', 'cfnlint']],
  ] as const) {
    try {
      const { stdout } = await run(command, [...prefix, ...args], { maxBuffer: 32 * 1024 * 1024 });
      return JSON.parse(stdout || '[]') as Finding[];
    } catch (error) {
      const failed = error as { code?: number | string; stdout?: string; stderr?: string };
      // cfn-lint exits non-zero when it finds something; its JSON is on stdout.
      if (typeof failed.code === 'number' && failed.stdout) return JSON.parse(failed.stdout) as Finding[];
      const missing = failed.code === 'ENOENT' || /No module named cfnlint/.test(failed.stderr ?? '');
      if (!missing) throw error;
    }
  }
  throw new Error('cfn-lint is not installed: pip install cfn-lint (.ci/run installs it)');
}

const describeFindings = (findings: readonly Finding[]) =>
  findings.map((f) => `${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`);

describe('cfn-lint on the synthesized templates', () => {
  it('finds nothing in the default stack, the stack with every option, or a stack with two backends', async () => {
    // The two cover every resource kind: the logs role setter (default), AWS::ApiGateway::Account, the alarm topic
    // and its key, X-Ray, an OIDC issuer (every option). Template.fromStack skips the cdk-nag plugin (stack.test.ts).
    const every = createApp({
      context: {
        ...NO_BUNDLING,
        oidcIssuer: 'https://login.example.com',
        oidcAudience: 'web',
        alarmEmail: 'ops@example.com',
        tracing: 'true',
        messageRetentionDays: '30',
        apiGatewayLogsRole: 'overwrite',
      },
    });
    // Two backends in one stack: their dashboards must not share a name (E3019).
    const shared = new Stack(new App({ context: NO_BUNDLING }), 'Shared');
    new ChatBackend(shared, 'Chat');
    new ChatBackend(shared, 'Support');
    // The production context keys: smoke client, SES mail, push from secrets, minimal monitoring, stage throttle.
    const cli = createApp({
      context: {
        ...NO_BUNDLING,
        smokeTestClient: 'true',
        sesFromEmail: 'no-reply@example.com',
        pushFcmSecret: 'chat/fcm',
        pushWebPushSecret: 'chat/vapid',
        pushWebPushSubject: 'mailto:ops@example.com',
        monitoring: 'minimal',
        stageRateLimit: '3000',
      },
    });
    const findings = await lint({
      default: Template.fromStack(createApp({ context: NO_BUNDLING }).stack).toJSON(),
      every: Template.fromStack(every.stack).toJSON(),
      two: Template.fromStack(shared).toJSON(),
      cli: Template.fromStack(cli.stack).toJSON(),
    });
    expect(describeFindings(findings)).toEqual([]);
    // A hang guard, not a speed bound: four syntheses and cfn-lint take 2 minutes on 2 cores shared with other work.
  }, 600_000);

  it('catches what the other tests do not: an IAM action that does not exist, an enum value, a deprecated runtime', async () => {
    const findings = await lint({
      probe: {
        Resources: {
          Role: {
            Type: 'AWS::IAM::Role',
            Properties: {
              AssumeRolePolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
                ],
              },
              Policies: [
                {
                  PolicyName: 'p',
                  PolicyDocument: {
                    Version: '2012-10-17',
                    Statement: [{ Effect: 'Allow', Action: ['dynamodb:TransactWriteItems'], Resource: '*' }],
                  },
                },
              ],
            },
          },
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Runtime: 'nodejs16.x',
              Handler: 'index.handler',
              Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
              Code: { ZipFile: 'exports.handler = async () => {}' },
              LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'VERBOSE' },
            },
          },
        },
      },
    });
    expect(new Set(findings.map((f) => f.Rule.Id))).toEqual(new Set(['W3037', 'E3030', 'E2533']));
  }, 60_000);
});
