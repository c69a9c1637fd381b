/**
 * `npm run smoke -- --url <ws(s) url> …`: the check a team runs after `cdk deploy` (or against `npm start`) to know
 * the deployment works end to end. Two users, from one of:
 * - two tokens: `--token-a <jwt> --token-b <jwt>` (or SMOKE_TOKEN_A / SMOKE_TOKEN_B);
 * - two Cognito users it signs in (USER_PASSWORD_AUTH, through the stack's smoke client: `-c smokeTestClient=true`,
 *   output SmokeTestClientId): `--client-id <smoke client> --user-a <name> --user-b <name>`
 *   with the passwords in SMOKE_PASSWORD_A / SMOKE_PASSWORD_B (or `--password-a/-b`, visible in `ps`);
 * - local mode: `--local`, minting tokens with JWT_SECRET (or `--jwt-secret`) for two fresh users.
 * Prints one PASS/FAIL/SKIP line per step and exits 1 on any failure (2 on a usage error). With `--cleanup`, deletes
 * what the two users left in the deployment afterwards (smoke/cleanup.ts) and prints one CLEANUP line.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { createDocumentClient } from '../core/store/document-client.js';
import { DEFAULT_JWT_SECRET, mintToken } from '../local/token.js';
import { cleanUpSmokeData, cleanupTargetFromOutputs, type CleanupReport, type CleanupTarget } from './cleanup.js';
import { runSmoke, type SmokeUser, type StepResult } from './steps.js';

export const USAGE = `usage: npm run smoke -- --url <wss://…/stage | ws://127.0.0.1:8787> (tokens | Cognito users | --local) [options]

users (two of them; the user id is each token's sub):
  --token-a <jwt> --token-b <jwt>          tokens of two users (or SMOKE_TOKEN_A, SMOKE_TOKEN_B)
  --client-id <id> --user-a <name> --user-b <name>
                                           sign two Cognito users in (USER_PASSWORD_AUTH) through the stack's
                                           smoke client (output SmokeTestClientId); passwords in
                                           SMOKE_PASSWORD_A, SMOKE_PASSWORD_B (or --password-a, --password-b)
  --region <region>                        the user pool's region (default: the one in --url)
  --local                                  local mode: mint tokens with JWT_SECRET (default ${DEFAULT_JWT_SECRET})
  --jwt-secret <secret>                    local mode with this secret

options:
  --cleanup <outputs.json>                 afterwards, delete everything the two (test) users have: their sessions,
                                           conversations among them, their groups, messages and attachments, in the
                                           tables and bucket of these stack outputs (aws cloudformation
                                           describe-stacks --query 'Stacks[0].Outputs'); uses your AWS credentials
  --skip-redelivery                        skip the redelivery step (on AWS it waits up to ~75 s)
  --redelivery-timeout <seconds>           how long to wait for a redelivery (default 120)
  --timeout <seconds>                      how long any other reply may take (default 15)`;

export interface SmokeIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Cognito's API, for tests; the global fetch by default. */
  readonly fetch?: typeof fetch;
  /** Runs the clean-up, for tests; the deployment's DynamoDB and S3 in `region` by default. */
  readonly cleanup?: (
    target: CleanupTarget,
    users: readonly [string, string],
    groupIds: readonly string[],
    region: string | undefined,
  ) => Promise<CleanupReport>;
}

class UsageError extends Error {}

/** Runs the smoke from command-line arguments; resolves with the exit code. */
export async function main(argv: readonly string[], io: SmokeIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        'token-a': { type: 'string' },
        'token-b': { type: 'string' },
        'client-id': { type: 'string' },
        'user-a': { type: 'string' },
        'user-b': { type: 'string' },
        'password-a': { type: 'string' },
        'password-b': { type: 'string' },
        region: { type: 'string' },
        cleanup: { type: 'string' },
        local: { type: 'boolean' },
        'jwt-secret': { type: 'string' },
        'skip-redelivery': { type: 'boolean' },
        'redelivery-timeout': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
    if (values['help']) {
      io.out(USAGE);
      return 0;
    }
    const url = values['url'];
    if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new UsageError('--url must be a ws:// or wss:// URL');
    const cleanupTarget = typeof values['cleanup'] === 'string' ? readCleanupTarget(values['cleanup']) : undefined;
    const users = await resolveUsers(values, url, io);
    const groupIds: string[] = [];
    const results = await runSmoke({
      url,
      users,
      redeliveryTimeoutMs: values['skip-redelivery']
        ? false
        : seconds(values['redelivery-timeout'], 120, '--redelivery-timeout'),
      replyTimeoutMs: seconds(values['timeout'], 15, '--timeout'),
      onResult: (result) => io.out(formatResult(result)),
      onGroupCreated: (groupId) => groupIds.push(groupId),
    });
    const failed = results.filter((r) => r.outcome === 'fail').length;
    io.out(
      failed === 0
        ? `smoke: all ${results.length - skipped(results)} steps passed`
        : `smoke: ${failed} of ${results.length} steps failed`,
    );
    if (cleanupTarget) {
      const region = typeof values['region'] === 'string' ? values['region'] : regionOf(url);
      const report = await (io.cleanup ?? awsCleanup)(
        cleanupTarget,
        [users[0].userId, users[1].userId],
        groupIds,
        region,
      );
      io.out(formatCleanup(report));
    }
    return failed === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`smoke: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

const skipped = (results: readonly StepResult[]) => results.filter((r) => r.outcome === 'skip').length;

const regionOf = (url: string) => /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];

function readCleanupTarget(path: string): CleanupTarget {
  let outputs: unknown;
  try {
    outputs = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--cleanup ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(outputs))
    throw new UsageError(`--cleanup ${path}: expected the stack outputs, a JSON array of {OutputKey, OutputValue}`);
  try {
    return cleanupTargetFromOutputs(outputs as { OutputKey?: string; OutputValue?: string }[]);
  } catch (error) {
    throw new UsageError(`--cleanup ${path}: ${(error as Error).message}`);
  }
}

/** The clean-up against the deployment, with the credentials of the shell (AWS's default chain). */
async function awsCleanup(
  target: CleanupTarget,
  users: readonly [string, string],
  groupIds: readonly string[],
  region: string | undefined,
): Promise<CleanupReport> {
  const s3 = new S3Client(region ? { region } : {});
  try {
    return await cleanUpSmokeData({ db: createDocumentClient(region ? { region } : {}), s3 }, target, users, groupIds);
  } finally {
    s3.destroy();
  }
}

export function formatCleanup(report: CleanupReport): string {
  const kept =
    report.kept.length > 0
      ? `; kept ${report.kept.length} conversation(s) with other users: ${report.kept.join(', ')}`
      : '';
  return `CLEANUP deleted ${report.conversations} conversation(s) with ${report.messages} message(s), ${report.groups} group(s), ${report.userRows} user row(s), ${report.objects} attachment object(s)${kept}`;
}

export function formatResult(result: StepResult): string {
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.outcome];
  return `${label} ${result.step.padEnd(22)} ${result.detail}${result.outcome === 'skip' ? '' : ` (${result.ms} ms)`}`;
}

function seconds(raw: string | boolean | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name} must be a positive number of seconds`);
  return value * 1000;
}

