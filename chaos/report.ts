/** The run's figures (the must-be-0 ones add to the violations) and its result. */
import type { Findings } from './checks.js';
import type { ChaosOptions, Probes, Run } from './context.js';
import type { Population } from './devices.js';
import { FAULT_KINDS } from './faults.js';
import type { Settled } from './settle.js';
import type { SendPhase } from './workload.js';

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

export interface ReportInput {
  readonly run: Run;
  readonly population: Population;
  readonly phase: SendPhase;
  readonly settled: Settled;
  readonly findings: Findings;
  readonly probes: Probes;
}

/** Totals over the devices and the stack, read once the checks are done. */
interface Tally {
  readonly deliveriesPosted: number;
  readonly framesReceived: number;
  readonly surfacedLive: number;
  readonly surfacedByCatchUp: number;
  readonly reopened: number;
  readonly invocations: Map<string, { started: number; crashed: number }>;
  readonly faults: Map<string, number>;
  readonly storedMine: number;
}

export function report(input: ReportInput): ChaosResult {
  const { run, phase, findings } = input;
  const { sends, holding, gaps, violations } = findings;
  const tally = tallyOf(input);
  const figures = figuresOf(input, tally);
  for (const f of figures)
    if (f.mustBeZero && f.value !== 0 && !violations.some((v) => v.startsWith(f.label)))
      violations.push(`${f.label}: ${f.value}`);
  return {
    options: run.options,
    durationMs: Date.now() - run.startedAt,
    sent: phase.workload.records.length,
    acked: sends.acked,
    stored: tally.storedMine,
    storedTwice: sends.storedTwice,
    unacked: sends.unacked,
    refused: sends.refused,
    refusedAsRequired: sends.reusedRefused,
    deliveriesPosted: tally.deliveriesPosted,
    framesReceived: tally.framesReceived,
    surfacedLive: tally.surfacedLive,
    surfacedByCatchUp: tally.surfacedByCatchUp,
    duplicates: holding.duplicates,
    missing: holding.missing,
    missingFromServerReads: findings.missingFromServerReads,
    phantoms: holding.phantoms,
    acksForUnstored: sends.acksForUnstored,
    ownSendsEchoed: holding.ownSendsEchoed,
    gaps: gaps.gaps,
    gapCauses: gaps.gapCauses,
    faults: tally.faults,
    crashPoints: run.plan.counters.crashPoints,
    invocations: tally.invocations,
    disconnects: { ...phase.disconnects, injected410: run.plan.counters.get('gateway.410') },
    figures,
    violations,
  };
}

function tallyOf({ run, population, findings }: ReportInput): Tally {
  const { stack, plan } = run;
  const { devices } = population;
  const invocations = new Map<string, { started: number; crashed: number }>();
  for (const [route, started] of stack.invocations.started)
    invocations.set(route, { started, crashed: stack.invocations.crashed.get(route) ?? 0 });
  return {
    deliveriesPosted: stack.gateway.stats.delivered.get('msg_data') ?? 0,
    framesReceived: devices.reduce((n, d) => n + d.rawMsgData, 0),
    surfacedLive: devices.reduce((n, d) => n + d.live, 0),
    surfacedByCatchUp: devices.reduce((n, d) => n + d.caughtUp, 0),
    reopened: devices.reduce((n, d) => n + d.opens, 0) - devices.length,
    invocations,
    faults: new Map<string, number>(FAULT_KINDS.map((k) => [k, plan.counters.get(k)])),
    storedMine: findings.tables.messageRows.length,
  };
}

