/** The markdown report: every figure of one run, side by side, with the targets and whether each is met. */
import type { ColdStartResult, ColdStartRow } from './cold-start.js';
import type { CpuShare } from './cpu.js';
import { DEFAULTS } from '../core/config.js';
import { NODE_MAJOR } from '../lib/function-specs.js';
import { FLOOR, RUNS, VARIANT_RUNS } from './cold-start.js';
import { price, type CostResult, type Units } from './cost.js';
import { renderPresenceCost, type PresenceCost } from './presence-cost.js';
import type { FanoutRun } from './fanout.js';
import type { LatencyResult } from './latency.js';
import type { Machine } from './machine.js';
import { PEERS, PRICES } from './prices.js';
import {
  ACK_WINDOWS_MS,
  COMPRESSION,
  GROUP_MEMBERS,
  PAIR_USERS,
  SPEAKERS,
  type SdkWorkload,
  windowLabel,
} from './realistic.js';
import { memoryOfRoute, type BackendSpecs } from './specs.js';
import { dollars, fixed, kb, ms, table } from './stats.js';
import { MIN_INTERVAL_MS, type Ceiling, type ThroughputRun } from './throughput.js';

export interface BenchResults {
  startedAt: string;
  seconds: number;
  quick: boolean;
  machine: Machine;
  /** Load averages (1, 5, 15 min) at start and end, and the share of all cores busy over the run (any process). */
  load: { atStart: string; atEnd: string; machineBusy: number };
  specs: BackendSpecs;
  cost: CostResult;
  sdk: SdkWorkload[];
  /** SDK workloads left out for time (the bench's watchdog), with why. */
  sdkSkipped: string[];
  latency: LatencyResult;
  throughput: ThroughputRun[];
  ceiling: Ceiling;
  growth: { storedBefore: number; units: Units; sweep: Units };
  coldStart: ColdStartResult;
  fanout: FanoutRun[];
  /** Presence per change, per subscribe and per user-day (bench/presence-cost.ts). */
  presence?: PresenceCost;
}

/** Issue 25's figures to reach (bench figures, not tests). */
export const TARGETS = {
  /** Every function's bundle and init (as deployed) above the clients-only floor. */
  bundleAboveFloorBytes: 60 * 1024,
  initAboveFloorMs: 20,
  /** send→ack p50 over the floor's p50, in the same run. */
  sendToAckRatio: 1.5,
  sendToAckRatioStretch: 1.3,
  /** $ per million: realistic one-to-one traffic through the SDK; one message at a time with client_msg_id. */
  realistic: 8.0,
  realisticStretch: 7.5,
  oneAtATime: 8.62,
  /** $ per million member deliveries, a 100-member group with the SDK's bulk acks. */
  groupPerDelivery: 3.5,
} as const;

const yes = (ok: boolean) => (ok ? '**met**' : '**not met**');
const n = (v: number, d = 2) => (Number.isInteger(v) ? String(v) : v.toFixed(d));

