/**
 * `npm start`: the whole stack on this machine. DynamoDB Local keeps its data under .data/dynamodb/ (or nothing,
 * with `--in-memory`), the emulator serves the WebSocket API, the @connections API and the chat page on PORT,
 * and the sweeper runs every SWEEP_INTERVAL_MS. Ctrl-C stops everything, DynamoDB Local's Java process included.
 */
import { logger } from '../core/observability.js';
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ENV } from '../core/config.js';
import { JavaMissingError } from './dynamodb-local.js';
import { DEFAULT_PORT } from './emulator/server.js';
import { DEFAULT_JWT_SECRET } from './emulator/token.js';
import { USAGE } from './start-usage.js';
import type { WebApp } from './emulator/web.js';
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
    console.warn(`The chat page could not be built, serving the API only: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  // The SDK's notice that future releases need Node 22: local mode runs on Node 20 on purpose.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // The handlers' JSON logs: warnings and errors by default locally (POWERTOOLS_LOG_LEVEL=INFO shows every message).
  logger.setLogLevel((process.env['POWERTOOLS_LOG_LEVEL'] as 'INFO' | undefined) ?? 'WARN');
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const unknown = args.filter((a) => a !== '--in-memory');
  if (unknown.length > 0) throw new UsageError(`unknown argument ${unknown.join(' ')}\n\n${USAGE}`);
  const inMemory = args.includes('--in-memory');

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

  const dbPath = inMemory ? undefined : fileURLToPath(new URL('../.data/dynamodb/', import.meta.url));
  if (dbPath) await mkdir(dbPath, { recursive: true });
  const s3Path = inMemory ? undefined : fileURLToPath(new URL('../.data/s3/', import.meta.url));
  if (s3Path) await mkdir(s3Path, { recursive: true });
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
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${port} is in use (is npm start already running?); set PORT to use another one`);
    }
    throw error;
  }

  printBanner(stack, { jwtSecret, dbPath, webApp: webApp !== undefined });
  stopOnSignals(stack);
}

/** Where everything is, and how to get a token. */
function printBanner(stack: LocalStack, options: { jwtSecret: string; dbPath: string | undefined; webApp: boolean }): void {
  const { config } = stack.runtime;
  const tokenHint = options.jwtSecret === DEFAULT_JWT_SECRET ? 'npm run token -- alice' : 'JWT_SECRET=<same secret> npm run token -- alice';
  console.log(
    [
      '',
      'TeamTalk serverless: local mode',
      `  chat page         ${options.webApp ? `${stack.httpUrl}/` : '(not built, see the warning above)'}`,
      `  WebSocket API     ${stack.url}/?token=<jwt>[&client_type=1|2|17|18]`,
      `  @connections API  ${stack.httpUrl}/@connections/{connectionId}   (CONNECTIONS_ENDPOINT)`,
      `  DynamoDB Local    ${stack.dynamoEndpoint}   ${options.dbPath ? `data kept in ${options.dbPath}` : 'in memory: nothing is kept'}`,
      `  S3 (attachments)  ${stack.s3Endpoint}/${stack.attachmentBucket}   ${options.dbPath ? 'objects kept in .data/s3/' : 'temporary: removed at stop'}`,
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

/** Ctrl-C, SIGTERM, SIGHUP or the launcher going away stop the stack (a second signal exits at once). */
function stopOnSignals(stack: LocalStack): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    const force = setTimeout(() => {
      console.error('stop took over 15 s, exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    stack.stop().then(
      () => {
        console.log('stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('stop failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGHUP', shutdown);
  watchLauncher(() => shutdown('SIGTERM'));
}

/**
 * `npm start` runs `sh -c tsx local/start.ts`; a SIGTERM sent to npm alone reaches sh, which exits without passing
 * it on, and would leave this process and DynamoDB Local running. So stop when the launcher goes away: when our
 * parent (tsx's CLI) changes, or its parent (the shell npm spawned) exits.
 */
function watchLauncher(onGone: () => void): void {
  const parent = process.ppid;
  let grandparent: number | undefined;
  if (process.platform !== 'win32') {
    const ps = spawnSync('ps', ['-o', 'ppid=', '-p', String(parent)], { encoding: 'utf8' });
    const pid = Number(ps.stdout?.trim());
    if (Number.isInteger(pid) && pid > 1) grandparent = pid;
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const timer = setInterval(() => {
    if (process.ppid !== parent || (grandparent !== undefined && !alive(grandparent))) {
      clearInterval(timer);
      console.log('\nthe launching process went away');
      onGone();
    }
  }, 1_000);
  timer.unref();
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError || error instanceof UsageError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
