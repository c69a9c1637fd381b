/**
 * Section 1: cost from counted units. Each row runs a workload on the stack and counts, for that window only:
 * API Gateway messages (frames the clients sent and received), Lambda invocations and their measured durations
 * (emulator onInvocation; GB-seconds at lib/chat-backend.ts's memory sizes), and DynamoDB units from
 * ReturnConsumedCapacity on every call (BenchMeter, with DynamoDB Local's zero-unit reads billed at their minimum).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createTokenVerifier } from '../core/auth/verify-token.js';
import { createRuntime } from '../core/runtime.js';
import { createAuthorizerHandler } from '../lambdas/authorizer/handler.js';
import { createSweeperHandler } from '../lambdas/sweeper/handler.js';
import { ENV } from '../core/config.js';
import type { SweepStats } from '../core/usecases/sweep.js';
import type { BenchClient, Frame } from './client.js';
import { BenchMeter, type MeterTotals } from './meter.js';
import { PRICES } from './prices.js';
import { memoryOf, memoryOfRoute, type BackendSpecs } from './specs.js';
import { AWS_SWEEP_INTERVAL_MS, startBenchStack, type BenchStack } from './stack.js';
import { mean, median, sleep } from './stats.js';

/** Units counted in one window, divided by the workload's unit (a message, a cycle, a sweep). */
export interface Units {
  apiIn: number;
  apiOut: number;
  lambda: Record<string, { requests: number; meanMs: number; gbSeconds: number }>;
  lambdaRequests: number;
  gbSeconds: number;
  ddbCalls: number;
  writeUnits: number;
  readUnits: number;
  /** Of readUnits: the minimum added for reads DynamoDB Local reported as 0 units. */
  addedReadUnits: number;
  zeroUnitReads: number;
  failedConditionalWrites: number;
  byCommand: Record<string, number>;
  unitsByCommand: Record<string, { read: number; write: number }>;
}

export interface Dollars {
  apiMessages: number;
  connectionMinutes: number;
  lambdaRequests: number;
  lambdaDuration: number;
  ddbWrites: number;
  ddbReads: number;
  total: number;
}

export interface CostRow {
  readonly name: string;
  /** 'per million messages', 'per user-month', 'per deployment-month' */
  readonly per: string;
  readonly available: boolean;
  readonly unavailableReason?: string;
  /** Units per message (or per month for the idle rows). */
  readonly units?: Units;
  readonly dollars?: Dollars;
  readonly samples?: number;
  readonly notes: string[];
}

export interface IdleDetail {
  connectCycle: Units;
  heartbeat: Units;
  authorizerMeanMs: number;
  sweep: Units;
  sweepOverdue: number;
  sweepCallsAfterLoad?: number;
}

export interface CostResult {
  rows: CostRow[];
  idle: IdleDetail;
  groupsAvailable: boolean;
  groupReason?: string;
}

const MONTH_MINUTES = 30 * 24 * 60;
const RECONNECT_MINUTES = 120;
const HEARTBEAT_MINUTES = 5;

export function billedMs(durationMs: number): number {
  return Math.max(PRICES.lambda.billingGranularityMs, Math.ceil(durationMs));
}

