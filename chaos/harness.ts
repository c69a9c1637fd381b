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
import type { Probes, Run } from './common.js';
import { setUp, type Device } from './devices.js';
import { FaultPlan, Rng, ratesFor, type FaultRates } from './faults.js';
import { PortLog } from './observer.js';
import { report } from './report.js';
import { settle } from './settle.js';
import { startChaosStack } from './stack.js';
import { runSendPhase } from './workload.js';

export interface ChaosOptions {
  readonly dynamoEndpoint: string;
  /** Table name prefix (unique per run). */
  readonly tablePrefix?: string;
  readonly seed: number;
  readonly users: number;
  readonly devicesPerUser: number;
  readonly groups: number;
  /** Members per group (the creator included). */
  readonly groupSize: number;
  /** Messages to send (distinct client_msg_ids). */
  readonly messages: number;
  /** Sends started per second (at most). */
  readonly ratePerSecond: number;
  /** Sends waiting for their ack at once, at most: the app backs off when the stack falls behind (default 3 × rate). */
  readonly maxInFlight?: number;
  /** The sending phase ends after this long even if not every message was started. */
  readonly maxSendPhaseMs: number;
  /** Share of sends that go to a group (of the sender's). */
  readonly groupShare: number;
  /**
   * Share of one-to-one sends that reuse a client_msg_id the sender used before with another peer (another message:
   * stored and acked), and of sends that reuse one of the same conversation with other content (refused
   * `client_msg_id_reused`, nothing stored). Default 0.
   */
  readonly reuseShare?: number;
  /** Share of sends whose msg_data is 4096 × U+0001, 24 KB once JSON-escaped: history pages must be cut to fit. Default 0. */
  readonly oversizedShare?: number;
  /** Lifetime of the devices' tokens, in seconds: connections are kicked when it ends and reconnect with a new one. */
  readonly tokenTtlSeconds?: number;
  /** Overall fault rate; each kind's rate derives from it (ratesFor), `rates` overrides single kinds. */
  readonly faultRate: number;
  readonly rates?: Partial<FaultRates>;
  /** Random disconnects per minute, all devices together: half client close + reopen, half dropped connections. */
  readonly disconnectsPerMinute: number;
  /** Server ACK_TIMEOUT_MS. */
  readonly serverAckTimeoutMs?: number;
  readonly sweepIntervalMs?: number;
  /** SDK ackTimeoutMs: a send without msg_data_ack is resent (same client_msg_id) after this long. */
  readonly clientAckTimeoutMs?: number;
  /** How long the final phase may wait for sends, redeliveries and catch-ups. */
  readonly settleTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** One figure of the result table. */
export interface Figure {
  readonly label: string;
  readonly value: number | string;
  /** Set for the figures that must be 0. */
  readonly mustBeZero?: boolean;
}

export interface ChaosResult {
  readonly options: ChaosOptions;
  readonly durationMs: number;
  readonly sent: number;
  readonly acked: number;
  readonly stored: number;
  readonly storedTwice: number;
  readonly unacked: number;
  readonly refused: number;
  /** Sends that reused a key of their conversation with other content and were refused, as they must be. */
  readonly refusedAsRequired: number;
  readonly deliveriesPosted: number;
  readonly framesReceived: number;
  readonly surfacedLive: number;
  readonly surfacedByCatchUp: number;
  readonly duplicates: number;
  readonly missing: number;
  readonly missingFromServerReads: number;
  readonly phantoms: number;
  readonly acksForUnstored: number;
  readonly ownSendsEchoed: number;
  readonly gaps: number;
  readonly gapCauses: ReadonlyMap<string, number>;
  readonly faults: ReadonlyMap<string, number>;
  readonly crashPoints: ReadonlyMap<string, number>;
  readonly invocations: ReadonlyMap<string, { started: number; crashed: number }>;
  readonly disconnects: { closed: number; dropped: number; injected410: number; reopened: number };
  readonly figures: readonly Figure[];
  /** Human-readable details of every must-be-0 figure that is not 0 (first few of each). */
  readonly violations: readonly string[];
}

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