/** One table and the prose that explains it, read top to bottom as the report does (long for that reason). */
function costSection(r: BenchResults): string {
  const rows: string[][] = [];
  for (const row of r.cost.rows) {
    if (!row.available || !row.units || !row.dollars) {
      rows.push([row.name, row.per, ...Array(9).fill(''), row.unavailableReason ?? 'n/a']);
      continue;
    }
    const u = row.units;
    const d = row.dollars;
    const perMessage = row.per.startsWith('per million');
    const cell = (v: number) => (perMessage ? n(v) : Math.round(v).toLocaleString('en-US'));
    rows.push([
      row.name,
      row.per,
      cell(u.apiIn + u.apiOut),
      cell(u.lambdaRequests),
      perMessage ? fixed(u.gbSeconds * 1000, 2) : fixed(u.gbSeconds, 1),
      cell(u.ddbCalls),
      cell(u.writeUnits),
      cell(u.readUnits),
      dollars(d.apiMessages + d.connectionMinutes, perMessage ? 2 : 4),
      dollars(d.lambdaRequests + d.lambdaDuration, perMessage ? 2 : 4),
      dollars(d.ddbWrites + d.ddbReads, perMessage ? 2 : 4),
      `**${dollars(d.total, perMessage ? 2 : 4)}**`,
    ]);
  }
  for (const peer of PEERS) {
    rows.push([
      `${peer.name} (list price; no storage, numbering or redelivery)`,
      'per million messages',
      ...Array(9).fill(''),
      `${dollars(peer.perMillion)} · with an ack ${dollars(peer.perMillionWithAck)}${peer.ackStated ? '' : ' (2×)'}`,
    ]);
  }
  const head = [
    'workload',
    'unit',
    'API GW msgs',
    'Lambda req',
    'GB-s (×10⁻³ per message; as is per month)',
    'DynamoDB calls',
    'WRU',
    'RRU',
    'API Gateway',
    'Lambda',
    'DynamoDB',
    'total',
  ];

  const one = r.cost.rows[0]!;
  const idle = r.cost.idle;
  const perCall = one.units
    ? table(
        ['call (one-to-one with ack, per message)', 'calls', 'WRU', 'RRU'],
        Object.entries(one.units.byCommand).map(([c, v]) => [
          c,
          n(v),
          n(one.units!.unitsByCommand[c]?.write ?? 0),
          n(one.units!.unitsByCommand[c]?.read ?? 0),
        ]),
      )
    : '';
  const cycle = idle.connectCycle;
  const lambdaRows: string[][] = [];
  for (const row of r.cost.rows) {
    if (!row.units || row.per !== 'per million messages') continue;
    for (const [route, l] of Object.entries(row.units.lambda)) {
      lambdaRows.push([
        row.name.split(' (')[0]!,
        route,
        n(l.requests),
        ms(l.meanMs),
        `${memoryOfRoute(r.specs, route)} MB`,
      ]);
    }
  }
  const perMessageRows = r.cost.rows.filter((row) => row.per === 'per million messages' && row.units);
  const zeroText = [
    ...perMessageRows.map((row) => `${n(row.units!.zeroUnitReads)} per message in "${row.name.split(' (')[0]}"`),
    `${n(cycle.zeroUnitReads)} per connect cycle (${n(cycle.addedReadUnits)} RRU added)`,
    `${n(idle.sweep.zeroUnitReads)} of ${n(idle.sweep.ddbCalls)} calls per idle sweep (${n(idle.sweep.addedReadUnits)} RRU added)`,
  ].join('; ');
  const failedWrites = r.cost.rows.reduce((s, row) => s + (row.units?.failedConditionalWrites ?? 0), 0);
  const group = r.cost.rows.find((row) => row.name.includes('group') && row.available && row.units && row.dollars);
  const groupText = group
    ? `\nGroup row: ${dollars(group.dollars!.total)} per million group messages is ${dollars(group.dollars!.total / Math.max(1, group.units!.apiOut - 1))} per million member deliveries (${n(group.units!.apiOut - 1)} deliveries each); its DynamoDB calls per message: ${Object.entries(
        group.units!.byCommand,
      )
        .map(([c, v]) => `${c} ${n(v)}`)
        .join(
          ', ',
        )}. Its handler durations are inflated: the ${n(group.units!.lambda['msg_data_ack']?.requests ?? 0)} acks run at once on ${r.machine.cores} cores.\n`
    : '';
  const onePrice = one.dollars?.total ?? NaN;
  const sensitivity = one.units ? price({ ...one.units, gbSeconds: one.units.gbSeconds * 3 }).total * 1e6 : NaN;

  return `## 1. Cost per million delivered messages (counted units)

Prices: ${PRICES.date}, ${PRICES.source} (API Gateway $1.00/M messages and $0.25/M connection-minutes; Lambda
$0.20/M requests and $${PRICES.lambda.perGbSecondArm64}/GB-s arm64; DynamoDB on demand $0.625/M WRU, $0.125/M RRU).
Counted in the same run: API Gateway messages = frames the ws clients sent and received (every frame < 32 KB is one
message); Lambda requests = route invocations the emulator reported, plus the authorizer per connection; GB-s = each
invocation's measured duration, rounded up to 1 ms, × the function's memory in lib/chat-backend.ts; WRU/RRU =
ReturnConsumedCapacity of every DynamoDB call. Steady state: the first message of each pair (session rows) is sent
before the window. Messages carry ~100 bytes of text.

${table(head, rows)}

**DynamoDB Local correction.** DynamoDB Local reports 0 units for a read that returns nothing; DynamoDB bills 0.5 RRU
(eventually consistent) or 1 RRU (strongly consistent) for it. Every call reported at 0 read units is counted and
billed its minimum here: ${zeroText}. A write refused by its condition is billed 1 WRU (none in the measured windows:
${n(failedWrites)}).

Where the money goes, one-to-one with ack (${dollars(onePrice)} per million): ${one.dollars ? `API Gateway ${dollars(one.dollars.apiMessages)} (4 messages: msg_data in, ack out, delivery out, msg_data_ack in), Lambda ${dollars(one.dollars.lambdaRequests + one.dollars.lambdaDuration)}, DynamoDB writes ${dollars(one.dollars.ddbWrites)}, reads ${dollars(one.dollars.ddbReads)}` : 'n/a'}.
The durations are local wall time (handlers on DynamoDB Local over loopback, a full core); at 256 MB Lambda gets a
fraction of a vCPU and DynamoDB is a network hop away, so the duration share could be larger: even 3× the measured
GB-s gives ${dollars(sensitivity)} per million.
${groupText}
${perCall}

${table(['row', 'route', 'invocations per message', 'mean duration', 'memory'], lambdaRows)}

Idle user, measured pieces: one connect cycle (authorizer ${ms(idle.authorizerMeanMs)}, $connect + $disconnect:
${n(cycle.ddbCalls)} DynamoDB calls, ${n(cycle.writeUnits)} WRU, ${n(cycle.readUnits)} RRU: ${Object.entries(
    cycle.byCommand,
  )
    .map(([c, v]) => `${c} ${n(v)}`)
    .join(', ')} —
$disconnect Queries every pending slot of the horizon for the connection's rows), one heartbeat (2 API Gateway messages, one $default invocation,
${ms(idle.heartbeat.lambda['$default']?.meanMs ?? NaN)}, no DynamoDB). Idle sweep: ${n(idle.sweep.ddbCalls)} Queries, ${n(idle.sweep.readUnits)} RRU after the
correction (DynamoDB Local reported ${n(idle.sweep.readUnits - idle.sweep.addedReadUnits)}), ${ms(idle.sweep.lambda['sweeper']?.meanMs ?? NaN)} warm; the sweeper is per
deployment, not per user.
`;
}