/** Snapshot of the stack's counters, divided by `per`. */
export function snapshot(
  bs: BenchStack,
  specs: BackendSpecs,
  per: number,
  extraLambda: Record<string, { requests: number; ms: number[]; memoryMb: number }> = {},
): Units {
  const lambda: Units['lambda'] = {};
  const groups = new Map<string, number[]>();
  for (const r of bs.invocations.records) groups.set(r.routeKey, [...(groups.get(r.routeKey) ?? []), r.durationMs]);
  let gbSeconds = 0;
  let requests = 0;
  for (const [route, durations] of groups) {
    const gb = durations.reduce((s, d) => s + (billedMs(d) / 1000) * (memoryOfRoute(specs, route) / 1024), 0);
    lambda[route] = { requests: durations.length / per, meanMs: mean(durations), gbSeconds: gb / per };
    gbSeconds += gb;
    requests += durations.length;
  }
  for (const [fn, extra] of Object.entries(extraLambda)) {
    const gb = extra.ms.length === 0 ? 0 : extra.requests * (billedMs(mean(extra.ms)) / 1000) * (extra.memoryMb / 1024);
    lambda[fn] = { requests: extra.requests / per, meanMs: mean(extra.ms), gbSeconds: gb / per };
    gbSeconds += gb;
    requests += extra.requests;
  }
  return fromMeter(bs.meter.summary(), per, {
    apiIn: bs.frames.in / per,
    apiOut: bs.frames.out / per,
    lambda,
    lambdaRequests: requests / per,
    gbSeconds: gbSeconds / per,
  });
}

function fromMeter(
  m: MeterTotals,
  per: number,
  rest: Pick<Units, 'apiIn' | 'apiOut' | 'lambda' | 'lambdaRequests' | 'gbSeconds'>,
): Units {
  return {
    ...rest,
    ddbCalls: m.calls / per,
    writeUnits: m.writeUnits / per,
    readUnits: m.readUnits / per,
    addedReadUnits: (m.readUnits - m.reportedReadUnits) / per,
    zeroUnitReads: m.zeroUnitReads / per,
    failedConditionalWrites: m.failedConditionalWrites / per,
    byCommand: Object.fromEntries(Object.entries(m.byCommand).map(([k, v]) => [k, v / per])),
    unitsByCommand: Object.fromEntries(
      Object.entries(m.unitsByCommand).map(([k, v]) => [k, { read: v.read / per, write: v.write / per }]),
    ),
  };
}

export function price(u: Units, connectionMinutes = 0): Dollars {
  const d = {
    apiMessages: (u.apiIn + u.apiOut) * PRICES.apiGateway.perMessage,
    connectionMinutes: connectionMinutes * PRICES.apiGateway.perConnectionMinute,
    lambdaRequests: u.lambdaRequests * PRICES.lambda.perRequest,
    lambdaDuration: u.gbSeconds * PRICES.lambda.perGbSecondArm64,
    ddbWrites: u.writeUnits * PRICES.dynamodb.perWriteUnit,
    ddbReads: u.readUnits * PRICES.dynamodb.perReadUnit,
    total: 0,
  };
  d.total = d.apiMessages + d.connectionMinutes + d.lambdaRequests + d.lambdaDuration + d.ddbWrites + d.ddbReads;
  return d;
}

export function scaleDollars(d: Dollars, k: number): Dollars {
  return Object.fromEntries(Object.entries(d).map(([key, v]) => [key, v * k])) as unknown as Dollars;
}

function scaleUnits(u: Units, k: number): Units {
  return {
    apiIn: u.apiIn * k,
    apiOut: u.apiOut * k,
    lambda: Object.fromEntries(
      Object.entries(u.lambda).map(([r, l]) => [
        r,
        { requests: l.requests * k, meanMs: l.meanMs, gbSeconds: l.gbSeconds * k },
      ]),
    ),
    lambdaRequests: u.lambdaRequests * k,
    gbSeconds: u.gbSeconds * k,
    ddbCalls: u.ddbCalls * k,
    writeUnits: u.writeUnits * k,
    readUnits: u.readUnits * k,
    addedReadUnits: u.addedReadUnits * k,
    zeroUnitReads: u.zeroUnitReads * k,
    failedConditionalWrites: u.failedConditionalWrites * k,
    byCommand: Object.fromEntries(Object.entries(u.byCommand).map(([c, v]) => [c, v * k])),
    unitsByCommand: Object.fromEntries(
      Object.entries(u.unitsByCommand).map(([c, v]) => [c, { read: v.read * k, write: v.write * k }]),
    ),
  };
}

