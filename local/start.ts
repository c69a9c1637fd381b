/**
 * `npm start`: the whole stack on this machine. DynamoDB Local keeps its data under .data/dynamodb/ (another folder
 * with `--data-dir`, nothing with `--in-memory`), locked for this stack alone; the emulator serves the WebSocket
 * API, the @connections API and the chat page on PORT, and the sweeper runs every SWEEP_INTERVAL_MS. Ctrl-C stops
 * everything in order, DynamoDB Local's Java process last; a killed process leaves its cleanup to the janitor
 * (local/process/).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  containStrayErrors,
  CorruptDatabaseError,
  DataFolderInUseError,
  DEFAULT_PORT,
  JavaMissingError,
  lockDataFolder,
  stopOnSignals,
  type DataLock,
} from 'teamtalk-local';
import { ENV } from '../core/config.js';
import { logger } from '../core/observability.js';
import { DEFAULT_JWT_SECRET } from './token.js';
import { USAGE } from './start-usage.js';
import type { WebApp } from './web-routes.js';
import { startLocalStack, type LocalStack } from './stack.js';

class UsageError extends Error {}

function intFromEnv(name: string, { allowZero = false } = {}): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new UsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${raw}"`);
  }
  return value;
}

async function loadWebApp(): Promise<WebApp | undefined> {
  try {
    const { buildWebApp } = await import('./web/build.js');
    return await buildWebApp();
  } catch (error) {
    console.warn(
      `The chat page could not be built, serving the API only: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

/** The command line: `--in-memory`, `--data-dir <folder>`, `--help`. */
function parseArgs(args: readonly string[]): { help: boolean; inMemory: boolean; dataDir: string } {
  let dataDir = fileURLToPath(new URL('../.data/', import.meta.url));
  let inMemory = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--in-memory') inMemory = true;
    else if (arg === '--data-dir' && args[i + 1] !== undefined) dataDir = resolve(args[++i]!);
    else if (arg.startsWith('--data-dir=')) dataDir = resolve(arg.slice('--data-dir='.length));
    else throw new UsageError(`unknown argument ${arg}\n\n${USAGE}`);
  }
  return { help, inMemory, dataDir };
}

