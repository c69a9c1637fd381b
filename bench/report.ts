/** The markdown report: every figure of one run, side by side, with the targets and whether each is met. */
import type { ColdStartResult } from './cold-start.js';
import type { CpuShare } from './cpu.js';
import { DEFAULTS } from '../core/config.js';
import { NODE_MAJOR } from '../lib/function-specs.js';
import { FLOOR, TARGET_BUNDLE_BYTES, TARGET_INIT_MS, RUNS, VARIANT_RUNS } from './cold-start.js';
import { price, type CostResult, type Units } from './cost.js';
import type { FanoutRun } from './fanout.js';
import type { LatencyResult } from './latency.js';
import type { Machine } from './machine.js';
import { PEERS, PRICES, TARGET_ONE_TO_ONE_PER_MILLION } from './prices.js';
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
  latency: LatencyResult;
  throughput: ThroughputRun[];
  ceiling: Ceiling;
  growth: { storedBefore: number; units: Units; sweep: Units };
  coldStart: ColdStartResult;
  fanout: FanoutRun[];
}

export const FLOOR_RATIO_TARGET = 1.5;

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
    const perMessage = row.per === 'per million messages';
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
  const met = l.sendToAck.p50 <= FLOOR_RATIO_TARGET * l.floor.p50;
  return `## 2. Latency (real ws clients through the emulator) and its floor

${l.pairs} sender/receiver pairs used round robin, one message in flight; each real send is followed (or preceded,
alternately) by one floor sample. The floor is the send's critical path by hand: rate-limit UpdateItem, counter
UpdateItem, message PutItem on the same DynamoDB Local tables, then one @connections POST to the emulator, timed until the
frame reaches a ws client. ${l.errors} sends failed. ${cpuText(l.cpu, r.machine.cores)}

${table(['path', 'n', 'p50', 'p95', 'p99', 'max', 'p50 / floor p50'], [row('send → ack', l.sendToAck), row('send → delivery', l.sendToDelivery), row('floor (3 DynamoDB calls + 1 POST)', l.floor)])}

Floor steps (medians): ${Object.entries(l.floorSteps)
    .map(([k, v]) => `${k} ${ms(v)}`)
    .join(', ')}.
Target send→ack p50 ≤ ${FLOOR_RATIO_TARGET}× floor: ${ratio(l.sendToAck.p50)}, ${yes(met)}.
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

/** The functions' rows, without the floor's. */
const functionRows = (c: ColdStartResult) => c.rows.filter((row) => row.fn !== FLOOR);

function coldStartSection(c: ColdStartResult): string {
  const floor = c.rows.find((row) => row.fn === FLOOR);
  const rows = c.rows.map((row) => [
    row.fn,
    `${row.memoryMb} MB`,
    kb(row.bytes),
    row.bytes <= TARGET_BUNDLE_BYTES ? 'yes' : 'no',
    ms(row.initMs),
    row.initMs <= TARGET_INIT_MS ? 'yes' : 'no',
    ms(Math.min(...row.runs)),
    ms(row.initMsSourceMaps),
    row.top.map(([p, b]) => `${p} ${kb(b)}`).join(', '),
    `${kb(row.sdkExternalBytes)} / ${ms(row.sdkExternalInitMs)}`,
    floor && row !== floor ? `${signed(kb, row.bytes - floor.bytes)} / ${signed(ms, row.initMs - floor.initMs)}` : '',
  ]);
  const sizeMet = functionRows(c).every((row) => row.bytes <= TARGET_BUNDLE_BYTES);
  const initMet = functionRows(c).every((row) => row.initMs <= TARGET_INIT_MS);
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

${table(['function', 'memory', 'bundle', '≤ 250 KB', 'init, as deployed', '≤ 80 ms', 'best of 10', 'init with source maps (sourceMaps: true)', 'largest parts', 'SDK external: bundle / init', 'above the floor: bundle / init'], rows)}

Bundles ≤ 250 KB: ${yes(sizeMet)}. Init ≤ 80 ms (as deployed): ${yes(initMet)}.
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
  const bare = r.cost.rows.find((row) => row.name.includes('without client_msg_id'))?.dollars?.total ?? NaN;
  const l = r.latency;
  const maxBundle = Math.max(...functionRows(r.coldStart).map((x) => x.bytes));
  const maxInit = Math.max(...functionRows(r.coldStart).map((x) => x.initMs));
  const floor = r.coldStart.rows.find((x) => x.fn === FLOOR);
  const floorText = floor ? ` (floor: ${kb(floor.bytes)}, ${ms(floor.initMs)})` : '';
  const g = r.growth;
  const c1 = r.cost.rows[0]?.units;
  const flat =
    c1 !== undefined &&
    c1.ddbCalls === g.units.ddbCalls &&
    c1.writeUnits === g.units.writeUnits &&
    c1.readUnits === g.units.readUnits;
  return `## Targets

${table(
  ['target (issue 15)', 'measured', ''],
  [
    [
      `one-to-one with ack ≤ $${TARGET_ONE_TO_ONE_PER_MILLION.toFixed(2)} per million`,
      `${dollars(one)} with client_msg_id (as client/ sends); ${dollars(bare)} without`,
      yes(one <= TARGET_ONE_TO_ONE_PER_MILLION),
    ],
    [
      `send→ack p50 ≤ ${FLOOR_RATIO_TARGET}× floor`,
      `${ms(l.sendToAck.p50)} / ${ms(l.floor.p50)} = ${(l.sendToAck.p50 / l.floor.p50).toFixed(2)}×`,
      yes(l.sendToAck.p50 <= FLOOR_RATIO_TARGET * l.floor.p50),
    ],
    ['each bundle ≤ 250 KB', `largest ${kb(maxBundle)}${floorText}`, yes(maxBundle <= TARGET_BUNDLE_BYTES)],
    ['each init ≤ 80 ms on this machine', `slowest ${ms(maxInit)}${floorText}`, yes(maxInit <= TARGET_INIT_MS)],
    [
      'no per-message cost that grows with table size',
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
${latencySection(r)}
${throughputSection(r)}
${coldStartSection(r.coldStart)}
${fanoutSection(r.fanout)}`;
}
