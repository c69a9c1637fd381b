/**
 * How a local stack process ends, shared by `npm start` and the CDK app command: on SIGINT, SIGTERM or SIGHUP, or
 * when the process that launched it goes away, it runs the stack's ordered stop (clients, then handlers drained,
 * then the database) and exits. A second signal within half a second is the same Ctrl-C relayed by a launcher
 * (npm, a shell) and is ignored; a later one exits at once, leaving the JVM and temporary folders to the janitor
 * and the stale lock to the next start.
 */
import { spawnSync } from 'node:child_process';

/** Signals closer than this are one Ctrl-C seen twice (a terminal's and a launcher's relay). */
const RELAY_WINDOW_MS = 500;
/** A stop that takes longer than this is abandoned (the janitor finishes it). */
const STOP_DEADLINE_MS = 15_000;

export interface Shutdown {
  /** Stops as for a signal, with this reason and exit code. */
  begin(reason: string, exitCode?: number): void;
}

export function stopOnSignals(stop: () => Promise<void>): Shutdown {
  let startedAt: number | undefined;
  const begin = (reason: string, exitCode = 0) => {
    if (startedAt !== undefined) {
      if (Date.now() - startedAt < RELAY_WINDOW_MS) return;
      console.error(`${reason} again: exiting now`);
      process.exit(130);
    }
    startedAt = Date.now();
    console.log(`\n${reason}: stopping...`);
    setTimeout(() => {
      console.error(`stop took over ${STOP_DEADLINE_MS / 1000} s, exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    stop().then(
      () => {
        console.log('stopped.');
        process.exit(exitCode);
      },
      (error: unknown) => {
        console.error('stop failed:', error);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => begin(signal));
  watchLauncher(() => begin('the launching process went away'));
  return { begin };
}

/**
 * `npm start` runs `sh -c "node … local/start.ts"`; a SIGTERM or SIGKILL sent to npm alone does not reach this
 * process. So stop when the launcher goes away: when our parent changes (it died and we were adopted), or its
 * parent exits.
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
      onGone();
    }
  }, 1_000);
  timer.unref();
}
