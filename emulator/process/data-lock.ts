/**
 * One stack per data folder. Two stacks on one folder would run two JVMs on the same SQLite file (writes fail
 * `internal` at random), so the folder holds a lock file naming its owner: the stack's pid and port, and the pid of
 * its DynamoDB Local. The next start reads it: a live owner refuses the start, naming it; a dead one left a stale
 * lock, and a DynamoDB Local it may have left running on the folder is stopped first (and named). The lock is taken
 * with an exclusive create, so two starts at once cannot both win.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** The lock file's name in the data folder. */
export const LOCK_FILE = '.lock';

export interface LockOwner {
  readonly pid: number;
  readonly startedAt: string;
  readonly port?: number;
  /** DynamoDB Local's pid (its process group). */
  readonly databasePid?: number;
}

export class DataFolderInUseError extends Error {
  override readonly name = 'DataFolderInUseError';
  constructor(
    readonly folder: string,
    readonly owner: LockOwner,
  ) {
    super(
      `${folder} is in use by another local stack (pid ${owner.pid}${owner.port ? `, port ${owner.port}` : ''}, started ${owner.startedAt}).\n` +
        `  Stop that one first (Ctrl-C in its terminal, or kill ${owner.pid}),\n` +
        '  or give this one its own folder: --data-dir <folder> (or --in-memory).',
    );
  }
}

export interface DataLock {
  readonly path: string;
  /** What the start found and did about a stale lock, to print. */
  readonly notes: readonly string[];
  /** Records more of the owner (the port, the database's pid) once known. */
  update(details: Partial<LockOwner>): Promise<void>;
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
}

export async function lockDataFolder(folder: string): Promise<DataLock> {
  const path = join(folder, LOCK_FILE);
  let owner: LockOwner = { pid: process.pid, startedAt: new Date().toISOString() };
  const notes: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const file = await open(path, 'wx').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST' && attempt < 3) return undefined;
      throw error;
    });
    if (file) {
      await file.writeFile(JSON.stringify(owner));
      await file.close();
      break;
    }
    notes.push(...(await clearStaleLock(folder, path)));
  }
  return {
    path,
    notes,
    async update(details) {
      owner = { ...owner, ...details };
      await writeFile(path, JSON.stringify(owner));
    },
    async release() {
      const current = await readOwner(path);
      if (current?.pid === process.pid) await rm(path, { force: true });
    },
  };
}

/** Throws when the owner lives; otherwise stops its leftover DynamoDB Local and removes the lock. */
async function clearStaleLock(folder: string, path: string): Promise<string[]> {
  const owner = await readOwner(path);
  if (owner && owner.pid !== process.pid && isAlive(owner.pid) && commandLine(owner.pid).includes('node')) {
    throw new DataFolderInUseError(folder, owner);
  }
  const notes = [`removed a stale lock of ${folder} (pid ${owner?.pid ?? '?'} is gone)`];
  const database = owner?.databasePid;
  if (database !== undefined && isAlive(database) && commandLine(database).includes('DynamoDBLocal')) {
    await stopGroup(database);
    notes.push(
      `stopped DynamoDB Local (pid ${database}) that the earlier stack (pid ${owner!.pid}) left running on ${folder}`,
    );
  }
  await rm(path, { force: true });
  return notes;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return Number.isInteger(parsed.pid) ? (parsed as LockOwner) : undefined;
  } catch {
    return undefined; // unreadable or half-written: treated as stale
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line, to tell our processes from a reused pid. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).stdout ?? '';
  }
}

async function stopGroup(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      try {
        process.kill(pid, name);
      } catch {
        // gone
      }
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < 5_000 && isAlive(pid); waited += 100) await delay(100);
  if (isAlive(pid)) signal('SIGKILL');
  for (let waited = 0; waited < 2_000 && isAlive(pid); waited += 50) await delay(50);
}