async function resolveUsers(
  values: Record<string, string | boolean | undefined>,
  url: string,
  io: SmokeIo,
): Promise<[SmokeUser, SmokeUser]> {
  const str = (name: string, envName?: string) => {
    const value = values[name];
    return typeof value === 'string' && value !== '' ? value : envName ? io.env[envName] || undefined : undefined;
  };
  const tokens = [str('token-a', 'SMOKE_TOKEN_A'), str('token-b', 'SMOKE_TOKEN_B')];
  const cognitoUsers = [str('user-a'), str('user-b')];
  const local = values['local'] === true || str('jwt-secret') !== undefined;
  const modes = [tokens.some(Boolean), cognitoUsers.some(Boolean), local].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give the users one way: two tokens, two Cognito users, or --local');

  if (local) {
    const secret = str('jwt-secret') ?? (io.env['JWT_SECRET'] || DEFAULT_JWT_SECRET);
    const run = Math.random().toString(36).slice(2, 8);
    const ids = [`smoke-a-${run}`, `smoke-b-${run}`];
    return [
      { userId: ids[0]!, token: await mintToken(secret, ids[0]!) },
      { userId: ids[1]!, token: await mintToken(secret, ids[1]!) },
    ];
  }
  if (tokens.some(Boolean)) {
    if (!tokens[0] || !tokens[1]) throw new UsageError('give both --token-a and --token-b');
    return [fromToken(tokens[0]), fromToken(tokens[1])];
  }
  const clientId = str('client-id');
  if (!clientId || !cognitoUsers[0] || !cognitoUsers[1])
    throw new UsageError('Cognito sign-in needs --client-id, --user-a and --user-b');
  const region = str('region') ?? regionOf(url);
  if (!region) throw new UsageError('--region is needed: the URL names no AWS region');
  const passwords = [str('password-a', 'SMOKE_PASSWORD_A'), str('password-b', 'SMOKE_PASSWORD_B')];
  if (!passwords[0] || !passwords[1])
    throw new UsageError('set SMOKE_PASSWORD_A and SMOKE_PASSWORD_B (or --password-a, --password-b)');
  const signIn = (i: 0 | 1) =>
    cognitoSignIn({ region, clientId, username: cognitoUsers[i]!, password: passwords[i]! }, io.fetch ?? fetch);
  return [fromToken(await signIn(0)), fromToken(await signIn(1))];
}

/** The user of a token is its `sub` (read, not verified: the server verifies it). */
function fromToken(token: string): SmokeUser {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    if (typeof payload.sub === 'string' && payload.sub !== '') return { userId: payload.sub, token };
  } catch {
    // fall through
  }
  throw new UsageError('a token is not a JWT with a sub claim');
}

export interface CognitoSignIn {
  readonly region: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

/**
 * Cognito's InitiateAuth (USER_PASSWORD_AUTH, which the stack's smoke client allows; the apps' client allows SRP
 * only) over its public JSON API: an
 * unauthenticated call, so plain fetch does it without the Cognito SDK. Resolves with the id token.
 */
export async function cognitoSignIn(user: CognitoSignIn, fetchImpl: typeof fetch): Promise<string> {
  const response = await fetchImpl(`https://cognito-idp.${user.region}.amazonaws.com/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: user.clientId,
      AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
    }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    AuthenticationResult?: { IdToken?: string };
    ChallengeName?: string;
    __type?: string;
    message?: string;
  };
  if (body.AuthenticationResult?.IdToken) return body.AuthenticationResult.IdToken;
  if (body.ChallengeName) {
    throw new Error(
      `Cognito asks ${user.username} for ${body.ChallengeName}: set a permanent password (aws cognito-idp admin-set-user-password --permanent)`,
    );
  }
  throw new Error(
    `Cognito sign-in of ${user.username} failed: ${body.__type ?? `HTTP ${response.status}`} ${body.message ?? ''}`.trim(),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = await main(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: process.env,
  });
  process.exit(code);
}
