/**
 * The chaos scenario: users with several devices each (SDK ChatClients over `ws`) send one-to-one and group messages
 * while faults are injected (chaos/faults.ts), devices are closed and reopened, and connections are dropped without
 * $disconnect. Then faults stop, every device reconnects and catches up, and the outcome is checked against the
 * tables (Scan): nothing lost, nothing duplicated, no ack for a message that is not stored, and every msg_id gap
 * explained.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS_ENV } from 'teamtalk-local';
import { logger } from '../core/observability.js';
import { runChecks } from './checks.js';
import type { ChaosOptions, Probes, Run } from './context.js';
import { setUp, type Device } from './devices.js';
import { FaultPlan, Rng, ratesFor } from './faults.js';
import { PortLog } from './observer.js';
import { report, type ChaosResult, type Figure } from './report.js';
import { settle } from './settle.js';
import { startChaosStack } from './stack.js';
import { runSendPhase } from './workload.js';

/** Setup, the sending phase (faults and disconnects), settling (faults off), the checks, the report. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = Date.now();
  const probes = startProbes();
  // Forked in this order, so that a seed reproduces every stream.
  const rng = new Rng(options.seed);
  const workloadRng = rng.fork();
  const disconnectRng = rng.fork();
  const plan = new FaultPlan(ratesFor(options.faultRate, options.rates), rng.fork());
  // The apps' retry pauses: their draws come at moments that depend on timing, so apart from the workload's.
  const retryRng = rng.fork();
  const ports = new PortLog(startedAt);

  // The handlers log every failure at ERROR through Powertools; the chaos run counts them instead.
  logger.setLogLevel('SILENT');
  const stack = await startChaosStack({
    dynamoEndpoint: options.dynamoEndpoint,
    tablePrefix: options.tablePrefix ?? `chaos${randomUUID().slice(0, 8)}_`,
    plan,
    ackTimeoutMs: options.serverAckTimeoutMs ?? 2_000,
    sweepIntervalMs: options.sweepIntervalMs ?? 500,
    observe: ports.observe,
  });
  const raw = new DynamoDBClient({
    endpoint: options.dynamoEndpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  const run: Run = {
    options,
    log: options.log ?? (() => undefined),
    startedAt,
    stack,
    plan,
    ports,
    db: DynamoDBDocumentClient.from(raw),
  };
  const devices: Device[] = [];
  try {
    const population = await setUp(run, workloadRng, devices);
    const phase = await runSendPhase(run, population, {
      workload: workloadRng,
      disconnect: disconnectRng,
      retry: retryRng,
    });
    const settled = await settle(run, devices, phase.workload);
    const findings = await runChecks(run, population, phase, settled);
    return report({ run, population, phase, settled, findings, probes });
  } finally {
    probes.stop();
    plan.enabled = false;
    for (const d of devices) d.client.close();
    await stack.stop();
    raw.destroy();
  }
}

/** Starts measuring the event loop delay, and counting SDK warnings instead of printing them. */
function startProbes(): Probes {
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  // The @connections client's requestTimeout only warns in this SDK version (no throwOnRequestTimeout); the
  // "socket usage at capacity" warnings are requests queued behind maxSockets.
  const warnings = { postsOverRequestTimeout: 0, socketCapacityWarnings: 0 };
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : '';
    if (text.includes('exceeded the configured') && text.includes('requestTimeout')) warnings.postsOverRequestTimeout++;
    else if (text.includes('socket usage at capacity')) warnings.socketCapacityWarnings++;
    else consoleWarn(...args);
  };
  return {
    warnings,
    loopDelay,
    stop: () => {
      console.warn = consoleWarn;
      loopDelay.disable();
    },
  };
}

/** The must-be-0 figures that are not 0. */
export function failedFigures(result: ChaosResult): Figure[] {
  return result.figures.filter((f) => f.mustBeZero && f.value !== 0);
}

/** The result as a text table. */
export function formatResult(result: ChaosResult): string {
  const o = result.options;
  const width = Math.max(...result.figures.map((f) => f.label.length));
  const lines = [
    `chaos run: seed ${o.seed}, ${o.users} users × ${o.devicesPerUser} devices, ${o.groups} groups of ${o.groupSize}, ` +
      `${o.messages} messages at ${o.ratePerSecond}/s (${Math.round(o.groupShare * 100)}% to groups), fault rate ${o.faultRate}, ` +
      `${o.disconnectsPerMinute} disconnects/min; ${(result.durationMs / 1000).toFixed(1)} s`,
    '',
    `${'figure'.padEnd(width)}  ${'value'.padStart(8)}  must be`,
    `${'-'.repeat(width)}  ${'-'.repeat(8)}  -------`,
    ...result.figures.map(
      (f) =>
        `${f.label.padEnd(width)}  ${String(f.value).padStart(8)}  ${f.mustBeZero ? (f.value === 0 ? '0  ok' : '0  FAIL') : ''}`,
    ),
  ];
  if (result.crashPoints.size > 0) {
    lines.push('', 'Lambda crashes by point (route port.method:before|after):');
    for (const [point, n] of [...result.crashPoints].sort((a, b) => b[1] - a[1]))
      lines.push(`  ${String(n).padStart(5)}  ${point}`);
  }
  if (result.violations.length > 0) lines.push('', 'VIOLATIONS:', ...result.violations.map((v) => `  ${v}`));
  return lines.join('\n');
}
