#!/usr/bin/env node
/**
 * `teamtalk-local --app cdk.out`: serves any synthesized CDK app's API Gateway WebSocket API on this machine (see
 * the package's README.md). DynamoDB Local in memory unless `--data-dir` keeps the tables (locked for this process alone)
 * or `--dynamodb-endpoint` names one already running. Stops as `npm start` does: in order on Ctrl-C, SIGTERM or the
 * launcher going away; the janitor ends what a killed process leaves.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CorruptDatabaseError, JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from '../dynamodb-local.js';
import { containStrayErrors } from '../containment.js';
import { DEFAULT_PORT } from '../server.js';
import { DataFolderInUseError, lockDataFolder, type DataLock } from '../process/data-lock.js';
import { janitor } from '../process/janitor.js';
import { stopOnSignals } from '../process/shutdown.js';
import { AssemblyError } from './assembly.js';
import { serveCdkApp, type CdkAppServer } from './serve.js';
import { ModelError } from './template.js';

const USAGE = `usage: teamtalk-local --app <cdk.out> [options]

Serves the API Gateway WebSocket API of a synthesized CDK app (run \`npx cdk synth\` first) on 127.0.0.1.

  --app <folder>              the cloud assembly (cdk.out)
  --port <n>                  port of the WebSocket API and @connections, ws/wss and http/https (default ${DEFAULT_PORT}; PORT too; 0: a free one)
  --api <logicalId>           the WebSocket API, when the app has several
  --stage <name>              the stage, when the API has several (default: the first)
  --data-dir <folder>         keep DynamoDB Local's tables there (default: in memory)
  --dynamodb-endpoint <url>   use this DynamoDB Local instead of starting one
  --table-prefix <prefix>     prefix of the local table names
  --max-instances <n>         execution environments per function at most (default 10)`;

class UsageError extends Error {}

interface Args {
  app?: string;
  port: number;
  api?: string;
  stage?: string;
  dataDir?: string;
  dynamoEndpoint?: string;
  tablePrefix?: string;
  maxInstances?: number;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { port: Number(process.env['PORT'] || DEFAULT_PORT), help: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value\n\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') args.help = true;
    else if (flag === '--app') args.app = resolve(value(i++, flag));
    else if (flag === '--port') args.port = Number(value(i++, flag));
    else if (flag === '--api') args.api = value(i++, flag);
    else if (flag === '--stage') args.stage = value(i++, flag);
    else if (flag === '--data-dir') args.dataDir = resolve(value(i++, flag));
    else if (flag === '--dynamodb-endpoint') args.dynamoEndpoint = value(i++, flag);
    else if (flag === '--table-prefix') args.tablePrefix = value(i++, flag);
    else if (flag === '--max-instances') args.maxInstances = Number(value(i++, flag));
    else throw new UsageError(`unknown argument ${flag}\n\n${USAGE}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0)
    throw new UsageError(`the port must be a non-negative integer\n\n${USAGE}`);
  return args;
}

async function main(): Promise<void> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const args = parseArgs(process.argv.slice(2));
  if (args.help || !args.app) return console.log(USAGE);
  containStrayErrors((message, details) => console.error(`[emulator] ${message}`, details));

  const lock = args.dataDir && !args.dynamoEndpoint ? await lockFolder(args.dataDir) : undefined;
  const workDirectory = await mkdtemp(join(tmpdir(), 'teamtalk-local-'));
  janitor.watchFolder(workDirectory);
  let database: DynamoDbLocal | undefined;
  const cleanUp = async () => {
    await database?.stop();
    await rm(workDirectory, { recursive: true, force: true });
    janitor.forgetFolder(workDirectory);
    await lock?.release();
  };
  let server: CdkAppServer;
  try {
    server = await serveCdkApp({
      app: args.app,
      port: args.port,
      workDirectory,
      dynamoEndpoint:
        args.dynamoEndpoint ??
        (async () => {
          database = await startDynamoDbLocal({ ...(args.dataDir ? { dbPath: join(args.dataDir, 'dynamodb') } : {}) });
          await lock?.update({ databasePid: database.pid });
          return database.endpoint;
        }),
      ...(args.api === undefined ? {} : { api: args.api }),
      ...(args.stage === undefined ? {} : { stage: args.stage }),
      ...(args.tablePrefix === undefined ? {} : { tablePrefix: args.tablePrefix }),
      ...(args.maxInstances === undefined ? {} : { maxInstancesPerFunction: args.maxInstances }),
    });
  } catch (error) {
    await cleanUp();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UsageError(`port ${args.port} is in use; use --port to choose another`);
    throw error;
  }
  await lock?.update({ port: server.emulator.port });
  printBanner(server, args, database);
  const shutdown = stopOnSignals(async () => {
    await server.stop();
    await cleanUp();
  });
  void database?.exited.then(({ stopped, code, signal }) => {
    if (stopped) return;
    console.error(
      `\nDynamoDB Local (pid ${database!.pid}) exited on its own (${signal ?? `code ${code}`}); the functions cannot work without it.`,
    );
    shutdown.begin('DynamoDB Local is gone', 1);
  });
}

async function lockFolder(folder: string): Promise<DataLock> {
  await mkdir(join(folder, 'dynamodb'), { recursive: true });
  try {
    const lock = await lockDataFolder(folder);
    for (const note of lock.notes) console.log(note);
    return lock;
  } catch (error) {
    if (error instanceof DataFolderInUseError) throw new UsageError(error.message);
    throw error;
  }
}

function printBanner(server: CdkAppServer, args: Args, database: DynamoDbLocal | undefined): void {
  const { model, emulator } = server;
  const functionName = (logicalId: string) => model.functions.get(logicalId)?.name ?? logicalId;
  const routes = model.routes.map(
    (r) => `${r.routeKey} → ${functionName(r.functionLogicalId)}${r.twoWay ? ' (two-way)' : ''}`,
  );
  console.log(
    [
      '',
      `teamtalk-local: ${model.apiName} (${model.stackName}/${model.apiLogicalId}), stage ${model.stage}`,
      `  WebSocket API     ${server.url}   (wss:// on the same port)`,
      `  @connections API  ${server.callbackUrl}/@connections/{connectionId}   (http:// too)`,
      `  routes            ${routes.join('\n                    ')}`,
      ...(model.authorizer
        ? [
            `  authorizer        ${functionName(model.authorizer.functionLogicalId)} (${model.authorizer.identitySources.join(', ') || 'no identity source'})`,
          ]
        : []),
      `  tables            ${model.tables.map((t) => t.name).join(', ') || '(none)'}`,
      `  DynamoDB Local    ${server.dynamoEndpoint}   ${args.dataDir && database ? `data kept in ${join(args.dataDir, 'dynamodb')}` : database ? 'in memory' : ''}`,
      ...model.warnings.map((w) => `  warning           ${w}`),
      '',
      `Ctrl-C stops everything (port ${emulator.port}).`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  const known = [UsageError, JavaMissingError, CorruptDatabaseError, AssemblyError, ModelError].some(
    (type) => error instanceof type,
  );
  console.error(known ? (error as Error).message : error);
  process.exit(1);
});
