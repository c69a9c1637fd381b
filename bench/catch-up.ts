/**
 * Catch-up after 1,000 missed messages across 20 sessions, on the local stack: DynamoDB
 * Local, the emulator and the real handlers, loopback only.
 *
 *   npx tsx bench/catch-up.ts [--runs 3] [--no-write]    (the emulator package built: `npm run build:emulator`)
 *
 * 20 senders (SDK clients) send bob 50 messages each while bob is offline, paced under the 20 a second per connection
 * limit. Then bob's SDK (fresh, no saved state) connects and catches up, `--runs` times (reads only: every run does the
 * same work). Measured from the connection's open to the SDK's `synced` event: the requests bob's SDK made, the route
 * invocations, the DynamoDB calls and the read units consumed (core/store/consumed-capacity.ts's CapacityMeter, on
 * the handlers' DynamoDB client), and the time.
 *
 * DynamoDB Local reports 0 units for a Query that returns nothing, where DynamoDB bills at least 0.5 read unit
 * (eventually consistent) or 1 (strongly consistent) per Query: such calls are counted and the minimum added. The
 * printed table is also written to docs/benchmarks-catch-up.md (unless --no-write). Everything started is stopped.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { ChatClient, peer, type MsgDataFrame, type SyncResult, type SyncState } from '../client/index.js';
import { logger } from '../core/observability.js';
import { CapacityMeter } from '../core/store/consumed-capacity.js';
import { startLocalStack, type LocalStack } from '../local/stack.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
logger.setLogLevel('WARN');

const SENDERS = 20;
const PER_SENDER = 50;
const RECEIVER = 'bob';
/** Per sender connection: ≤ 1 message per 60 ms, under the 20/s rate limit. */
const SEND_INTERVAL_MS = 60;
/** The whole run is abandoned after this long. */
const DEADLINE_MS = 5 * 60_000;

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Math.max(1, Number(args[runsArg + 1]) || 3) : 3;
const WRITE_DOC = !args.includes('--no-write');
const DOC = fileURLToPath(new URL('../docs/benchmarks-catch-up.md', import.meta.url));

const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);

/** One DynamoDB call as DynamoDB Local answered it, with the read consistency asked for. */
interface CallRecord {
  readonly command: string;
  readonly table: string;
  readonly consistent: boolean;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly items: number;
}

/** The CapacityMeter, plus a record of each call's consistency and item count (to bill empty Queries). */
class CatchUpMeter extends CapacityMeter {
  readonly calls: CallRecord[] = [];

  override attach(client: DynamoDBDocumentClient): void {
    super.attach(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as Record<string, unknown>;
        const output = result.output as {
          Count?: number;
          Item?: unknown;
          Responses?: Record<string, unknown[]>;
          ConsumedCapacity?:
            | { TableName?: string; CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }
            | { TableName?: string; CapacityUnits?: number }[];
        };
        const command = context.commandName ?? 'unknown';
        const requestItems = input['RequestItems'] as Record<string, { ConsistentRead?: boolean }> | undefined;
        const consistent = Boolean(input['ConsistentRead'] ?? Object.values(requestItems ?? {})[0]?.ConsistentRead);
        const consumed = output.ConsumedCapacity === undefined ? [] : [output.ConsumedCapacity].flat();
        const units = consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        const read = READ_COMMANDS.has(command);
        const items =
          output.Count ??
          (output.Item !== undefined ? 1 : 0) +
            Object.values(output.Responses ?? {}).reduce((n, list) => n + list.length, 0);
        this.calls.push({
          command: command.replace(/Command$/, ''),
          table: (typeof input['TableName'] === 'string'
            ? input['TableName']
            : (Object.keys(requestItems ?? {})[0] ?? '')
          ).replace(/^cu[0-9a-f]+_/, ''),
          consistent,
          readUnits: read ? units : 0,
          writeUnits: read ? 0 : units,
          items,
        });
        return result;
      },
      { step: 'initialize', name: 'catchUpCallRecorder', override: true },
    );
  }

  override reset(): void {
    super.reset();
    this.calls.length = 0;
  }
}

