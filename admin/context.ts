/**
 * Where the admin commands act, and the ports they act with. Local mode (the default): the environment `npm start`
 * wrote to `.data/admin-env.json` (its DynamoDB Local, local S3 and @connections endpoints and table names; the
 * deletion job runs here, in this process). AWS: `--outputs <file>`, the stack's outputs as `cdk deploy
 * --outputs-file` writes them or as `aws cloudformation describe-stacks --query 'Stacks[0].Outputs'` prints them
 * (table names, @connections endpoint, bucket, deletion queue); credentials and region from the usual AWS
 * environment (AWS_PROFILE, AWS_REGION). `--env <file>` takes a JSON object of the handlers' settings instead.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { adaptersFrom } from '../core/compose/adapters.js';
import { documentClient, tombstoneTable } from '../core/compose/dynamo.js';
import { ENV } from '../core/config.js';
import { createRuntime, type Runtime } from '../core/runtime.js';
import { TABLES } from '../core/store/schema.js';
import type { TombstoneStore } from '../core/ports/accounts.js';
import { AdminUsageError } from './command.js';

/** Where `npm start` writes the environment of its handlers for this command. */
export const LOCAL_ADMIN_ENV_FILE = fileURLToPath(new URL('../.data/admin-env.json', import.meta.url));

export interface AdminContext {
  /** `local`: the deletion job runs in this process; `aws`: it is queued to the stack's worker. */
  readonly target: 'local' | 'aws';
  /** Every store, the @connections gateway, the bucket and the deletion queue, on the target's settings. */
  readonly runtime: Runtime;
  readonly tombstones: TombstoneStore;
  /** The handlers' settings the context was built from. */
  readonly env: Readonly<Record<string, string>>;
}

/** Splits `--outputs f` / `--env f` from the command's own arguments. */
export function takeTargetFlags(argv: readonly string[]): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--outputs' || arg === '--env') {
      const value = argv[++i];
      if (!value) throw new AdminUsageError(`${arg} needs a file`);
      flags[arg.slice(2)] = value;
    } else rest.push(arg);
  }
  return { flags, rest };
}

export async function adminContext(flags: Record<string, string>): Promise<AdminContext> {
  const target = flags['outputs'] ? 'aws' : 'local';
  const env = flags['outputs']
    ? envFromOutputs(JSON.parse(await readFile(flags['outputs'], 'utf8')))
    : await readEnvFile(flags['env'] ?? LOCAL_ADMIN_ENV_FILE);
  const adapters = adaptersFrom(env);
  return {
    target,
    env,
    runtime: createRuntime(env),
    tombstones: tombstoneTable(documentClient(adapters), adapters.config),
  };
}

async function readEnvFile(path: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new AdminUsageError(
      `${path} not found: start local mode first (npm start writes it), or give --outputs <stack outputs file> for AWS`,
    );
  }
}

/** The handlers' settings from a stack's outputs (either shape), as lib/stack.ts names them. */
export function envFromOutputs(outputs: unknown): Record<string, string> {
  const values = outputValues(outputs);
  const env: Record<string, string> = {};
  for (const spec of Object.values(TABLES)) {
    const name = values[`${spec.id}TableName`];
    if (!name) throw new AdminUsageError(`the outputs have no ${spec.id}TableName: not a TeamTalk stack's outputs?`);
    env[spec.envVar] = name;
  }
  const optional: [string, string][] = [
    ['ConnectionsEndpoint', ENV.connectionsEndpoint],
    ['AttachmentBucketName', ENV.attachmentBucket],
    ['AccountDeletionQueueUrl', ENV.deletionQueueUrl],
  ];
  for (const [key, envVar] of optional) if (values[key]) env[envVar] = values[key];
  if (process.env['AWS_REGION']) env['AWS_REGION'] = process.env['AWS_REGION'];
  return env;
}

/** `[{OutputKey, OutputValue}]` (describe-stacks) or `{Stack: {Key: Value}}` (cdk --outputs-file). */
function outputValues(outputs: unknown): Record<string, string> {
  if (Array.isArray(outputs)) {
    return Object.fromEntries(
      outputs.map((o: { OutputKey?: string; OutputValue?: string }) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  }
  if (outputs && typeof outputs === 'object') {
    const stacks = Object.values(outputs as Record<string, unknown>);
    if (stacks.length === 1 && stacks[0] && typeof stacks[0] === 'object') return stacks[0] as Record<string, string>;
  }
  throw new AdminUsageError('--outputs: expected describe-stacks Outputs or a cdk --outputs-file of one stack');
}
