/**
 * The construct's documented defaults are its defaults. Every `@default` of ChatBackend's props interfaces that
 * states a value (rather than `- what happens`) is read from the TSDoc and checked against the construct: the prop
 * set to that value synthesizes the same template as the prop left out. docs/deploy.md's props table states the same
 * defaults as the TSDoc, and core's documented defaults are the constants the code applies.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, DEFAULT_CLOCK_SKEW_SECONDS } from '../../core/auth/verify-token.js';
import { ChatBackend, type ChatBackendProps } from '../../lib/index.js';
import { LAMBDA_UNRESERVED_MINIMUM } from '../../lib/chat-backend.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Each optional member of an interface and the text of its `@default` tag (undefined when it has none). */
function documentedDefaults(path: string, name: string): Map<string, string | undefined> {
  const source = ts.createSourceFile(path, read(path), ts.ScriptTarget.Latest, true);
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  if (!declaration) throw new Error(`${path} declares no interface ${name}`);
  const defaults = new Map<string, string | undefined>();
  for (const member of declaration.members) {
    if (!ts.isPropertySignature(member) || !member.questionToken || !ts.isIdentifier(member.name)) continue;
    if (member.type?.kind === ts.SyntaxKind.NeverKeyword) continue;
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
    defaults.set(member.name.text, tag && ts.getTextOfJSDocComment(tag.comment)?.trim());
  }
  return defaults;
}

/** A stated default as a value: an expression (`4`, `'prod'`, `Duration.seconds(15)`), with an optional `(note)`. */
function evaluate(text: string, scope: Record<string, unknown> = {}): unknown {
  const expression = text.replace(/\s+\([^()]*\)$/, '');
  const names = ['Duration', 'RemovalPolicy', 'logs', ...Object.keys(scope)];
  return new Function(...names, `return (${expression});`)(Duration, RemovalPolicy, logs, ...Object.values(scope));
}

const isProse = (text: string) => text.startsWith('-');

type Resources = Record<string, unknown>;

function resources(props: (stack: Stack) => ChatBackendProps): Resources {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Probe');
  new ChatBackend(stack, 'Chat', props(stack));
  return Template.fromStack(stack).toJSON()['Resources'] as Resources;
}

/** The logical ids of the resources that differ: added, removed or changed. */
function differences(actual: Resources, expected: Resources): string[] {
  const ids = [...new Set([...Object.keys(actual), ...Object.keys(expected)])];
  return ids.filter((id) => JSON.stringify(actual[id]) !== JSON.stringify(expected[id]));
}

const secret = (stack: Stack, name: string) => secretsmanager.Secret.fromSecretNameV2(stack, name, name);
const apns = (stack: Stack) => ({
  signingKeySecret: secret(stack, 'apns'),
  keyId: 'ABCDE12345',
  teamId: 'TEAM123456',
  bundleId: 'com.example.chat',
});
const webPush = (stack: Stack) => ({ vapidKeysSecret: secret(stack, 'vapid'), subject: 'mailto:ops@example.com' });
const ISSUER = 'https://id.example.com';

interface PropsInterface {
  readonly file: string;
  readonly name: string;
  /** ChatBackend's props with these members of the interface set. */
  readonly props: (stack: Stack, members: Record<string, unknown>) => ChatBackendProps;
  /** Names the documented defaults may use (an expression such as `${issuer}/…`). */
  readonly scope?: Record<string, unknown>;
  /** Every optional member needs a `@default` (not so for the auth modes, whose members are required in use). */
  readonly everyMember?: false;
}

const INTERFACES: PropsInterface[] = [
  { file: 'lib/chat-backend.ts', name: 'ChatBackendProps', props: (_, m) => m },
  {
    file: 'lib/push-notifications.ts',
    name: 'ChatPushProps',
    props: (stack, m) => ({ push: { webPush: webPush(stack), ...m } }),
  },
  {
    file: 'lib/push-notifications.ts',
    name: 'ApnsPushProps',
    props: (stack, m) => ({ push: { apns: { ...apns(stack), ...m } } }),
  },
  {
    file: 'lib/push-notifications.ts',
    name: 'WebPushProps',
    props: (stack, m) => ({ push: { webPush: { ...webPush(stack), ...m } } }),
  },
  { file: 'lib/monitoring.ts', name: 'AlarmThresholds', props: (_, m) => ({ alarmThresholds: m }) },
  {
    file: 'lib/identity.ts',
    name: 'OidcAuthProps',
    props: (_, m) => ({ auth: { issuer: ISSUER, audiences: ['app'], ...m } }),
    scope: { issuer: ISSUER },
    everyMember: false,
  },
];