function sdkSection(r: BenchResults): string {
  const ordered = [...r.sdk].sort((a, b) => a.name.localeCompare(b.name) || a.ackWindowMs - b.ackWindowMs);
  const rows = ordered.map((w) => {
    const u = w.units;
    return [
      w.name,
      windowLabel(w.ackWindowMs),
      String(w.users),
      String(w.messages),
      `${w.live} / ${w.caughtUp}`,
      `${ms(w.liveDeliveryMs.p50)} / ${ms(w.liveDeliveryMs.p99)}`,
      fixed(w.ackFrames / Math.max(1, w.ackedIds), 2),
      fixed(w.sendsPerMessage, 2),
      String(w.reconnects),
      n(u.apiIn + u.apiOut),
      n(u.lambdaRequests),
      fixed(u.gbSeconds * 1000, 2),
      n(u.ddbCalls),
      n(u.writeUnits),
      n(u.readUnits),
      n(w.events / Math.max(1, w.deliveries), 3),
      dollars(w.dollars.apiMessages),
      dollars(w.dollars.lambdaRequests + w.dollars.lambdaDuration),
      dollars(w.dollars.ddbWrites + w.dollars.ddbReads),
      dollars(w.dollars.events),
      `**${dollars(w.dollars.total)}** ${w.per.replace('per million ', 'per M ')}`,
    ];
  });
  const one = r.cost.rows[0]?.dollars?.total ?? NaN;
  const calls = r.sdk.find((w) => w.name.includes('one-to-one'))?.units.byCommand ?? {};
  return `## 1b. Realistic traffic through the SDK (client/: outbox, bulk acks, catch-up)

One-to-one: ${PAIR_USERS} users with one device each, talking in pairs; a conversation is 2–3 turns, a turn a burst of
1–5 messages (1.93 on average) typed 0.6–4 s apart, the reply 3–20 s later; a fifth of the devices drop off the network
once for 10–40 s (their messages wait in the outbox and go out on reconnect; what they were sent reaches them by
catch-up). Group: ${GROUP_MEMBERS} members, one device each; ${SPEAKERS} of them post 2–3 bursts each, 4–30 s apart. The scripts
are seeded (the same every run), written in real seconds and played ${COMPRESSION}× faster, with the SDK's ack window
shortened by the same factor, so deliveries share an ack frame as they would at real speed (the live delivery time
shows whether the stack kept up: one that falls behind bunches deliveries). Each runs with the SDK's default ack window
(${windowLabel(ACK_WINDOWS_MS[0])}, a third of the server's 15 s ack timeout) and, at the end of the bench when it has time left,
with the ${windowLabel(ACK_WINDOWS_MS[1])} it had before, to show what the window saves. Units per delivered message (per
member delivery for the group), counted in the window: every frame of the SDK's sockets, every route invocation,
every DynamoDB call of every function (the once-a-minute sweeper included), and the push hook's EventBridge event
($1.00/M) for each message whose receiver had no connection. Left out, as connection time that section 1's idle row
prices per user-month: the reconnects (their invocations, and their DynamoDB calls at section 1's connect cycle) and
heartbeats. Lambda time is priced at section 1's per-invocation durations (msg_data, msg_data_ack), the other routes
at the window's median: in the window hundreds of clients and every handler share ${r.machine.cores} cores, so wall time there
is mostly waiting, which a Lambda instance does not do.

${table(['workload', 'SDK ack window', 'users', 'messages', 'delivered live / by catch-up', 'live delivery p50 / p99 (wall)', 'ack frames per acked delivery', 'msg_data frames per message', 'reconnects', 'API GW msgs', 'Lambda req', 'GB-s ×10⁻³', 'DynamoDB calls', 'WRU', 'RRU', 'push events', 'API Gateway', 'Lambda', 'DynamoDB', 'EventBridge', 'total'], rows)}

${r.sdkSkipped.length > 0 ? `Not run: ${r.sdkSkipped.join('; ')} (past its time budget: the bench stops at 9.5 minutes).\n\n` : ''}Beside section 1's one message at a time (${dollars(one)} per million with client_msg_id): a delivery to a device that
is offline skips its post, its ack and its pending row (≈ $3.5 per million less) but costs a push event ($1.00) and a
share of the catch-up requests; an ack frame shared by n deliveries saves n − 1 API Gateway messages and invocations
(≈ $1.25 each). DynamoDB calls per one-to-one delivery: ${Object.entries(calls)
    .map(([c, v]) => `${c} ${n(v)}`)
    .join(', ')}.
`;
}