function figuresOf({ run, population, phase, settled, findings, probes }: ReportInput, tally: Tally): Figure[] {
  const { options, stack, plan, ports } = run;
  const { devices } = population;
  const { records } = phase.workload;
  const { sends, holding, gaps } = findings;
  const { stats } = stack.gateway;
  return [
    { label: 'sends started', value: records.length },
    { label: 'send phase, s (the app waits when too many sends are unacked)', value: Math.round(phase.ms / 1000) },
    { label: 'send attempts by the app (SDK resends not counted)', value: records.reduce((n, r) => n + r.attempts, 0) },
    { label: 'acked (msg_data_ack received)', value: sends.acked },
    { label: 'sends never acked', value: sends.unacked, mustBeZero: true },
    { label: 'sends refused (not internal / rate_limited), reused keys apart', value: sends.refused, mustBeZero: true },
    { label: 'reused keys with other content refused client_msg_id_reused', value: sends.reusedRefused },
    { label: 'reused keys with other content acked', value: sends.reusedAccepted, mustBeZero: true },
    {
      label: 'keys reused in another conversation (new messages, acked)',
      value: records.filter((r) => !r.mustBeRefused && r.clientMsgId !== `chaos-${options.seed}-${r.index}` && r.ack)
        .length,
    },
    {
      label: 'worst-case 4 KB messages (24 KB of JSON each)',
      value: records.filter((r) => r.text.length === 4096).length,
    },
    { label: 'frames not posted for their size (over 128 KB)', value: stats.oversized, mustBeZero: true },
    { label: 'connections kicked (token expired)', value: devices.reduce((n, d) => n + d.kicks, 0) },
    { label: 'stored (Messages rows, Scan)', value: tally.storedMine },
    {
      label: 'stored twice (one key: sender, conversation, client_msg_id; two msg_ids)',
      value: sends.storedTwice,
      mustBeZero: true,
    },
    { label: 'deliveries posted (msg_data to a connection, redeliveries included)', value: tally.deliveriesPosted },
    { label: 'msg_data frames received by devices (before SDK de-dup)', value: tally.framesReceived },
    { label: 'messages surfaced by the SDK: live', value: tally.surfacedLive },
    { label: 'messages surfaced by the SDK: by catch-up', value: tally.surfacedByCatchUp },
    { label: 'duplicates seen by clients after SDK de-dup', value: holding.duplicates, mustBeZero: true },
    { label: 'messages missing from a receiver device after final catch-up', value: holding.missing, mustBeZero: true },
    {
      label: 'messages a device lacks as a known hole, asked again when due (stored after its catch-up passed)',
      value: holding.awaitingHoleRetry,
    },
    {
      label: 'stored messages a full read (recent_sessions + msg_list) does not serve a member',
      value: findings.missingFromServerReads,
      mustBeZero: true,
    },
    { label: 'messages held by a device but not stored', value: holding.phantoms, mustBeZero: true },
    { label: 'acks for unstored messages', value: sends.acksForUnstored, mustBeZero: true },
    {
      label: 'stored messages no connection got live (left to catch-up)',
      value: [...findings.tables.stored.keys()].filter((k) => !ports.postedLive.has(k)).length,
    },
    {
      label: '  of which stored, then answered `internal` (own conditional put retried by the SDK)',
      value: [...ports.storedButRefused].filter((k) => !ports.postedLive.has(k)).length,
    },
    { label: 'own acked sends also surfaced as messages on the sending device', value: holding.ownSendsEchoed },
    {
      label: '  of which the device got a live msg_data frame (a reconnect before the fan-out)',
      value: holding.ownSendsEchoedLive,
    },
    { label: 'route invocations still running at the check', value: settled.stillRunning },
    { label: 'msg_id gaps (counter values never stored)', value: gaps.gaps },
    ...[...gaps.gapCauses]
      .sort((a, b) => b[1] - a[1])
      .map(([cause, n]) => ({ label: `  gap cause: ${cause}`, value: n, mustBeZero: cause === 'UNEXPLAINED' })),
    ...[...tally.faults].map(([kind, n]) => ({ label: `  fault injected: ${kind}`, value: n })),
    { label: 'faults injected, total', value: plan.counters.total() },
    { label: 'disconnects: client close + reopen', value: phase.disconnects.closed },
    { label: 'disconnects: connection dropped, no $disconnect', value: phase.disconnects.dropped },
    { label: 'posts answered 410 by the emulator (connection really gone)', value: stats.gone },
    { label: '@connections posts slower than 1 s', value: stats.slow },
    { label: 'slowest @connections post, ms', value: stats.maxMs },
    {
      label: '@connections requests past the 3 s requestTimeout (SDK warning only)',
      value: probes.warnings.postsOverRequestTimeout,
    },
    { label: 'SDK warnings: requests queued behind 50 busy sockets', value: probes.warnings.socketCapacityWarnings },
    {
      label: 'event loop delay p99 / max, ms',
      value: `${Math.round(probes.loopDelay.percentile(99) / 1e6)} / ${Math.round(probes.loopDelay.max / 1e6)}`,
    },
    { label: 'device (re)opens after the first', value: tally.reopened },
    { label: "SDK 'error' events by name", value: sdkErrorsByName(devices) },
    {
      label: 'Lambda invocations (crashed)',
      value: [...tally.invocations].map(([route, s]) => `${route} ${s.started} (${s.crashed})`).join(', '),
    },
  ];
}

function sdkErrorsByName(devices: Population['devices']): string {
  const all = new Map<string, number>();
  for (const d of devices) for (const [name, n] of d.sdkErrors) all.set(name, (all.get(name) ?? 0) + n);
  return [...all].map(([name, n]) => `${name} ${n}`).join(', ') || 'none';
}
