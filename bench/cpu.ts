/**
 * CPU accounting for a window, from /proc (Linux): the whole machine's busy share, this Node process (clients,
 * emulator and every handler) and DynamoDB Local's JVM. The rest of the machine's busy time is other processes —
 * on a shared box, other work that competed with the run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function machineTicks(): { idle: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { idle, total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

function processSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
  } catch {
    return undefined;
  }
}

/** The JVM serving DynamoDB Local on this port (the harness does not expose its pid). */
export function findDynamoDbLocalPid(port: number): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmd.includes('DynamoDBLocal') && cmd.split('\0').includes(String(port))) return Number(entry);
    }
  } catch {
    // not Linux
  }
  return undefined;
}

/** CPU seconds of this process's finished (waited-for) children: cutime + cstime. */
function childrenSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export interface CpuShare {
  /** Share of all cores busy, 0..1. */
  machineBusy: number;
  /** Cores used (1.0 = one full core): this process, and its exited children (the cold-start probes). */
  node: number;
  jvm: number;
  others: number;
}

export function cpuWindow(jvmPid: number | undefined): () => CpuShare | undefined {
  const m0 = machineTicks();
  const n0 = process.cpuUsage();
  const c0 = childrenSeconds();
  const j0 = jvmPid === undefined ? undefined : processSeconds(jvmPid);
  const t0 = process.hrtime.bigint();
  return () => {
    const m1 = machineTicks();
    if (!m0 || !m1) return undefined;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cores = cpus().length;
    const machineBusy = 1 - (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total);
    const n = process.cpuUsage(n0);
    const node = ((n.user + n.system) / 1e6 + childrenSeconds() - c0) / wall;
    const j1 = jvmPid === undefined ? undefined : processSeconds(jvmPid);
    const jvm = j0 !== undefined && j1 !== undefined ? (j1 - j0) / wall : NaN;
    return {
      machineBusy,
      node,
      jvm,
      others: Math.max(0, machineBusy * cores - node - (Number.isFinite(jvm) ? jvm : 0)),
    };
  };
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