export function addUnits(...parts: Units[]): Units {
  const out = scaleUnits(parts[0]!, 1);
  for (const p of parts.slice(1)) {
    out.apiIn += p.apiIn;
    out.apiOut += p.apiOut;
    for (const [r, l] of Object.entries(p.lambda)) {
      const cur = out.lambda[r];
      out.lambda[r] = cur
        ? { requests: cur.requests + l.requests, meanMs: cur.meanMs, gbSeconds: cur.gbSeconds + l.gbSeconds }
        : { ...l };
    }
    out.lambdaRequests += p.lambdaRequests;
    out.gbSeconds += p.gbSeconds;
    out.ddbCalls += p.ddbCalls;
    out.writeUnits += p.writeUnits;
    out.readUnits += p.readUnits;
    out.addedReadUnits += p.addedReadUnits;
    out.zeroUnitReads += p.zeroUnitReads;
    out.failedConditionalWrites += p.failedConditionalWrites;
    for (const [c, v] of Object.entries(p.byCommand)) out.byCommand[c] = (out.byCommand[c] ?? 0) + v;
    for (const [c, v] of Object.entries(p.unitsByCommand)) {
      const cur = (out.unitsByCommand[c] ??= { read: 0, write: 0 });
      cur.read += v.read;
      cur.write += v.write;
    }
  }
  return out;
}

/**
 * Runs `work` in a clean window and returns its units per `per`. A window the stack's once-a-minute sweeper ran in
 * is retaken (its calls would be counted as the workload's).
 */
export async function window(
  bs: BenchStack,
  specs: BackendSpecs,
  per: number,
  work: () => Promise<void>,
  settle: () => Promise<void>,
): Promise<Units> {
  for (let attempt = 1; ; attempt++) {
    await sleep(100); // let the previous step's last invocations report before the counters reset
    const before = bs.sweeps();
    bs.resetCounters();
    await work();
    await settle();
    await sleep(150); // frames and invocations in flight after the last awaited one
    const units = snapshot(bs, specs, per);
    await sleep(100);
    if (bs.sweeps() === before || attempt >= 3) return units;
    console.error(`bench: a sweep ran inside a measured window; retaking (${attempt})`);
  }
}

/** Sends from `sender` and resolves when its ack and `deliveries` deliveries (to any of `receivers`) arrived. */
export async function sendOne(
  sender: BenchClient,
  receivers: readonly BenchClient[],
  deliveries: number,
  frame: Frame & { seq: number },
): Promise<void> {
  const marker = String(frame['msg_data']);
  let got = 0;
  const delivered = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`delivery timeout: ${got}/${deliveries} for seq ${frame.seq}`)),
      15_000,
    );
    const listeners = receivers.map((r) => {
      const l = (f: Frame) => {
        if (f['type'] !== 'msg_data' || f['msg_data'] !== marker) return;
        if (++got < deliveries) return;
        clearTimeout(timer);
        for (let i = 0; i < receivers.length; i++) receivers[i]!.listeners.delete(listeners[i]!);
        resolve();
      };
      r.listeners.add(l);
      return l;
    });
  });
  const acked = sender.next(
    (f) => f['seq'] === frame.seq && (f['type'] === 'msg_data_ack' || f['type'] === 'error'),
    15_000,
    'msg_data_ack',
  );
  sender.send(frame);
  const ack = await acked;
  if (ack['type'] !== 'msg_data_ack') throw new Error(`send refused: ${JSON.stringify(ack)}`);
  if (deliveries > 0) await delivered;
}

let seqCounter = 1;
export const nextSeq = () => seqCounter++;
/** A ~100-byte text, the size of a typical chat line. */
export const TEXT = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs, please. ok?';

/**
 * A msg_data frame of ~100 bytes whose text is unique (deliveries are matched on it). With `clientMsgId` (what
 * client/ always sends) the server keeps the (sender, client_msg_id) record that makes resends idempotent.
 */