function latencySection(r: BenchResults): string {
  const l = r.latency;
  const ratio = (v: number) => `${(v / l.floor.p50).toFixed(2)}×`;
  const row = (name: string, d: LatencyResult['floor']) => [
    name,
    String(d.n),
    ms(d.p50),
    ms(d.p95),
    ms(d.p99),
    ms(d.max),
    ratio(d.p50),
  ];
  const met = l.sendToAck.p50 <= TARGETS.sendToAckRatio * l.floor.p50;
  return `## 2. Latency (real ws clients through the emulator) and its floor

${l.pairs} sender/receiver pairs used round robin, one message in flight; each real send is followed (or preceded,
alternately) by one floor sample. The floor is the send's critical path by hand: rate-limit UpdateItem, counter
UpdateItem, message PutItem on the same DynamoDB Local tables, then one @connections POST to the emulator, timed until the
frame reaches a ws client. ${l.errors} sends failed. ${cpuText(l.cpu, r.machine.cores)}

${table(['path', 'n', 'p50', 'p95', 'p99', 'max', 'p50 / floor p50'], [row('send → ack', l.sendToAck), row('send → delivery', l.sendToDelivery), row('floor (3 DynamoDB calls + 1 POST)', l.floor)])}

Floor steps (medians): ${Object.entries(l.floorSteps)
    .map(([k, v]) => `${k} ${ms(v)}`)
    .join(', ')}.
Target send→ack p50 ≤ ${TARGETS.sendToAckRatio}× floor: ${ratio(l.sendToAck.p50)}, ${yes(met)}.
`;
}

