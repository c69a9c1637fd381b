/**
 * What cleans up when the process that started DynamoDB Local or a temporary folder cannot: a `kill -9`, an OOM
 * kill, a crash. Java cannot see its parent die, and a dead process removes nothing, so the first time something
 * needs watching a small janitor process (janitor-worker.mjs) starts in its own process group with a pipe from
 * this one. Each process group and folder is registered with it while it lives and forgotten once stopped or
 * removed normally; when the pipe closes — this process has exited, however it exited — the janitor stops what is
 * still registered (SIGTERM, SIGKILL after 5 s) and removes the folders. It holds nothing open in this process:
 * an exit is never delayed by it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Janitor {
  /** Ends this process group (its leader's pid) should this process die first. */
  watchGroup(pid: number): void;
  forgetGroup(pid: number): void;
  /** Removes this folder should this process die first. */
  watchFolder(path: string): void;
  forgetFolder(path: string): void;
  /** The janitor's own pid, once started. */
  readonly pid: number | undefined;
}

let janitorProcess: ChildProcess | undefined;

function send(order: Record<string, string | number>): void {
  if (!janitorProcess) {
    janitorProcess = spawn(process.execPath, [fileURLToPath(new URL('./janitor-worker.mjs', import.meta.url))], {
      detached: true,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    janitorProcess.on('error', () => undefined);
    janitorProcess.stdin!.on('error', () => undefined);
    janitorProcess.unref();
    (janitorProcess.stdin as unknown as { unref(): void }).unref();
  }
  janitorProcess.stdin!.write(`${JSON.stringify(order)}\n`);
}

/** This process's janitor (started on first use). */
export const janitor: Janitor = {
  watchGroup: (pid) => send({ watchGroup: pid }),
  forgetGroup: (pid) => send({ forgetGroup: pid }),
  watchFolder: (path) => send({ watchFolder: path }),
  forgetFolder: (path) => send({ forgetFolder: path }),
  get pid() {
    return janitorProcess?.pid;
  },
};
