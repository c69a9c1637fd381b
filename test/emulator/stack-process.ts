/**
 * `npm start`'s process for the lifecycle and fuzz tests: local/start.ts run by `node --import tsx` under a
 * `sh -c` parent, as npm runs it, in its own process group (so the test can send the group a Ctrl-C). Every process
 * it starts inherits a marker in its environment, so the test can find each one it left — Java, the janitor,
 * node — and its TMPDIR is a folder of the test's, so it can see each temporary folder it left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from './support.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MARK = 'TEAMTALK_TEST_STACK_MARK';

export interface StackProcess {
  /** The `sh -c` launcher (npm's shell). */
  readonly launcher: ChildProcess;
  /** stdout and stderr lines. */
  readonly lines: Queue<string>;
  readonly mark: string;
  readonly tmp: string;
  /** Resolves with the exit code of the launcher (the stack's own, passed on by the shell). */
  readonly exited: Promise<number | null>;
  /** The output so far. */
  output(): string;
  /** Waits for the banner and returns the stack's port. */
  ready(): Promise<number>;
  /** What this run left in its TMPDIR (tsx's shared compile cache aside). */
  leftInTmp(): string[];
  /** Processes still alive that this run started (by the environment marker). */
  processes(): { pid: number; command: string }[];
  /** The node process running local/start.ts. */
  nodePid(): number | undefined;
}

export function startStackProcess(args: readonly string[], env: Record<string, string> = {}): StackProcess {
  const mark = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmp = mkdtempSync(join(tmpdir(), 'teamtalk-stack-test-'));
  // tsx keeps its compile cache in TMPDIR: share the usual one (a cold cache costs seconds per start).
  const tsxCache = join(tmpdir(), `tsx-${userInfo().uid}`);
  mkdirSync(tsxCache, { recursive: true });
  symlinkSync(tsxCache, join(tmp, `tsx-${userInfo().uid}`));
  const command = [process.execPath, '--import', 'tsx', 'local/start.ts', ...args].map((a) => `'${a}'`).join(' ');
  const launcher = spawn('/bin/sh', ['-c', `${command}; exit $?`], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', TMPDIR: tmp, POWERTOOLS_LOG_LEVEL: 'WARN', [MARK]: mark, ...env },
  });
  const lines = new Queue<string>();
  let text = '';
  for (const stream of [launcher.stdout!, launcher.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) lines.push(line);
    });
  }
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  const processes = () => markedProcesses(mark);
  return {
    launcher,
    lines,
    mark,
    tmp,
    exited,
    output: () => text,
    async ready() {
      const line = await lines.waitFor(
        (l) => /WebSocket API\s+ws:\/\/127\.0\.0\.1:\d+/.test(l),
        90_000,
        `the banner; output:\n${text}`,
      );
      return Number(/:(\d+)\//.exec(line)![1]);
    },
    processes,
    leftInTmp: () => readdirSync(tmp).filter((name) => !name.startsWith('tsx-')),
    nodePid: () =>
      processes().find((p) => p.command.includes('local/start.ts') && !p.command.startsWith('/bin/sh'))?.pid,
  };
}

/** Live processes whose environment carries the marker (zombies have none left). */
export function markedProcesses(mark: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`${MARK}=${mark}\0`)) continue;
      found.push({
        pid: Number(entry),
        command: readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ').trim(),
      });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Polls until `check` holds (processes need a moment to be reaped after a kill); false after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}
