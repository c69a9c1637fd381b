/**
 * `npm run bench`: cold start, cost (one message at a time, and realistic traffic through the SDK), latency against its
 * floor, throughput against DynamoDB Local's ceiling, fan-out;
 * one markdown report on stdout and in bench/results/ (dated and latest), with an SVG chart beside it. Loopback only,
 * bounded (a watchdog stops everything at 9.5 minutes), and everything it starts is stopped before it exits.
 * Progress goes to stderr. BENCH_QUICK=1 shrinks every sample (for trying the bench, not for figures).
 */
import './quiet.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDbLocal, type DynamoDbLocal } from 'teamtalk-local';
import { logger } from '../core/observability.js';
import { renderChart } from './chart.js';
import { abortColdStart, runColdStart } from './cold-start.js';
import { cpuWindow, findDynamoDbLocalPid, loadAverage } from './cpu.js';
import { idleSweep, oneToOne, runCost } from './cost.js';
import { runEditsCost } from './edits-cost.js';
import { runFanout, type FanoutRun } from './fanout.js';
import { runPresenceCost, type PresenceCost } from './presence-cost.js';
import { runLatency } from './latency.js';
import {
  ACK_WINDOWS_MS,
  fromSectionOne,
  runSdkWorkload,
  SDK_WORKLOADS,
  type SdkWorkload,
  windowLabel,
} from './realistic.js';
import { describeMachine } from './machine.js';
import { renderReport, type BenchResults } from './report.js';
import { loadBackendSpecs, ROOT } from './specs.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { runCeiling, runThroughput } from './throughput.js';
import { runTypingCost } from './typing-cost.js';

logger.setLogLevel('ERROR');