async function main(): Promise<void> {
  // The SDK's notice that future releases need Node 22: local mode runs on Node 20 on purpose.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // The handlers' JSON logs: warnings and errors by default locally (POWERTOOLS_LOG_LEVEL=INFO shows every message).
  logger.setLogLevel((process.env['POWERTOOLS_LOG_LEVEL'] as 'INFO' | undefined) ?? 'WARN');
  const { help, inMemory, dataDir } = parseArgs(process.argv.slice(2));
  if (help) return console.log(USAGE);
  // A handler's stray error fails its invocation, as on Lambda, instead of ending the process.
  containStrayErrors((message, details) => console.error(`[emulator] ${message}`, details));

  const port = intFromEnv('PORT', { allowZero: true }) ?? DEFAULT_PORT;
  const ackTimeoutMs = intFromEnv(ENV.ackTimeoutMs);
  const sweepIntervalMs = intFromEnv(ENV.sweepIntervalMs);
  const maxMsgBytes = intFromEnv(ENV.maxMsgBytes);
  const jwtSecret = process.env['JWT_SECRET'] || DEFAULT_JWT_SECRET;
  // The handlers' other settings (RATE_LIMIT_PER_SECOND, MAX_DELIVERY_ATTEMPTS, ...) pass through as on Lambda.
  const passthrough = Object.fromEntries(
    Object.values(ENV)
      // Set by local mode itself: the emulator's endpoint, the local S3's bucket.
      .filter((name) => name !== ENV.connectionsEndpoint && name !== ENV.attachmentBucket && process.env[name])
      .map((name) => [name, process.env[name]!]),
  );

  const lock = inMemory ? undefined : await lockData(dataDir);
  const dbPath = inMemory ? undefined : join(dataDir, 'dynamodb');
  const s3Path = inMemory ? undefined : join(dataDir, 's3');
  for (const folder of [dbPath, s3Path]) if (folder) await mkdir(folder, { recursive: true });
  const webApp = await loadWebApp();

  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port,
      jwtSecret,
      ...(dbPath === undefined ? {} : { dbPath }),
      ...(s3Path === undefined ? {} : { s3Path }),
      ...(ackTimeoutMs === undefined ? {} : { ackTimeoutMs }),
      ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }),
      ...(maxMsgBytes === undefined ? {} : { maxMsgBytes }),
      env: passthrough,
      ...(webApp === undefined ? {} : { webApp }),
      push: true,
    });
  } catch (error) {
    await lock?.release();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${port} is in use (is npm start already running?); set PORT to use another one`);
    }
    throw error;
  }
  await lock?.update({ port: stack.port, ...(stack.database ? { databasePid: stack.database.pid } : {}) });
  // `npm run admin` acts on this stack through the handlers' own settings (endpoints, tables).
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'admin-env.json'), JSON.stringify(stack.env, null, 2));

  printBanner(stack, { jwtSecret, dataDir: inMemory ? undefined : dataDir, webApp: webApp !== undefined });
  const shutdown = stopOnSignals(async () => {
    await stack.stop();
    await lock?.release();
  });
  void stack.database?.exited.then(({ code, signal, stopped }) => {
    if (stopped) return;
    console.error(
      `\nDynamoDB Local (pid ${stack.database!.pid}) exited on its own (${signal ?? `code ${code}`}); the handlers cannot work without it.` +
        `\nIts last output:\n${stack.database!.output().trim().split('\n').slice(-10).join('\n')}`,
    );
    shutdown.begin('DynamoDB Local is gone', 1);
  });
}

/** Locks the data folder for this stack, saying what it found of an earlier one. */
async function lockData(dataDir: string): Promise<DataLock> {
  await mkdir(dataDir, { recursive: true });
  try {
    const lock = await lockDataFolder(dataDir);
    for (const note of lock.notes) console.log(note);
    return lock;
  } catch (error) {
    if (error instanceof DataFolderInUseError) throw new UsageError(error.message);
    throw error;
  }
}

/** Where everything is, and how to get a token. */
function printBanner(
  stack: LocalStack,
  options: { jwtSecret: string; dataDir: string | undefined; webApp: boolean },
): void {
  const { config } = stack.runtime;
  const tokenHint =
    options.jwtSecret === DEFAULT_JWT_SECRET
      ? 'npm run token -- alice'
      : 'JWT_SECRET=<same secret> npm run token -- alice';
  console.log(
    [
      '',
      'TeamTalk serverless: local mode',
      `  chat page         ${options.webApp ? `${stack.httpUrl}/` : '(not built, see the warning above)'}`,
      `  WebSocket API     ${stack.url}/?token=<jwt>[&client_type=1|2|17|18]`,
      `  @connections API  ${stack.httpUrl}/@connections/{connectionId}   (CONNECTIONS_ENDPOINT)`,
      `  DynamoDB Local    ${stack.dynamoEndpoint}   ${options.dataDir ? `data kept in ${join(options.dataDir, 'dynamodb')}` : 'in memory: nothing is kept'}`,
      `  S3 (attachments)  ${stack.s3Endpoint}/${stack.attachmentBucket}   ${options.dataDir ? `objects kept in ${join(options.dataDir, 's3')}` : 'temporary: removed at stop'}`,
      `  JWT secret        ${options.jwtSecret}${options.jwtSecret === DEFAULT_JWT_SECRET ? '   (the default; JWT_SECRET overrides)' : '   (from JWT_SECRET)'}`,
      `  mint a token      ${tokenHint}   or   curl '${stack.httpUrl}/local/token?user_id=alice'`,
      ...(stack.push
        ? [
            `  push (fakes)      FCM ${stack.push.fcm.origin}   APNs ${stack.push.apns.origin} (HTTP/2, generated certificate)   Web Push ${stack.push.webPush.origin}`,
            `  VAPID public key  ${stack.push.vapid.publicKey}`,
          ]
        : []),
      `  settings          ack timeout ${config.ackTimeoutMs} ms, sweep every ${config.sweepIntervalMs} ms, msg_data up to ${config.maxMsgBytes} bytes`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError || error instanceof UsageError || error instanceof CorruptDatabaseError)
    console.error(error.message);
  else console.error(error);
  process.exit(1);
});
