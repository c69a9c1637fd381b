/**
 * `npm run chaos`: a bounded chaos run on loopback (DynamoDB Local, the emulator and 60 SDK clients in this process),
 * with faults injected at a few percent. Prints the figures, writes them with the run's settings and machine to
 * chaos/results/latest.md (the README's figures come from the committed one), and exits non-zero when a must-be-0
 * figure is not 0.
 *
 * Settings, as flags or environment variables (flags win):
 *   --messages N      CHAOS_MESSAGES      messages to send (default 2000)
 *   --rate N          CHAOS_RATE          sends started per second, at most (default 8)
 *   --duration S      CHAOS_DURATION      cap of the sending phase in seconds (default 300)
 *   --fault-rate F    CHAOS_FAULT_RATE    overall fault rate (default 0.03)
 *   --seed N          CHAOS_SEED          RNG seed (default 1)
 *   --users N         CHAOS_USERS         (default 20)
 *   --devices N       CHAOS_DEVICES       devices per user (default 3)
 *   --groups N        CHAOS_GROUPS        (default 3)
 *   --group-size N    CHAOS_GROUP_SIZE    members per group (default 6)
 *   --group-share F   CHAOS_GROUP_SHARE   share of sends to groups (default 0.15)
 *   --disconnects N   CHAOS_DISCONNECTS   random disconnects per minute (default 30)
 *   DYNAMODB_ENDPOINT: use a running DynamoDB Local instead of starting one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal, type DynamoDbLocal } from 'teamtalk-local';
import { failedFigures, formatResult, runChaos } from './harness.js';
import type { ChaosResult } from './report.js';
import { renderReport } from './markdown.js';

const RESULTS = fileURLToPath(new URL('results/', import.meta.url));

const FLAGS = {
  messages: ['CHAOS_MESSAGES', 2000],
  rate: ['CHAOS_RATE', 8],
  duration: ['CHAOS_DURATION', 300],
  'fault-rate': ['CHAOS_FAULT_RATE', 0.03],
  seed: ['CHAOS_SEED', 1],
  users: ['CHAOS_USERS', 20],
  devices: ['CHAOS_DEVICES', 3],
  groups: ['CHAOS_GROUPS', 3],
  'group-size': ['CHAOS_GROUP_SIZE', 6],
  'group-share': ['CHAOS_GROUP_SHARE', 0.15],
  disconnects: ['CHAOS_DISCONNECTS', 30],
} as const satisfies Record<string, readonly [string, number]>;
type Flag = keyof typeof FLAGS;

const { values } = parseArgs({
  options: Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
  allowPositionals: false,
});

function setting(flag: Flag): number {
  const [envName, fallback] = FLAGS[flag];
  const raw = (values as Record<string, string | undefined>)[flag] ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`--${flag} / ${envName} must be a non-negative number, got "${raw}"`);
  return value;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  let dynamo: DynamoDbLocal | undefined;
  let endpoint = process.env['DYNAMODB_ENDPOINT'];
  if (!endpoint) {
    dynamo = await startDynamoDbLocal();
    endpoint = dynamo.endpoint;
  }
  const stop = async () => {
    await dynamo?.stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  // Bounded whatever happens: the send phase is capped, the final phase waits at most ~2 minutes more.
  const watchdog = setTimeout(
    () => {
      console.error('chaos: the run overran its bound; stopping');
      void stop().finally(() => process.exit(3));
    },
    setting('duration') * 1000 + 240_000,
  );
  watchdog.unref();
  try {
    const result = await runChaos({
      dynamoEndpoint: endpoint,
      seed: setting('seed'),
      users: setting('users'),
      devicesPerUser: setting('devices'),
      groups: setting('groups'),
      groupSize: setting('group-size'),
      messages: setting('messages'),
      ratePerSecond: setting('rate'),
      maxSendPhaseMs: setting('duration') * 1000,
      groupShare: setting('group-share'),
      faultRate: setting('fault-rate'),
      disconnectsPerMinute: setting('disconnects'),
      log: (line) => console.log(line),
    });
    console.log('');
    console.log(formatResult(result));
    const report = writeReport(result, startedAt, loadAtStart);
    const failed = failedFigures(result);
    console.log('');
    console.log(
      failed.length === 0
        ? 'chaos: every must-be-0 figure is 0'
        : `chaos: FAILED (${failed.map((f) => f.label).join('; ')})`,
    );
    console.log(`chaos: report in ${report}`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

/** Writes chaos/results/latest.md; returns its path. */
function writeReport(result: ChaosResult, startedAt: Date, loadAtStart: number[]): string {
  const cpu = cpus();
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(' ');
  const machine =
    `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GB, ` +
    `${type()} ${release()}; Node ${process.version}; load average ${load(loadAtStart)} at start, ` +
    `${load(loadavg())} at end (every process on the machine, not only the run)`;
  mkdirSync(RESULTS, { recursive: true });
  const path = `${RESULTS}latest.md`;
  writeFileSync(path, renderReport(result, { startedAt, machine }));
  return path;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
