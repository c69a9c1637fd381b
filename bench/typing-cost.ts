/**
 * The cost of typing frames, from counted units (bench/cost.ts): per 1,000 frames forwarded one-to-one, per 1,000
 * forwarded to a group of GROUP_SIZE (1 connection per member), and per 1,000 the throttle drops (what a flooding
 * client makes the server pay). Wired into `npm run bench` (section 1's rows); `npx tsx bench/typing-cost.ts` runs it
 * alone on its own DynamoDB Local and prints the rows.
 *
 * The stack runs with TYPING_INTERVAL_MS at its floor (100 ms) so that a frame per conversation passes every round
 * without waiting 3 s: what a forwarded frame costs does not depend on the interval. Each round sends a `start` and
 * a `stop` per conversation (both forwarded) and waits for every receiver's copy; the dropped row sends `stop`s with
 * no `start` before them, which the throttle refuses whenever they come.
 */
import { ENV } from '../core/config.js';
import type { BenchClient, Frame } from './client.js';
import { createGroup, price, snapshot, type CostRow, type Dollars, type Units } from './cost.js';
import type { BackendSpecs } from './specs.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { sleep } from './stats.js';

/** Members of the group row, the typist included: the bench's other group figures use 100 too. */
export const GROUP_SIZE = 100;
const PER = 1000;
const INTERVAL_MS = 100;

const typingFrame = (sessionId: string, sessionType: number, state: 'start' | 'stop'): Frame => ({
  action: 'typing',
  session_id: sessionId,
  session_type: sessionType,
  state,
});

/** Resolves when each receiver got a typing frame of `state` from `typist`. */
function delivered(receivers: readonly BenchClient[], typist: string, state: string): Promise<unknown> {
  return Promise.all(
    receivers.map((r) => r.next((f) => f['type'] === 'typing' && f['user_id'] === typist && f['state'] === state)),
  );
}

/** Runs `work` (which sends `frames` typing frames) in a clean window; its units per frame. */
async function measure(bs: BenchStack, specs: BackendSpecs, frames: number, work: () => Promise<void>) {
  await sleep(100);
  bs.resetCounters();
  await work();
  await bs.invocations.waitFor('typing', frames);
  await sleep(150); // frames in flight after the last awaited one
  return snapshot(bs, specs, frames);
}

/** `frames` forwarded frames: rounds of a start and a stop from each typist to its receivers. */
async function forwarded(
  typists: readonly { client: BenchClient; to: string; sessionType: number; receivers: readonly BenchClient[] }[],
  frames: number,
): Promise<void> {
  for (let sent = 0; sent < frames; ) {
    for (const state of ['start', 'stop'] as const) {
      // One frame at a time: handler durations without CPU contention, as section 1's other rows.
      for (const { client, to, sessionType, receivers } of typists) {
        const got = delivered(receivers, client.userId, state);
        client.send(typingFrame(to, sessionType, state));
        await got;
      }
      sent += typists.length;
    }
    await sleep(INTERVAL_MS); // the next start of each conversation passes the throttle
  }
}

const row = (name: string, units: Units, notes: string[]): CostRow => {
  const dollars = Object.fromEntries(Object.entries(price(units)).map(([k, v]) => [k, v * PER])) as unknown as Dollars;
  return { name, per: 'per 1,000 typing frames', available: true, units, dollars, samples: PER, notes };
};

export async function runTypingCost(
  dynamoEndpoint: string,
  specs: BackendSpecs,
  log: (m: string) => void,
): Promise<CostRow[]> {
  const bs = await startBenchStack(dynamoEndpoint, { [ENV.typingIntervalMs]: String(INTERVAL_MS) });
  try {
    log('cost: typing, one-to-one');
    const pairs = 10;
    const a = await bs.connectAll(Array.from({ length: pairs }, (_, i) => `ty-a${i}`));
    const b = await bs.connectAll(Array.from({ length: pairs }, (_, i) => `ty-b${i}`));
    const oneToOne = a.map((client, i) => ({ client, to: b[i]!.userId, sessionType: 1, receivers: [b[i]!] }));
    const single = await measure(bs, specs, PER, () => forwarded(oneToOne, PER));

    log(`cost: typing to a ${GROUP_SIZE}-member group`);
    const members = await bs.connectAll(Array.from({ length: GROUP_SIZE }, (_, i) => `ty-g${i}`));
    const { groupId, reason } = await createGroup(
      members[0]!,
      members.slice(1).map((m) => m.userId),
    );
    if (!groupId) throw new Error(`typing bench: no group (${reason})`);
    const groupFrames = 100;
    const typist = [{ client: members[0]!, to: groupId, sessionType: 2, receivers: members.slice(1) }];
    const inGroup = await measure(bs, specs, groupFrames, () => forwarded(typist, groupFrames));

    log('cost: typing, dropped by the throttle');
    const dropped = await measure(bs, specs, PER, async () => {
      for (let i = 0; i < PER; i++) {
        a[i % pairs]!.send(typingFrame(b[i % pairs]!.userId, 1, 'stop'));
        await bs.invocations.waitFor('typing', i + 1);
      }
    });
    return [
      row('Typing frame, one-to-one, forwarded (1 device each)', single, []),
      row(`Typing frame to a ${GROUP_SIZE}-member group, forwarded (1 device each)`, inGroup, [
        `measured on ${groupFrames} frames`,
      ]),
      row('Typing frame dropped by the throttle (a flood: one conditional write each)', dropped, []),
    ];
  } finally {
    await bs.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startDynamoDbLocal } = await import('teamtalk-local');
  const { loadBackendSpecs } = await import('./specs.js');
  const { logger } = await import('../core/observability.js');
  logger.setLogLevel('ERROR');
  const dynamo = await startDynamoDbLocal();
  try {
    const rows = await runTypingCost(dynamo.endpoint, await loadBackendSpecs(), (m) => console.error(m));
    console.log('| row | API GW msgs | Lambda req | GB-s | WRU | RRU | $ per 1,000 |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const u = r.units!;
      console.log(
        `| ${r.name} | ${(u.apiIn + u.apiOut).toFixed(2)} | ${u.lambdaRequests.toFixed(2)} | ${u.gbSeconds.toFixed(5)} | ${u.writeUnits.toFixed(2)} | ${u.readUnits.toFixed(2)} | $${r.dollars!.total.toFixed(5)} |`,
      );
    }
  } finally {
    await dynamo.stop();
  }
  process.exit(0);
}