export function msgFrame(to: string, msgType = 1, clientMsgId = true): Frame & { seq: number } {
  const seq = nextSeq();
  const text = `${TEXT.slice(0, 88)} #${String(seq).padStart(8, '0')}`;
  return {
    action: 'msg_data',
    seq,
    to_session_id: to,
    msg_type: msgType,
    msg_data: text,
    ...(clientMsgId ? { client_msg_id: randomUUID() } : {}),
  };
}

/** Rows "one-to-one with ack" (devices = 1) and "3 devices per user". */
export async function oneToOne(
  bs: BenchStack,
  specs: BackendSpecs,
  pairs: number,
  devices: number,
  messages: number,
  tag: string,
  clientMsgId = true,
): Promise<Units> {
  bs.resetCounters();
  const a = await bs.connectAll(Array.from({ length: pairs * devices }, (_, i) => `${tag}a${Math.floor(i / devices)}`));
  const b = await bs.connectAll(Array.from({ length: pairs * devices }, (_, i) => `${tag}b${Math.floor(i / devices)}`));
  const deliveriesPerMessage = 2 * devices - 1;
  const pair = (p: number) => ({
    sender: a[p * devices]!,
    receivers: [...a.slice(p * devices + 1, (p + 1) * devices), ...b.slice(p * devices, (p + 1) * devices)],
    to: `${tag}b${p}`,
  });
  // First message of each pair creates its session rows once: not the steady state being priced.
  for (let p = 0; p < pairs; p++) {
    const { sender, receivers, to } = pair(p);
    await sendOne(sender, receivers, deliveriesPerMessage, msgFrame(to));
  }
  await bs.invocations.waitFor('msg_data_ack', pairs * deliveriesPerMessage);
  return window(
    bs,
    specs,
    messages,
    async () => {
      // One message at a time (handler durations without CPU contention), round robin over the pairs so no
      // connection nears the 20/s rate limit.
      for (let i = 0; i < messages; i++) {
        const { sender, receivers, to } = pair(i % pairs);
        await sendOne(sender, receivers, deliveriesPerMessage, msgFrame(to, 1, clientMsgId));
      }
    },
    () => bs.invocations.waitFor('msg_data_ack', messages * deliveriesPerMessage),
  );
}

/** Creates a group through the `group_create` request; undefined (with the reason) when the stack has no groups. */
export async function createGroup(
  owner: BenchClient,
  memberIds: readonly string[],
): Promise<{ groupId?: string; reason?: string }> {
  const reply = await owner.request({
    action: 'group_create',
    seq: nextSeq(),
    group_name: `bench ${memberIds.length + 1}`,
    member_ids: [...memberIds],
  });
  if (reply['type'] === 'group_create' && typeof reply['group_id'] === 'string') return { groupId: reply['group_id'] };
  if (reply['type'] === 'error' && reply['code'] === 'unknown_action')
    return { reason: 'group chat not available (group_create is not routed)' };
  return { reason: `group_create refused: ${JSON.stringify(reply)}` };
}

/** Row "one message to a 100-member group": members × 1 connection, msg_type 17 to the group id. */
async function group(
  bs: BenchStack,
  specs: BackendSpecs,
  members: number,
  messages: number,
): Promise<{ units?: Units; reason?: string }> {
  const clients = await bs.connectAll(Array.from({ length: members }, (_, i) => `g${members}m${i}`));
  const owner = clients[0]!;
  bs.resetCounters();
  const { groupId, reason } = await createGroup(
    owner,
    clients.slice(1).map((c) => c.userId),
  );
  if (!groupId) return { ...(reason === undefined ? {} : { reason }) };
  const receivers = clients.slice(1);
  await sendOne(owner, receivers, receivers.length, msgFrame(groupId, 17));
  await bs.invocations.waitFor('msg_data_ack', receivers.length);
  const units = await window(
    bs,
    specs,
    messages,
    async () => {
      for (let i = 0; i < messages; i++) await sendOne(owner, receivers, receivers.length, msgFrame(groupId, 17));
    },
    () => bs.invocations.waitFor('msg_data_ack', messages * receivers.length),
  );
  return { units };
}

