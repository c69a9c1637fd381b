/**
 * Presence cost per user-day, from counted units: `npx tsx bench/presence-cost.ts` runs it on its own stack and prints
 * the table docs/benchmarks.md "Presence" quotes; bench/run.ts runs `runPresenceCost` on the bench's stack.
 *
 * What is counted, on a BenchStack (every DynamoDB call metered, every frame a client receives counted):
 * - a status change: the check presence-jobs runs (core/usecases/presence.ts `checkPresence`) on that function's
 *   metered ports, with S subscriber connections listening — reads of the Presence item, the conditional `announced`
 *   update, the subscribers' Query, the user's blocks both ways, one post per subscriber; plus the SQS send, receive and
 *   delete of the check (one message per batch, the worst case) and one presence-jobs invocation (its duration
 *   measured around the check, 256 MB);
 * - a `presence_subscribe` of K ids on a fresh connection (every row new), through the stack: the frames, the
 *   presence function's invocation, the write budget, the list and the rows.
 * $connect / $disconnect themselves are not presence's: their own cost is the idle rows' (a connect that does not
 * change the status adds nothing, one that does adds the SQS send counted here).
 *
 * The user-day: SESSIONS_PER_DAY times online and offline (2 changes each), a device connected all day reconnecting at
 * API Gateway's 2-hour cap (12 connections a day: each reconnect falls within the hold-back and announces nothing),
 * each connection subscribing to WATCHED contacts.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startDynamoDbLocal } from 'teamtalk-local';
import { logger } from '../core/observability.js';
import { checkPresence } from '../core/usecases/presence.js';
import { nextSeq, price, snapshot, type CostRow, type Units } from './cost.js';
import { PRICES } from './prices.js';
import { loadBackendSpecs, type BackendSpecs } from './specs.js';
import { startBenchStack, type BenchStack } from './stack.js';

export const SUBSCRIBER_COUNTS = [20, 200] as const;
export const SESSIONS_PER_DAY = 4;
export const CONNECTIONS_PER_DAY = 12;
export const WATCHED = 50;
/** SQS requests per check: send, receive, delete (a batch of one: the most a check can cost). */
const SQS_PER_CHECK = 3;
const CHANGES = 10;

/** Units of one status change announced to `subscribers` connections. */
async function changeUnits(bs: BenchStack, specs: BackendSpecs, subscribers: number): Promise<Units> {
  const watched = `px${subscribers}`;
  const clients = await bs.connectAll(Array.from({ length: subscribers }, (_, i) => `pw${subscribers}_${i}`));
  await Promise.all(
    clients.map((c) => c.request({ action: 'presence_subscribe', seq: nextSeq(), user_ids: [watched] })),
  );
  await bs.invocations.waitFor('presence_subscribe', subscribers);
  const ports = bs.stack.runtimes['presence-jobs'];
  const runtime = bs.stack.runtime;
  bs.resetCounters();
  const ms: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    if (i % 2 === 0) await runtime.presence.add(watched, 'bench-conn', 10);
    else await runtime.presence.remove(watched, 'bench-conn');
    const status = i % 2 === 0 ? 'online' : 'offline';
    const heard = clients.map((c) => c.next((f) => f['type'] === 'presence' && f['status'] === status));
    const started = performance.now();
    await checkPresence(ports, watched);
    ms.push(performance.now() - started);
    await Promise.all(heard);
  }
  const units = snapshot(bs, specs, CHANGES, { 'presence-jobs': { requests: CHANGES, ms, memoryMb: 256 } });
  await Promise.all(clients.map((c) => c.close()));
  return units;
}

/** Units of one presence_subscribe of WATCHED ids on a fresh connection. */
async function subscribeUnits(bs: BenchStack, specs: BackendSpecs, runs = 5): Promise<Units> {
  const clients = await bs.connectAll(Array.from({ length: runs }, (_, i) => `ps${i}`));
  const ids = Array.from({ length: WATCHED }, (_, i) => `contact${i}`);
  bs.resetCounters();
  for (const c of clients) await c.request({ action: 'presence_subscribe', seq: nextSeq(), user_ids: ids });
  await bs.invocations.waitFor('presence_subscribe', runs);
  const units = snapshot(bs, specs, runs);
  await Promise.all(clients.map((c) => c.close()));
  return units;
}

const sqsPerChange = SQS_PER_CHECK * PRICES.sqs.perRequest;

export interface PresenceCost {
  readonly rows: CostRow[];
  /** $ per user-day, by subscriber connections. */
  readonly perUserDay: Record<number, number>;
}

export async function runPresenceCost(bs: BenchStack, specs: BackendSpecs): Promise<PresenceCost> {
  const subscribe = subscribeUnits(bs, specs);
  const sub = await subscribe;
  const subDollars = price(sub).total;
  const rows: CostRow[] = [
    {
      name: `presence_subscribe of ${WATCHED} ids on a new connection`,
      per: 'per million subscribes',
      available: true,
      units: sub,
      dollars: price(sub),
      notes: [`${sub.writeUnits.toFixed(1)} W, ${sub.readUnits.toFixed(1)} R each`],
    },
  ];
  const perUserDay: Record<number, number> = {};
  for (const subscribers of SUBSCRIBER_COUNTS) {
    const change = await changeUnits(bs, specs, subscribers);
    const changeDollars = price(change).total + sqsPerChange;
    perUserDay[subscribers] = 2 * SESSIONS_PER_DAY * changeDollars + CONNECTIONS_PER_DAY * subDollars;
    rows.push({
      name: `status change announced to ${subscribers} subscriber connections`,
      per: 'per million changes',
      available: true,
      units: change,
      dollars: { ...price(change), total: changeDollars },
      notes: [`SQS ${SQS_PER_CHECK} requests`, `${change.readUnits.toFixed(1)} R, ${change.writeUnits.toFixed(1)} W`],
    });
  }
  return { rows, perUserDay };
}

const usd = (perOne: number, scale = 1e6) => `$${(perOne * scale).toFixed(2)}`;

export function renderPresenceCost(result: PresenceCost): string {
  const lines = [
    '| workload | API Gateway msgs | Lambda | DynamoDB R / W | $ per million |',
    '|---|---:|---:|---:|---:|',
    ...result.rows.map((r) => {
      const u = r.units!;
      return `| ${r.name} | ${(u.apiIn + u.apiOut).toFixed(1)} | ${u.lambdaRequests.toFixed(1)} | ${u.readUnits.toFixed(1)} / ${u.writeUnits.toFixed(1)} | ${usd(r.dollars!.total)} |`;
    }),
    '',
    `Per user-day (${SESSIONS_PER_DAY} times online and offline, ${CONNECTIONS_PER_DAY} connections each subscribing to ${WATCHED} contacts):`,
    ...SUBSCRIBER_COUNTS.map(
      (s) =>
        `- ${s} subscriber connections: $${result.perUserDay[s]!.toFixed(5)} a day, ${usd(result.perUserDay[s]! * 30, 1)} a month, $${(result.perUserDay[s]! * 1e6).toFixed(2)} per million user-days`,
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  logger.setLogLevel('ERROR');
  const dynamo = await startDynamoDbLocal();
  const bs = await startBenchStack(dynamo.endpoint);
  try {
    console.log(renderPresenceCost(await runPresenceCost(bs, await loadBackendSpecs())));
  } finally {
    await bs.stop();
    await dynamo.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