function throughputSection(r: BenchResults): string {
  const rows = r.throughput.map((t) => [
    `${t.pairs} pairs`,
    `${fixed(t.seconds, 1)} s`,
    `${Math.round(t.capPerSecond)}`,
    fixed(t.messagesPerSecond, 0),
    fixed(t.deliveriesPerSecond, 0),
    ms(t.ackP50),
    ms(t.ackP99),
    fixed(t.ddbCallsPerMessage, 2),
    fixed(t.messagesPerSecond * t.ddbCallsPerMessage, 0),
    fixed(t.ddbWritesPerMessage, 2),
    Object.entries(t.refused)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '0',
    t.cpu ? `${fixed(t.cpu.node, 2)} / ${fixed(t.cpu.jvm, 2)} / ${fixed(t.cpu.others, 2)}` : 'n/a',
  ]);
  const c = r.ceiling;
  const callsPerMessage = r.throughput[0]?.ddbCallsPerMessage ?? 8;
  const busiest = Math.max(...r.throughput.map((t) => t.messagesPerSecond * t.ddbCallsPerMessage));
  const g = r.growth;
  const one = r.cost.rows[0]?.units;
  // 8 or 9 minute slots in the default horizon, each in every shard, after the Scan.
  const sweepBound = 1 + 9 * DEFAULTS.pendingShards;
  const growthRows = one
    ? [
        ['DynamoDB calls per message', n(one.ddbCalls), n(g.units.ddbCalls)],
        ['WRU per message', n(one.writeUnits), n(g.units.writeUnits)],
        ['RRU per message', n(one.readUnits), n(g.units.readUnits)],
        [
          `sweep with nothing due: calls / RRU (empty table: 1 Scan; rows in it: also a Query per live slot and shard, at most ${sweepBound})`,
          `${n(r.cost.idle.sweep.ddbCalls)} / ${n(r.cost.idle.sweep.readUnits)}`,
          `${n(g.sweep.ddbCalls)} / ${n(g.sweep.readUnits)}`,
        ],
      ]
    : [];
  const unchanged =
    one !== undefined &&
    one.ddbCalls === g.units.ddbCalls &&
    one.writeUnits === g.units.writeUnits &&
    one.readUnits === g.units.readUnits &&
    g.sweep.ddbCalls <= sweepBound;
  return `## 3. Sustained throughput

Each sender keeps one message in flight and waits ≥ ${MIN_INTERVAL_MS} ms between sends (≤ ${fixed(1000 / MIN_INTERVAL_MS, 1)}/s per connection,
under the 20/s rate limit), so load grows with connections; receivers ack every delivery. Everything — ws clients,
emulator, every handler, and DynamoDB Local's JVM — shares this machine's ${r.machine.cores} cores.

${table(['clients', 'window', 'offered cap msg/s', 'stored+acked msg/s', 'deliveries/s', 'send→ack p50', 'p99', 'DynamoDB calls/msg', 'DynamoDB calls/s', 'WRU/msg', 'refused', 'cores used: Node / DynamoDB Local / other processes'], rows)}

Ceiling, same run: raw DynamoDB Local, ${c.concurrency} concurrent PutItem loops for ${fixed(c.seconds, 1)} s: **${fixed(c.putsPerSecond, 0)} PutItems/s**
(p50 ${ms(c.p50)}). ${cpuText(c.cpu, r.machine.cores)} At ${fixed(callsPerMessage, 1)} calls per message that rate is
${fixed(c.putsPerSecond / callsPerMessage, 0)} messages/s; the busiest run above drives ${fixed(busiest, 0)} DynamoDB calls/s, ${fixed((100 * busiest) / c.putsPerSecond, 0)}% of it (its
calls are a mix of cheaper reads and updates, so it can exceed the PutItem rate): the stack runs at DynamoDB Local's pace
on this machine, and both share the cores with everything else.

No per-message cost that grows with table size: the same one-to-one window and an idle sweep, measured again at the end
on the tables that by then hold ${g.storedBefore.toLocaleString('en-US')} more messages — ${unchanged ? '**unchanged**' : '**changed** (see the rows)'}:

${table(['', 'fresh tables (section 1)', 'after the load'], growthRows)}
`;
}