/** The $connect authorizer's duration, in process (the emulator's onInvocation reports routes, not the authorizer). */
async function authorizerDurations(bs: BenchStack, runs: number): Promise<number[]> {
  const handler = createAuthorizerHandler(createTokenVerifier({ secret: bs.stack.jwtSecret }));
  const token = await bs.stack.mintToken('idle-auth');
  const event = {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api/local/$connect',
    queryStringParameters: { token },
  } as unknown as APIGatewayRequestAuthorizerEvent;
  const out: number[] = [];
  for (let i = 0; i < runs + 20; i++) {
    const t0 = performance.now();
    await handler(event);
    if (i >= 20) out.push(performance.now() - t0);
  }
  return out;
}

/** One real sweep with the AWS interval on the stack's tables, on a runtime of its own so its calls are its own. */
export async function idleSweep(
  bs: BenchStack,
  specs: BackendSpecs,
  runs = 5,
): Promise<{ units: Units; overdue: number; durations: number[] }> {
  const meter = new BenchMeter();
  const runtime = createRuntime(
    { ...bs.stack.env, [ENV.sweepIntervalMs]: String(AWS_SWEEP_INTERVAL_MS) },
    { capacityMeter: meter },
  );
  // Invoked as EventBridge does, with a scheduled event (the handler may or may not read it).
  const sweepHandler = createSweeperHandler(runtime) as unknown as (event: unknown) => Promise<SweepStats>;
  const event = {
    version: '0',
    id: 'bench',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
  const durations: number[] = [];
  let overdue = 0;
  let last: MeterTotals | undefined;
  for (let i = 0; i < runs; i++) {
    meter.reset();
    const t0 = performance.now();
    const stats = await sweepHandler(event);
    durations.push(performance.now() - t0);
    overdue += stats.due;
    last = meter.summary();
  }
  const memoryMb = memoryOf(specs, 'sweeper');
  // The first run opens the client's connections (a cold instance); price the warm median.
  const d = median(durations.slice(1));
  const units = fromMeter(last!, 1, {
    apiIn: 0,
    apiOut: 0,
    lambda: { sweeper: { requests: 1, meanMs: d, gbSeconds: (billedMs(d) / 1000) * (memoryMb / 1024) } },
    lambdaRequests: 1,
    gbSeconds: (billedMs(d) / 1000) * (memoryMb / 1024),
  });
  return { units, overdue, durations };
}

async function idle(bs: BenchStack, specs: BackendSpecs): Promise<Omit<IdleDetail, 'sweep' | 'sweepOverdue'>> {
  const cycles = 20;
  const connectCycle = await window(
    bs,
    specs,
    cycles,
    async () => {
      for (let i = 0; i < cycles; i++) {
        const c = await bs.connect(`idle${i}`);
        await c.close();
      }
    },
    () => bs.invocations.waitFor('$disconnect', cycles),
  );
  const auth = await authorizerDurations(bs, 200);
  const authMs = mean(auth);
  const authMemory = memoryOf(specs, 'authorizer');
  connectCycle.lambda['authorizer'] = {
    requests: 1,
    meanMs: authMs,
    gbSeconds: (billedMs(authMs) / 1000) * (authMemory / 1024),
  };
  connectCycle.lambdaRequests += 1;
  connectCycle.gbSeconds += connectCycle.lambda['authorizer'].gbSeconds;

  const beats = 100;
  const hb = await bs.connect('idle-heartbeat');
  const heartbeat = await window(
    bs,
    specs,
    beats,
    async () => {
      for (let i = 0; i < beats; i++) {
        const reply = await hb.request({ action: 'heartbeat', seq: nextSeq() });
        if (reply['type'] !== 'heartbeat') throw new Error(`heartbeat answered ${JSON.stringify(reply)}`);
      }
    },
    async () => undefined,
  );
  await hb.close();
  return { connectCycle, heartbeat, authorizerMeanMs: authMs };
}

export async function runCost(
  dynamoEndpoint: string,
  specs: BackendSpecs,
  log: (m: string) => void,
): Promise<CostResult> {
  const rows: CostRow[] = [];
  const bs = await startBenchStack(dynamoEndpoint);
  let idleDetail: IdleDetail;
  let groupsAvailable = false;
  let groupReason: string | undefined;
  try {
    log('cost: idle sweep (empty tables)');
    const sweep = await idleSweep(bs, specs);

    log('cost: one-to-one with ack');
    const one = await oneToOne(bs, specs, 10, 1, 400, 'c1');
    rows.push({
      name: 'One-to-one with ack (1 device each)',
      per: 'per million messages',
      available: true,
      units: one,
      dollars: scaleDollars(price(one), 1e6),
      samples: 400,
      notes: [],
    });

    log('cost: one-to-one with ack, no client_msg_id');
    const bare = await oneToOne(bs, specs, 10, 1, 200, 'c0', false);
    rows.push({
      name: 'One-to-one with ack, without client_msg_id (no idempotent-resend record)',
      per: 'per million messages',
      available: true,
      units: bare,
      dollars: scaleDollars(price(bare), 1e6),
      samples: 200,
      notes: [],
    });

    log('cost: one-to-one, 3 devices per user');
    const three = await oneToOne(bs, specs, 5, 3, 150, 'c3');
    rows.push({
      name: 'One-to-one, 3 devices per user, all acked',
      per: 'per million messages',
      available: true,
      units: three,
      dollars: scaleDollars(price(three), 1e6),
      samples: 150,
      notes: [],
    });

    log('cost: 100-member group');
    const g = await group(bs, specs, 100, 5);
    groupsAvailable = g.units !== undefined;
    groupReason = g.reason;
    rows.push(
      g.units
        ? {
            name: 'One message to a 100-member group (1 device each), all acked',
            per: 'per million messages',
            available: true,
            units: g.units,
            dollars: scaleDollars(price(g.units), 1e6),
            samples: 5,
            notes: [],
          }
        : {
            name: 'One message to a 100-member group',
            per: 'per million messages',
            available: false,
            unavailableReason: `n/a: ${g.reason ?? 'group chat not available'}`,
            notes: [],
          },
    );

    log('cost: idle user (connect cycles, heartbeats)');
    const idleParts = await idle(bs, specs);
    idleDetail = { ...idleParts, sweep: sweep.units, sweepOverdue: sweep.overdue };

    const reconnects = MONTH_MINUTES / RECONNECT_MINUTES;
    const heartbeats = MONTH_MINUTES / HEARTBEAT_MINUTES;
    const idleMonth = addUnits(
      scaleUnits(idleParts.connectCycle, reconnects),
      scaleUnits(idleParts.heartbeat, heartbeats),
    );
    rows.push({
      name: `Idle user for a month (1 connection: ${MONTH_MINUTES.toLocaleString('en-US')} connection-minutes, ${reconnects} reconnects at the 2 h cap, ${heartbeats.toLocaleString('en-US')} heartbeats at 5 min)`,
      per: 'per user-month',
      available: true,
      units: idleMonth,
      dollars: price(idleMonth, MONTH_MINUTES),
      notes: [],
    });
    const sweepMonth = scaleUnits(sweep.units, MONTH_MINUTES);
    rows.push({
      name: `Idle deployment: sweeper at rate(1 minute), ${MONTH_MINUTES.toLocaleString('en-US')} empty runs`,
      per: 'per deployment-month',
      available: true,
      units: sweepMonth,
      dollars: price(sweepMonth),
      notes: [],
    });
  } finally {
    await bs.stop();
  }
  return { rows, idle: idleDetail, groupsAvailable, ...(groupReason === undefined ? {} : { groupReason }) };
}