/** The path the token verifier fetches an issuer's keys from when it is given no JWKS URL. */
async function jwksPathFetched(): Promise<string | undefined> {
  let path: string | undefined;
  const server = createServer((req, res) => {
    path = req.url;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const part = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const token = `${part({ alg: 'RS256', kid: 'k' })}.${part({ sub: 'alice' })}.c2ln`;
    await createTokenVerifier({ issuer, audiences: ['app'] })(token).catch(() => undefined);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return path;
}

/**
 * Defaults the template cannot show, each checked by what it does instead: the account quota only bounds the
 * reservations; the authorizer gets JWT_CLOCK_SKEW_SECONDS and JWT_JWKS_URL only when the props are set, and the
 * token verifier applies its own defaults, which must be the documented ones.
 */
const BEHAVIOUR: Record<string, (value: unknown) => void | Promise<void>> = {
  'ChatBackendProps.accountConcurrencyLimit': (quota) => {
    const reserving = (send: number) => () => resources(() => ({ reservedConcurrency: { send } }));
    expect(reserving((quota as number) - LAMBDA_UNRESERVED_MINIMUM)).not.toThrow();
    expect(reserving((quota as number) - LAMBDA_UNRESERVED_MINIMUM + 1)).toThrow(/accountConcurrencyLimit/);
  },
  'ChatBackendProps.tokenClockSkew': (skew) => expect((skew as Duration).toSeconds()).toBe(DEFAULT_CLOCK_SKEW_SECONDS),
  'OidcAuthProps.jwksUrl': async (url) => {
    expect(await jwksPath).toBe(new URL(url as string).pathname);
  },
};

const stated = INTERFACES.flatMap((face) =>
  [...documentedDefaults(face.file, face.name)].map(([member, text]) => ({ face, member, text })),
);

// Fetched once, before the synths of this file run: after them the verifier's first fetch has been seen to miss its
// 5 s timeout on a loaded machine.
let jwksPath: Promise<string | undefined>;
beforeAll(() => {
  jwksPath = jwksPathFetched();
});

describe('the documented defaults of the construct props', () => {
  it('finds the props, pendingShards among them', () => {
    expect(stated.map((s) => `${s.face.name}.${s.member}`)).toEqual(
      expect.arrayContaining([
        'ChatBackendProps.pendingShards',
        'ChatPushProps.maxAttempts',
        'AlarmThresholds.apiErrors',
      ]),
    );
  });

  it.each(
    stated.filter((s) => s.face.everyMember !== false).map((s) => [`${s.face.name}.${s.member}`, s.text] as const),
  )('%s has a @default', (_, text) => {
    expect(text).toBeTruthy();
  });

  const valued = stated.filter((s) => s.text && !isProse(s.text));
  const byBehaviour = valued.filter((s) => BEHAVIOUR[`${s.face.name}.${s.member}`]);
  it.each(
    byBehaviour.map((s) => [`${s.face.name}.${s.member}`, s.text!, s.face] as const),
  )('%s: @default %s is what the code does without it', async (key, text, face) => {
    await BEHAVIOUR[key]!(evaluate(text, face.scope));
  });

  // One synth with every stated default set, against one without: on a difference, one synth per member names it.
  it.each(
    INTERFACES.map((face) => [face.name, face] as const),
  )('%s: every @default stating a value is what the construct does without it', (_, face) => {
    const members = valued.filter((s) => s.face === face && !byBehaviour.includes(s));
    const values = Object.fromEntries(members.map((s) => [s.member, evaluate(s.text!, face.scope)]));
    const baseline = resources((stack) => face.props(stack, {}));
    if (
      differences(
        resources((stack) => face.props(stack, values)),
        baseline,
      ).length === 0
    )
      return;
    const wrong = members.flatMap(({ member, text }) => {
      const diff = differences(
        resources((stack) => face.props(stack, { [member]: values[member] })),
        baseline,
      );
      return diff.length === 0 ? [] : [`${member}: @default ${text}, but set so it changes ${diff.join(', ')}`];
    });
    expect(wrong).toEqual([]);
  });
});

/** `| \`prop\` | default | …` rows of docs/deploy.md's ChatBackend props table (the one that starts at `auth`). */
function deployGuideDefaults(): Map<string, string> {
  const lines = read('docs/deploy.md').split('\n');
  const start = lines.findIndex((l) => l.startsWith('| `auth` |'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return new Map(
    lines.slice(start, end).flatMap((l) => {
      const m = /^\| `(\w+)` \| ([^|]*) \|/.exec(l);
      return m ? [[m[1]!, m[2]!.trim()] as const] : [];
    }),
  );
}

/** Whether the guide's wording of a default (`15 s`, `one month`, `` `'full'` ``, 1000 rps / 2000 burst) is the value. */
function says(text: string, value: unknown): boolean {
  const plain = text.replace(/[`']/g, '').replace(/\s+\([^()]*\)$/, '');
  if (value instanceof Duration) {
    const m = /^(\d+) (s|seconds?|minutes?)$/.exec(plain);
    return m !== null && Number(m[1]) * (m[2]!.startsWith('m') ? 60_000 : 1000) === value.toMilliseconds();
  }
  if (value === logs.RetentionDays.ONE_MONTH) return plain === 'one month';
  if (typeof value === 'object' && value !== null) {
    const leaves = Object.values(value).map(String);
    return leaves.every((leaf) => plain.includes(leaf));
  }
  return plain.toLowerCase() === String(value).toLowerCase();
}

describe("docs/deploy.md's props table", () => {
  const guide = deployGuideDefaults();
  const props = stated.filter((s) => s.face.name === 'ChatBackendProps');

  it('has a row for every prop', () => {
    expect([...guide.keys()].sort()).toEqual(props.map((s) => s.member).sort());
  });

  it.each(
    props.filter((s) => s.text && !isProse(s.text)).map((s) => [s.member, s.text!] as const),
  )('%s: the default of the TSDoc, %s', (member, text) => {
    expect(says(guide.get(member) ?? '', evaluate(text)), `docs/deploy.md: ${guide.get(member)}`).toBe(true);
  });

  it('alarmThresholds: the defaults of AlarmThresholds', () => {
    const thresholds = Object.fromEntries(
      stated.filter((s) => s.face.name === 'AlarmThresholds').map((s) => [s.member, evaluate(s.text!)]),
    );
    expect(evaluate(guide.get('alarmThresholds')!.replace(/`/g, ''))).toEqual(thresholds);
  });
});

describe("core's documented defaults", () => {
  it('TokenVerifierOptions.clockSkewSeconds is DEFAULT_CLOCK_SKEW_SECONDS', () => {
    const text = documentedDefaults('core/auth/verify-token.ts', 'TokenVerifierOptions').get('clockSkewSeconds');
    expect(evaluate(text!)).toBe(DEFAULT_CLOCK_SKEW_SECONDS);
  });
});