interface RunFigures {
  readonly sync: SyncResult;
  readonly routes: Map<string, number>;
  readonly calls: CallRecord[];
  readonly reportedReadUnits: number;
  readonly writeUnits: number;
  readonly openToSyncedMs: number;
  readonly connectToSyncedMs: number;
  readonly messages: number;
  readonly inOrder: boolean;
  readonly sweepsDuring: number;
  /** bob's sync state afterwards. */
  readonly state: SyncState;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done()` (every 10 ms, up to timeoutMs). */
async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!done()) {
    if (performance.now() - start > timeoutMs) throw new Error(`bench/catch-up: timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Route invocations finished so far, by route key, for everyone and for the receiver. */
class Invocations {
  readonly all = new Map<string, number>();
  readonly receiver = new Map<string, number>();
  count(route: string): number {
    return this.all.get(route) ?? 0;
  }
}
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

async function sendAll(stack: LocalStack): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      const sender = `sender${String(s + 1).padStart(2, '0')}`;
      const client = new ChatClient({
        url: stack.url,
        token: await stack.mintToken(sender),
        WebSocket,
        catchUp: false,
        reconnect: false,
      });
      try {
        await client.connect();
        for (let i = 1; i <= PER_SENDER; i++) {
          const sentAt = performance.now();
          await client.send({ to: peer(RECEIVER), msgData: `${sender} says ${i}: ${'x'.repeat(60)}` });
          await sleep(Math.max(0, SEND_INTERVAL_MS - (performance.now() - sentAt)));
        }
      } finally {
        client.close();
      }
    }),
  );
  return performance.now() - started;
}

async function catchUpOnce(
  stack: LocalStack,
  meter: CatchUpMeter,
  invocations: Invocations,
  syncState?: SyncState,
): Promise<RunFigures> {
  const routes = invocations.receiver;
  const disconnectsBefore = invocations.count('$disconnect');
  const bob = new ChatClient({
    url: stack.url,
    token: await stack.mintToken(RECEIVER),
    WebSocket,
    reconnect: false,
    requestTimeoutMs: 60_000,
    ...(syncState ? { syncState } : {}),
  });
  const received: MsgDataFrame[] = [];
  bob.on('message', (m) => received.push(m));
  let openedAt = 0;
  let sweepsAtOpen = 0;
  // The SDK starts its catch-up right after telling 'open': measure from there ($connect is done by then).
  bob.on('state', (state) => {
    if (state !== 'open') return;
    meter.reset();
    routes.clear();
    sweepsAtOpen = stack.sweepCount();
    openedAt = performance.now();
  });
  try {
    const connectAt = performance.now();
    const synced = bob.waitFor('synced');
    await bob.connect();
    const sync = await synced;
    const end = performance.now();
    // A route's invocation is recorded once its handler returned, a moment after its reply reached the SDK.
    await until(
      'the catch-up invocations',
      () => (routes.get('recent_sessions') ?? 0) + (routes.get('msg_list') ?? 0) >= sync.requests,
    );
    const { readUnits, writeUnits } = meter.totals();
    const ids = new Map<string, number[]>();
    for (const m of received) ids.set(m.from_user_id, [...(ids.get(m.from_user_id) ?? []), m.msg_id]);
    const inOrder = [...ids.values()].every((list) => list.every((id, i) => id === list[0]! + i));
    return {
      sync,
      routes: new Map(routes),
      calls: [...meter.calls],
      reportedReadUnits: readUnits,
      writeUnits,
      openToSyncedMs: end - openedAt,
      connectToSyncedMs: end - connectAt,
      messages: received.length,
      inOrder,
      sweepsDuring: stack.sweepCount() - sweepsAtOpen,
      state: bob.getSyncState(),
    };
  } finally {
    bob.close();
    // The next window starts after this connection's $disconnect has done its DynamoDB calls.
    await until("bob's $disconnect", () => invocations.count('$disconnect') > disconnectsBefore).catch((e: unknown) =>
      console.error(e),
    );
  }
}