const QUICK = process.env['BENCH_QUICK'] === '1';
const WATCHDOG_MS = 570_000;
/** Connecting 500 clients takes ~5–30 s on a loaded 2-core box: not started this late. */
const FANOUT_500_DEADLINE_MS = 480_000;
/** The SDK workloads with the earlier, shorter ack window (the comparison), last: each takes 40–90 s; not started this late. */
const SDK_LEVER_DEADLINE_MS = { pairs: 400_000, group: 460_000 } as const;
const started = Date.now();
const log = (message: string) =>
  console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`);

const cleanups: (() => Promise<void>)[] = [];
async function cleanup(): Promise<void> {
  abortColdStart();
  for (const step of cleanups.splice(0).reverse()) await step().catch((e: unknown) => console.error('cleanup:', e));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  log('watchdog: over 9.5 minutes, stopping');
  void cleanup().finally(() => process.exit(2));
}, WATCHDOG_MS);

/** The bench's script: each phase in the order its figures appear in the report (long for that reason). */
async function main(): Promise<void> {
  const machine = describeMachine();
  const loadAtStart = loadAverage();
  const wholeRun = cpuWindow(undefined);
  const specs = await loadBackendSpecs();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}`);

  log('cold start: bundling and init probes');
  const coldStart = await runColdStart(specs, log);

  log('starting DynamoDB Local (in memory)');
  const dynamo: DynamoDbLocal = await startDynamoDbLocal();
  cleanups.push(() => dynamo.stop());
  const jvmPid = findDynamoDbLocalPid(dynamo.port);

  const cost = await runCost(dynamo.endpoint, specs, log);
  cost.rows.push(...(await runEditsCost(dynamo.endpoint, specs, log)));
  cost.rows.push(...(await runTypingCost(dynamo.endpoint, specs, log)));
  const reference = fromSectionOne(cost);
  const [defaultWindow, shortWindow] = ACK_WINDOWS_MS;
  const sdk: SdkWorkload[] = [];
  for (const kind of SDK_WORKLOADS)
    sdk.push(await runSdkWorkload(dynamo.endpoint, specs, reference, kind, defaultWindow, log));

  // Latency, throughput and the ceiling on one stack, so the growth check at the end runs on tables that hold
  // every message of those phases.
  const bs: BenchStack = await startBenchStack(dynamo.endpoint);
  cleanups.push(() => bs.stop());
  log('latency: real sends and the floor, interleaved');
  const latency = await runLatency(
    bs,
    QUICK ? { pairs: 10, samples: 200, warmup: 20 } : { pairs: 20, samples: 2000, warmup: 100 },
    log,
    jvmPid,
  );
  const throughput = [];
  for (const pairs of QUICK ? [10] : [10, 50]) {
    log(`throughput: ${pairs} pairs`);
    throughput.push(await runThroughput(bs, pairs, QUICK ? 4 : 12, `tp${pairs}-`, jvmPid));
  }
  log('ceiling: raw DynamoDB Local PutItem');
  const ceiling = await runCeiling(bs, 32, QUICK ? 2 : 6, jvmPid);
  const storedBefore = latency.sendToAck.n + throughput.reduce((s, t) => s + t.acked, 0);
  log('growth check: one-to-one units and an idle sweep on the loaded tables');
  const grownUnits = await oneToOne(bs, specs, 10, 1, QUICK ? 50 : 200, 'grow');
  const grownSweep = await idleSweep(bs, specs);
  await bs.stop();

  let fanout: FanoutRun[];
  let presence: PresenceCost;
  {
    const fs = await startBenchStack(dynamo.endpoint);
    cleanups.push(() => fs.stop());
    log('fan-out: 100 members');
    const first = await runFanout(fs, 100, QUICK ? 1 : 3);
    const elapsed = Date.now() - started;
    if (first.available && elapsed > FANOUT_500_DEADLINE_MS) {
      fanout = [
        first,
        {
          members: 500,
          available: false,
          reason: `skipped: ${(elapsed / 1000).toFixed(0)} s into the run, past the time budget for it`,
        },
      ];
    } else if (first.available) {
      log('fan-out: 500 members');
      fanout = [first, await runFanout(fs, 500, QUICK ? 1 : 3)];
    } else {
      fanout = [
        first,
        { members: 500, available: false, ...(first.reason === undefined ? {} : { reason: first.reason }) },
      ];
    }
    await fs.stop();
  }
  {
    // A stack of its own: the fan-out's acks and redeliveries would land in the presence windows.
    const ps = await startBenchStack(dynamo.endpoint);
    cleanups.push(() => ps.stop());
    log('presence: a subscribe, status changes to 20 and 200 subscribers');
    presence = await runPresenceCost(ps, specs);
    await ps.stop();
  }

  const sdkSkipped: string[] = [];
  for (const kind of SDK_WORKLOADS) {
    const elapsed = Date.now() - started;
    if (elapsed > SDK_LEVER_DEADLINE_MS[kind]) {
      sdkSkipped.push(
        `${kind} with the ${windowLabel(shortWindow)} window: skipped, ${(elapsed / 1000).toFixed(0)} s into the run`,
      );
      continue;
    }
    sdk.push(await runSdkWorkload(dynamo.endpoint, specs, reference, kind, shortWindow, log));
  }

  await cleanup();

  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    quick: QUICK,
    machine,
    load: { atStart: loadAtStart, atEnd: loadAverage(), machineBusy: wholeRun()?.machineBusy ?? NaN },
    specs,
    cost,
    sdk,
    sdkSkipped,
    latency,
    throughput,
    ceiling,
    growth: { storedBefore, units: grownUnits, sweep: grownSweep.units },
    coldStart,
    fanout,
    presence,
  };
  const day = results.startedAt.slice(0, 10);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const svg = renderChart(results);
  writeFileSync(join(dir, `${day}.svg`), svg);
  writeFileSync(join(dir, 'latest.svg'), svg);
  writeFileSync(join(dir, `${day}.md`), renderReport(results, `${day}.svg`));
  // Machine-readable figures (5 significant digits), to re-render the chart or compare runs.
  const json = JSON.stringify(results, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(5)) : value,
  );
  writeFileSync(join(dir, `${day}.json`), json);
  writeFileSync(join(dir, 'latest.json'), json);
  const latest = renderReport(results, 'latest.svg');
  writeFileSync(join(dir, 'latest.md'), latest);
  process.stdout.write(latest);
  log(`done in ${results.seconds.toFixed(0)} s: bench/results/${day}.{md,svg,json} and latest.{md,svg,json}`);
}

main()
  .then(
    () => 0,
    async (error: unknown) => {
      console.error('bench failed:', error);
      await cleanup();
      return 1;
    },
  )
  .then((code) => {
    clearTimeout(watchdog);
    // SDK clients built inside the handlers' runtimes keep idle sockets; nothing else is left running.
    process.exit(code);
  });