/** A difference with its sign. */
const signed = (format: (v: number) => string, v: number) => (v < 0 ? `−${format(-v)}` : `+${format(v)}`);

const bundleMet = (row: ColdStartRow, floor: ColdStartRow) => row.bytes - floor.bytes <= TARGETS.bundleAboveFloorBytes;
const initMet = (row: ColdStartRow, floor: ColdStartRow) => row.initMs - floor.initMs <= TARGETS.initAboveFloorMs;

/** The functions' rows, without the floor's. */
const functionRows = (c: ColdStartResult) => c.rows.filter((row) => row.fn !== FLOOR);

function coldStartSection(c: ColdStartResult): string {
  const floor = c.rows.find((row) => row.fn === FLOOR);
  const rows = c.rows.map((row) => [
    row.fn,
    `${row.memoryMb} MB`,
    kb(row.bytes),
    !floor || row === floor ? '' : bundleMet(row, floor) ? 'yes' : 'no',
    ms(row.initMs),
    !floor || row === floor ? '' : initMet(row, floor) ? 'yes' : 'no',
    ms(Math.min(...row.runs)),
    ms(row.initMsSourceMaps),
    row.top.map(([p, b]) => `${p} ${kb(b)}`).join(', '),
    `${kb(row.sdkExternalBytes)} / ${ms(row.sdkExternalInitMs)}`,
    floor && row !== floor ? `${signed(kb, row.bytes - floor.bytes)} / ${signed(ms, row.initMs - floor.initMs)}` : '',
  ]);
  const sizeMet = floor !== undefined && functionRows(c).every((row) => bundleMet(row, floor));
  const allInitMet = floor !== undefined && functionRows(c).every((row) => initMet(row, floor));
  return `## 4. Cold start

Each lambdas/*/entry.ts bundled with esbuild ${c.esbuild} as lib/chat-backend.ts has NodejsFunction do it (ESM, minify,
source map, target and banner and mainFields read from the file, nothing external). Init = a fresh \`node\` process
importing the bundle, timed inside with performance.now(), median of ${RUNS}; "as deployed" is without
NODE_OPTIONS=--enable-source-maps (the stack's \`sourceMaps\` prop, off by default). The two comparison columns (with source maps; \`@aws-sdk/*\`
external, NodejsFunction's default that the stack overrides, SDK then loaded unbundled) are medians of ${VARIANT_RUNS}. Local Node ${process.version}, Lambda runs Node ${NODE_MAJOR}.
\`@aws-sdk/credential-provider-node\` is bundled as core/lambda-credentials.ts (environment credentials only, what Lambda
gives). "${FLOOR}" is bench/floor-handler.ts: an empty handler creating the clients every function creates (DynamoDB
document client, @connections, EventBridge, Powertools logger and metrics) — the floor with the SDK v3 clients the
project requires; "above the floor" is each function's own code.
${c.cpu ? `CPU over the phase: machine ${(c.cpu.machineBusy * 100).toFixed(0)}% busy; the bench and its probes ${fixed(c.cpu.node, 2)} cores, other processes ${fixed(c.cpu.others, 2)} — init times are wall time and grow with that contention; "best of 10" is the least disturbed run.` : ''}

${table(['function', 'memory', 'bundle', '≤ floor + 60 KB', 'init, as deployed', '≤ floor + 20 ms', 'best of 10', 'init with source maps (sourceMaps: true)', 'largest parts', 'SDK external: bundle / init', 'above the floor: bundle / init'], rows)}

Bundles ≤ floor + 60 KB: ${yes(sizeMet)}. Init ≤ floor + 20 ms (as deployed): ${yes(allInitMet)}.
`;
}