/** The read units DynamoDB would bill: DynamoDB Local's figure, with an empty Query raised to its minimum. */
function billed(calls: readonly CallRecord[]): { units: number; emptyQueries: number; added: number } {
  let units = 0;
  let emptyQueries = 0;
  let added = 0;
  for (const call of calls) {
    let u = call.readUnits;
    if (call.command === 'Query') {
      const minimum = call.consistent ? 1 : 0.5;
      if (u < minimum) {
        emptyQueries += 1;
        added += minimum - u;
        u = minimum;
      }
    }
    units += u;
  }
  return { units, emptyQueries, added };
}

function idleRow(label: string, run: RunFigures): string {
  const b = billed(run.calls);
  return (
    `| ${label} | ${run.sync.requests} request, ${run.sync.sessions} sessions listed, ${run.messages} messages, ` +
    `${run.calls.length} DynamoDB calls (${run.calls.map((c) => c.command).join(', ')}), ${fmt(b.units)} read units` +
    `${b.emptyQueries > 0 ? ` (${b.emptyQueries} empty Query billed at the minimum)` : ''}, ${run.openToSyncedMs.toFixed(0)} ms |`
  );
}

function report(
  first: RunFigures,
  runs: readonly RunFigures[],
  idle: readonly [RunFigures, RunFigures],
  sendMs: number,
): string {
  const { units, emptyQueries, added } = billed(first.calls);
  const times = runs.map((r) => r.openToSyncedMs).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const routeText = [...first.routes].map(([route, n]) => `${n} ${route}`).join(', ');
  const byKind = new Map<string, { calls: number; units: number; items: number }>();
  for (const call of first.calls) {
    const key = `${call.command} ${call.table} (${call.consistent ? 'strong' : 'eventual'})`;
    const entry = byKind.get(key) ?? { calls: 0, units: 0, items: 0 };
    entry.calls += 1;
    entry.units += call.readUnits;
    entry.items += call.items;
    byKind.set(key, entry);
  }
  const lines = [
    `Catch-up after ${SENDERS * PER_SENDER} missed messages across ${SENDERS} sessions (${PER_SENDER} each), bob's SDK with no saved state`,
    '',
    '| figure | value |',
    '|---|---|',
    `| requests by bob's SDK | ${first.sync.requests} (${routeText}) |`,
    `| sessions listed / caught up | ${first.sync.sessions} / ${first.sync.sessionsCaughtUp} |`,
    `| messages delivered | ${first.messages} (each once, msg_id order per session: ${first.inOrder ? 'yes' : 'NO'}) |`,
    `| DynamoDB calls | ${first.calls.length} (${[...new Set(first.calls.map((c) => c.command))].map((c) => `${first.calls.filter((x) => x.command === c).length} ${c}`).join(', ')}) |`,
    `| read units reported by DynamoDB Local | ${fmt(first.reportedReadUnits)} |`,
    `| empty Queries billed at the minimum | ${emptyQueries} (+${fmt(added)} RU) |`,
    `| read units, as DynamoDB bills them | ${fmt(units)} |`,
    `| write units | ${fmt(first.writeUnits)} |`,
    `| time, open → synced (median of ${runs.length}) | ${median.toFixed(0)} ms (runs: ${runs.map((r) => r.openToSyncedMs.toFixed(0)).join(', ')} ms) |`,
    `| time, connect() → synced (first run) | ${first.connectToSyncedMs.toFixed(0)} ms |`,
    idleRow('reconnect with the saved state, nothing new (all 20 sessions changed within the 60 s margin)', idle[0]),
    idleRow('the same, with no session changed within the margin (saved sync time + 60 s)', idle[1]),
    '',
    '| DynamoDB call | calls | items | read units reported |',
    '|---|---|---|---|',
    ...[...byKind].map(([kind, e]) => `| ${kind} | ${e.calls} | ${e.items} | ${fmt(e.units)} |`),
    '',
    `Sending took ${(sendMs / 1000).toFixed(1)} s (${SENDERS} SDK clients in parallel, ≤ ${Math.floor(1000 / SEND_INTERVAL_MS)} messages/s each). ` +
      `Local figures: DynamoDB Local on one machine (${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at the end), not AWS latency.`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const meter = new CatchUpMeter();
  const invocations = new Invocations();
  const stack = await startLocalStack({
    port: 0,
    host: '127.0.0.1',
    tablePrefix: `cu${Math.floor(Math.random() * 0xffffff)
      .toString(16)
      .padStart(6, '0')}_`,
    // AWS's sweep rate (lib/chat-backend.ts): the sweeper stays out of the measured window; a run it enters is flagged.
    sweepIntervalMs: 60_000,
    runtimeOptions: { capacityMeter: meter },
    logger: {
      info: () => undefined,
      warn: (m) => console.error(`[emulator] ${m}`),
      error: (m) => console.error(`[emulator] ${m}`),
    },
    onInvocation: (record) => {
      invocations.all.set(record.routeKey, invocations.count(record.routeKey) + 1);
      if (record.event.requestContext.authorizer?.['userId'] === RECEIVER) {
        invocations.receiver.set(record.routeKey, (invocations.receiver.get(record.routeKey) ?? 0) + 1);
      }
    },
  });
  try {
    console.error(`stack up at ${stack.url}; sending ${SENDERS * PER_SENDER} messages to ${RECEIVER} (offline)…`);
    const sendMs = await sendAll(stack);
    // The senders' $disconnect handlers query the pending-delivery slots: let them finish outside the window.
    await until("the senders' $disconnect", () => invocations.count('$disconnect') >= SENDERS);
    const runs: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await catchUpOnce(stack, meter, invocations);
      if (run.sweepsDuring > 0) {
        console.error(`run ${i + 1}: the sweeper ran inside the window; retaking it`);
        i -= 1;
        continue;
      }
      console.error(
        `run ${i + 1}: ${run.sync.requests} requests, ${run.calls.length} DynamoDB calls, ${run.openToSyncedMs.toFixed(0)} ms`,
      );
      runs.push(run);
    }
    const first = runs[0]!;
    if (first.messages !== SENDERS * PER_SENDER || !first.inOrder)
      throw new Error(`catch-up delivered ${first.messages} messages, in order: ${first.inOrder}`);
    const measureIdle = async (state: SyncState) => {
      let run = await catchUpOnce(stack, meter, invocations, state);
      if (run.sweepsDuring > 0) run = await catchUpOnce(stack, meter, invocations, state);
      console.error(
        `idle reconnect: ${run.sync.requests} request(s), ${run.messages} messages, ${run.calls.length} DynamoDB calls`,
      );
      return run;
    };
    const idle = [
      await measureIdle(first.state),
      await measureIdle({ ...first.state, lastSyncTime: first.state.lastSyncTime + 60 }),
    ] as const;
    const table = report(first, runs, idle, sendMs);
    console.log(table);
    if (WRITE_DOC) {
      await writeFile(
        DOC,
        [
          '# Benchmark: catch-up after reconnecting',
          '',
          'Measured by `npx tsx bench/catch-up.ts` (bench/catch-up.ts) on the local stack: DynamoDB Local, the API Gateway',
          "emulator and the real handlers. 20 users each send bob 50 messages while bob is offline; then bob's SDK",
          '(client/, no saved sync state) connects and catches up: one `recent_sessions` page, then one `msg_list` per',
          'session, each asking for exactly the distance to what it holds (here 50). Capacity units are those DynamoDB Local',
          'reports with ReturnConsumedCapacity=TOTAL (core/store/consumed-capacity.ts); DynamoDB Local reports 0 for a',
          'Query that finds nothing, which DynamoDB bills at 1 read unit (strongly consistent) or 0.5 (eventual), so such',
          'calls are counted and billed at that minimum. Timings are local, not AWS latency.',
          '',
          table,
          '',
        ].join('\n'),
      );
      console.error(`written to ${DOC}`);
    }
  } finally {
    await stack.stop();
  }
}

const deadline = setTimeout(() => {
  console.error(`bench/catch-up: gave up after ${DEADLINE_MS / 1000} s`);
  process.exit(2);
}, DEADLINE_MS);
deadline.unref();

main().then(
  () => clearTimeout(deadline),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
    clearTimeout(deadline);
  },
);