function fanoutSection(f: FanoutRun[]): string {
  const rows = f.map((run) =>
    run.available
      ? [
          `${run.members}`,
          ms(run.ackMs ?? NaN),
          ms(run.firstDeliveryMs ?? NaN),
          ms(run.lastDeliveryMs ?? NaN),
          fixed(run.ddbCallsPerMessage ?? NaN, 0),
          `${fixed(run.connectSeconds ?? NaN, 1)} s`,
        ]
      : [`${run.members}`, `n/a: ${run.reason ?? 'group chat not available'}`, '', '', '', ''],
  );
  return `## 5. Fan-out: one group message, one connection per member

${table(['members', 'send → ack', 'first delivery', 'last delivery', 'DynamoDB calls (send path)', 'connecting them'], rows)}
`;
}

function targets(r: BenchResults): string {
  const one = r.cost.rows[0]?.dollars?.total ?? NaN;
  const l = r.latency;
  const ratio = l.sendToAck.p50 / l.floor.p50;
  const floor = r.coldStart.rows.find((x) => x.fn === FLOOR);
  const fns = functionRows(r.coldStart);
  const bundle = fns.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const init = fns.reduce((a, b) => (b.initMs > a.initMs ? b : a));
  const sdk = (name: string, window: number) => r.sdk.find((w) => w.name.includes(name) && w.ackWindowMs === window);
  const [defaultWindow, shortWindow] = ACK_WINDOWS_MS;
  const pairs = sdk('one-to-one', defaultWindow);
  const pairsShort = sdk('one-to-one', shortWindow);
  const grp = sdk('group', defaultWindow);
  const grpShort = sdk('group', shortWindow);
  const total = (w: SdkWorkload | undefined) => w?.dollars.total ?? NaN;
  const g = r.growth;
  const c1 = r.cost.rows[0]?.units;
  const flat =
    c1 !== undefined &&
    c1.ddbCalls === g.units.ddbCalls &&
    c1.writeUnits === g.units.writeUnits &&
    c1.readUnits === g.units.readUnits;
  const stretch = (ok: boolean, stretchOk: boolean) => (stretchOk ? '**met** (stretch too)' : yes(ok));
  return `## Targets

${table(
  ['figure to reach', 'measured', ''],
  [
    [
      'every bundle ≤ the clients-only floor + 60 KB',
      floor
        ? `largest ${bundle.fn} ${kb(bundle.bytes)} = floor ${kb(floor.bytes)} ${signed(kb, bundle.bytes - floor.bytes)}`
        : 'n/a',
      yes(floor !== undefined && fns.every((x) => bundleMet(x, floor))),
    ],
    [
      'every init as deployed ≤ floor + 20 ms',
      floor
        ? `slowest ${init.fn} ${ms(init.initMs)} = floor ${ms(floor.initMs)} ${signed(ms, init.initMs - floor.initMs)}`
        : 'n/a',
      yes(floor !== undefined && fns.every((x) => initMet(x, floor))),
    ],
    [
      `send→ack p50 ≤ ${TARGETS.sendToAckRatio}× the floor (stretch ${TARGETS.sendToAckRatioStretch}×), p99 reported`,
      `p50 ${ms(l.sendToAck.p50)} / ${ms(l.floor.p50)} = ${ratio.toFixed(2)}×; p99 ${ms(l.sendToAck.p99)} (floor p99 ${ms(l.floor.p99)})`,
      stretch(ratio <= TARGETS.sendToAckRatio, ratio <= TARGETS.sendToAckRatioStretch),
    ],
    [
      `SDK-driven realistic one-to-one ≤ $${TARGETS.realistic.toFixed(2)} per million delivered (stretch $${TARGETS.realisticStretch.toFixed(2)})`,
      `${dollars(total(pairs))} with the SDK's ${windowLabel(defaultWindow)} ack window; ${dollars(total(pairsShort))} with ${windowLabel(shortWindow)} (section 1b)`,
      stretch(total(pairs) <= TARGETS.realistic, total(pairs) <= TARGETS.realisticStretch),
    ],
    [
      `one message at a time with client_msg_id ≤ $${TARGETS.oneAtATime.toFixed(2)} per million`,
      dollars(one),
      yes(one <= TARGETS.oneAtATime),
    ],
    [
      `100-member group with the SDK's bulk acks ≤ $${TARGETS.groupPerDelivery.toFixed(2)} per million member deliveries`,
      `${dollars(total(grp))} with the SDK's ${windowLabel(defaultWindow)} window; ${dollars(total(grpShort))} with ${windowLabel(shortWindow)}`,
      yes(total(grp) <= TARGETS.groupPerDelivery),
    ],
    [
      'no per-message cost that grows with table size (issue 15)',
      flat ? `same units after ${g.storedBefore.toLocaleString('en-US')} messages` : 'units changed',
      yes(flat),
    ],
  ],
)}
`;
}

function cpuText(cpu: CpuShare | undefined, cores: number): string {
  if (!cpu) return '';
  return `CPU over the phase: machine ${(cpu.machineBusy * 100).toFixed(0)}% of ${cores} cores busy — this Node process (clients, emulator, handlers) ${fixed(cpu.node, 2)} cores, DynamoDB Local ${fixed(cpu.jvm, 2)}, other processes ${fixed(cpu.others, 2)}.`;
}

export function renderReport(r: BenchResults, chartFile: string): string {
  const m = r.machine;
  return `# Benchmark: teamtalk-serverless in local mode

Run ${r.startedAt} in ${r.seconds.toFixed(0)} s${r.quick ? ' — **BENCH_QUICK: reduced samples, not for figures**' : ''}. \`npm run bench\`; method in docs/benchmarks.md.

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb.toFixed(1)} GB, ${m.os}; Node ${m.node}; ${m.java}; ${m.dynamoDbLocal}
(in memory); AWS SDK ${m.awsSdk}; esbuild ${m.esbuild}. Load average ${r.load.atStart} at start, ${r.load.atEnd} at end;
${(r.load.machineBusy * 100).toFixed(0)}% of all cores busy over the run (every process, not only the bench). ${r.specs.notes.join('; ')}.

![latency distribution and cost breakdown](${chartFile})

${targets(r)}
${costSection(r)}
${sdkSection(r)}
${latencySection(r)}
${throughputSection(r)}
${coldStartSection(r.coldStart)}
${fanoutSection(r.fanout)}${r.presence ? `\n## Presence cost (bench/presence-cost.ts)\n\n${renderPresenceCost(r.presence)}\n` : ''}`;
}
