/**
 * Section 1b: realistic traffic driven by the SDK itself (client/: its outbox, bulk acks and catch-up), priced from
 * counted units as section 1 prices one message at a time.
 *
 * - One-to-one: PAIR_USERS users, one device each, talking in pairs. A conversation is 2–3 turns; a turn is a burst
 *   of 1–5 messages typed 0.6–4 s apart, then the other side replies after 3–20 s. A fifth of the devices drop off the
 *   network once (10–40 s): what they are sent meanwhile reaches them by the SDK's catch-up when they are back, and
 *   what their users type meanwhile waits in the outbox and goes out on reconnect.
 * - Group: GROUP_MEMBERS members of one group, one device each; SPEAKERS of them post 2–3 bursts each, 4–30 s apart.
 *
 * The script is written in real seconds (seeded, the same every run) and played COMPRESSION× faster. The SDK's ack
 * window (ackBatchMs) is shortened by the same factor, so two deliveries share an ack frame exactly when they would
 * at real speed; the stack's own latency is not compressed. Each workload runs with the SDK's default window and
 * with the shorter one it had before (ACK_WINDOWS_MS), so the figures show what the window saves.
 *
 * Counted in the window: API Gateway messages (every frame of the SDK's sockets), route invocations, DynamoDB units of
 * every function (the stack's once-a-minute sweeper included), and the push hook's EventBridge events: one per message
 * whose receiver had no connection (the send's Connections Query that found none). Reconnects and heartbeats are
 * connection time, priced per user-month by section 1's idle row: left out (see withoutConnections). Durations are not
 * the window's: there hundreds of clients, the emulator and every handler share two cores, so an invocation's wall
 * time is mostly waiting for them, which a Lambda instance does not do; msg_data and msg_data_ack are priced at section
 * 1's one-at-a-time durations (the group's send at its group row's), the other routes at the window's median.
 */
import { performance } from 'node:perf_hooks';
import { group, peer, type Conversation } from '../client/index.js';
import { DEFAULT_ACK_WINDOW_MS } from '../client/acks.js';
import { billedMs, price, snapshot, type CostResult, type Dollars, type Units } from './cost.js';
import { shortTable } from './meter.js';
import { PRICES } from './prices.js';
import { closeFleet, FrameTally, startFleet, type Device } from './sdk-fleet.js';
import { memoryOfRoute, type BackendSpecs } from './specs.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { median, percentile, sleep } from './stats.js';

const QUICK = process.env['BENCH_QUICK'] === '1';
export const PAIR_USERS = QUICK ? 40 : 200;
export const GROUP_MEMBERS = QUICK ? 30 : 100;
export const SPEAKERS = 4;
/** Real seconds are played this many times faster. */
export const COMPRESSION = 4;
/** The SDK's default ack window, and the 50 ms it had before (the comparison). In real ms. */
export const ACK_WINDOWS_MS = [DEFAULT_ACK_WINDOW_MS, 50] as const;

/** An ack window as the report writes it. */
export const windowLabel = (ms: number): string => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);
export const SDK_WORKLOADS = ['pairs', 'group'] as const;
type WorkloadKind = (typeof SDK_WORKLOADS)[number];
const OFFLINE_SHARE = 0.2;
const DEADLINE_MS = 120_000;

/** One message of the script: who types it, to which conversation, when (real ms from the start). */
interface PlannedSend {
  readonly from: string;
  readonly to: Conversation;
  readonly atMs: number;
}

interface OfflineSpell {
  readonly userId: string;
  readonly fromMs: number;
  readonly untilMs: number;
}

interface Script {
  readonly sends: PlannedSend[];
  readonly offline: OfflineSpell[];
  /** The receivers of a message `from` sent `to` (group: every member but the sender). */
  receiversOf(from: string, to: Conversation): readonly string[];
}

/** Per-invocation durations measured without contention (section 1), by route. */
export type ReferenceDurations = Readonly<Record<string, number>>;

/** What section 1 measured that the SDK workloads are priced with. */
export interface FromSectionOne {
  readonly durations: { readonly pairs: ReferenceDurations; readonly group: ReferenceDurations };
  /** One connect cycle ($connect and $disconnect): its DynamoDB calls and units, left out per reconnect. */
  readonly connectCycle: Units;
}

/** Routes of connection time, not of messages: section 1's idle row prices them per user-month. */
const CONNECTION_ROUTES = new Set(['$connect', '$disconnect', '$default', 'authorizer']);

export function fromSectionOne(cost: CostResult): FromSectionOne {
  const route = (row: number, key: string) => cost.rows[row]?.units?.lambda[key]?.meanMs;
  const group = cost.rows.find((row) => row.name.includes('group') && row.units)?.units?.lambda['msg_data']?.meanMs;
  const defined = (o: Record<string, number | undefined>) =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => e[1] !== undefined));
  const oneToOne = { msg_data: route(0, 'msg_data'), msg_data_ack: route(0, 'msg_data_ack') };
  return {
    durations: { pairs: defined(oneToOne), group: defined({ ...oneToOne, msg_data: group }) },
    connectCycle: cost.idle.connectCycle,
  };
}

export interface SdkWorkload {
  readonly name: string;
  /** 'per million delivered messages' or 'per million member deliveries'. */
  readonly per: string;
  /** The SDK's ack window at real speed (ms). */
  readonly ackWindowMs: number;
  readonly users: number;
  readonly messages: number;
  /** Messages received by their receivers: live, and by catch-up. */
  readonly deliveries: number;
  readonly live: number;
  readonly caughtUp: number;
  /** Wall ms from send() to the receiver's message event, live deliveries: p50 and p99 (does the stack keep up?). */
  readonly liveDeliveryMs: { readonly p50: number; readonly p99: number };
  /** Delivery acks the devices sent, and the msg_ids they carried. */
  readonly ackFrames: number;
  readonly ackedIds: number;
  readonly catchUpRequests: number;
  readonly reconnects: number;
  /** msg_data frames over messages: resends after an overdue ack or a reconnect. */
  readonly sendsPerMessage: number;
  readonly events: number;
  /** Per delivery. */
  readonly units: Units;
  /** Per million deliveries, the push hook's events included. */
  readonly dollars: Dollars & { events: number };
}

/** Seeded PRNG (mulberry32): the same script every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (rng: () => number, lo: number, hi: number) => lo + rng() * (hi - lo);

/** 1 (45%), 2 (30%), 3 (15%), 4 (7%), 5 (3%) messages: 1.93 on average. */
function burstSize(rng: () => number): number {
  const r = rng();
  return r < 0.45 ? 1 : r < 0.75 ? 2 : r < 0.9 ? 3 : r < 0.97 ? 4 : 5;
}

/** A burst typed from `atMs`: its messages' times, 0.6–4 s apart; returns when the last one went. */
function burst(rng: () => number, atMs: number, push: (at: number) => void): number {
  let t = atMs;
  for (let i = burstSize(rng); i > 0; i--) {
    push(t);
    if (i > 1) t += between(rng, 600, 4_000);
  }
  return t;
}

/**
 * Users 2k and 2k+1 talk: 2–3 turns of bursts and replies, starting within the first 90 s. (The offered rate
 * is kept to what one Node process on two shared cores carries: a stack that falls behind bunches deliveries into
 * shared ack frames that real speed would not give.)
 */
function pairScript(users: readonly string[], rng: () => number): Script {
  const sends: PlannedSend[] = [];
  for (let i = 0; i + 1 < users.length; i += 2) {
    const sides = [users[i]!, users[i + 1]!];
    let t = between(rng, 0, 90_000);
    const turns = 2 + Math.floor(rng() * 2);
    for (let turn = 0; turn < turns; turn++) {
      const from = sides[turn % 2]!;
      const to = peer(sides[(turn + 1) % 2]!);
      t = burst(rng, t, (at) => sends.push({ from, to, atMs: at })) + between(rng, 3_000, 20_000);
    }
  }
  const offline = users
    .filter(() => rng() < OFFLINE_SHARE)
    .map((userId) => {
      const fromMs = between(rng, 5_000, 90_000);
      return { userId, fromMs, untilMs: fromMs + between(rng, 10_000, 40_000) };
    });
  return { sends, offline, receiversOf: (_from, to) => [to.id] };
}

/** SPEAKERS members post 2–3 bursts each into the group. */
function groupScript(members: readonly string[], groupId: string, rng: () => number): Script {
  const sends: PlannedSend[] = [];
  const to = group(groupId);
  for (const from of members.slice(0, SPEAKERS)) {
    let t = between(rng, 0, 30_000);
    for (let b = 2 + Math.floor(rng() * 2); b > 0; b--)
      t = burst(rng, t, (at) => sends.push({ from, to, atMs: at })) + between(rng, 4_000, 30_000);
  }
  return { sends, offline: [], receiversOf: (from) => members.filter((m) => m !== from) };
}

/** Resolves when `done()` holds (checked every 20 ms); rejects after timeoutMs. */
async function until(what: string, done: () => boolean, timeoutMs = DEADLINE_MS): Promise<void> {
  const start = performance.now();
  while (!done()) {
    if (performance.now() - start > timeoutMs) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

const wall = (realMs: number) => realMs / COMPRESSION;

/**
 * Plays the script: each send at its (compressed) time, each offline spell; resolves when every send is acked, with
 * when each text was handed to send() (performance.now()).
 */
async function play(script: Script, devices: Map<string, Device>): Promise<Map<string, number>> {
  const timers: NodeJS.Timeout[] = [];
  const acks: Promise<unknown>[] = [];
  const sentAt = new Map<string, number>();
  let seq = 0;
  for (const spell of script.offline) {
    const device = devices.get(spell.userId)!;
    timers.push(setTimeout(() => device.goOffline(), wall(spell.fromMs)));
    timers.push(setTimeout(() => device.goOnline(), wall(spell.untilMs)));
  }
  await new Promise<void>((resolve) => {
    let left = script.sends.length;
    for (const send of script.sends) {
      const text = `bench #${++seq}: ${'x'.repeat(80)}`;
      timers.push(
        setTimeout(() => {
          sentAt.set(text, performance.now());
          acks.push(devices.get(send.from)!.client.send({ to: send.to, msgData: text }));
          if (--left === 0) resolve();
        }, wall(send.atMs)),
      );
    }
  });
  try {
    await Promise.all(acks);
    return sentAt;
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

/** One workload with one SDK ack window (real ms), on a stack of its own, priced per delivery. */
export async function runSdkWorkload(
  dynamoEndpoint: string,
  specs: BackendSpecs,
  reference: FromSectionOne,
  kind: WorkloadKind,
  ackWindowMs: number,
  log: (m: string) => void,
): Promise<SdkWorkload> {
  log(
    `realistic: ${kind === 'pairs' ? `${PAIR_USERS} users one-to-one` : `${GROUP_MEMBERS}-member group`}, SDK ack window ${ackWindowMs} ms`,
  );
  const bs = await startBenchStack(dynamoEndpoint);
  const tally = new FrameTally();
  const rng = random(kind === 'pairs' ? 25 : 2025);
  const size = kind === 'pairs' ? PAIR_USERS : GROUP_MEMBERS;
  const users = Array.from({ length: size }, (_, i) => `${kind === 'pairs' ? 'u' : 'm'}${String(i).padStart(3, '0')}`);
  const devices = await startFleet(bs, users, tally, wall(ackWindowMs));
  try {
    const script = await prepare(bs, devices, kind, users, rng);
    await sleep(200);
    bs.resetCounters();
    tally.reset();
    for (const device of devices.values()) device.received.length = 0;
    const expected = expectedDeliveries(script);
    const sentAt = await play(script, devices);
    await until('every delivery', () => holdsAll(devices, expected));
    await sleep(wall(ackWindowMs) + 100);
    await settled(bs, tally, script.offline.length);
    return priced(bs, specs, reference, { kind, ackWindowMs, script, devices, tally, sentAt });
  } finally {
    closeFleet(devices);
    await bs.stop();
  }
}

/** Before the window: each conversation's first message (its session rows), or the group and its first message. */
async function prepare(
  bs: BenchStack,
  devices: Map<string, Device>,
  kind: WorkloadKind,
  users: readonly string[],
  rng: () => number,
): Promise<Script> {
  let script: Script;
  if (kind === 'pairs') {
    script = pairScript(users, rng);
  } else {
    const owner = devices.get(users[0]!)!.client;
    const reply = await owner.createGroup({ groupName: 'bench', memberIds: users.slice(1) });
    script = groupScript(users, reply.group_id, rng);
  }
  const firsts = new Map<string, PlannedSend>();
  for (const s of script.sends) {
    const conversation = kind === 'group' ? s.to.id : [s.from, s.to.id].sort().join('|');
    if (!firsts.has(conversation)) firsts.set(conversation, s);
  }
  const sends = [...firsts.values()];
  await Promise.all(sends.map((s) => devices.get(s.from)!.client.send({ to: s.to, msgData: 'hello' })));
  const expected = expectedDeliveries({ ...script, sends });
  await until('the first messages', () => holdsAll(devices, expected));
  await until('their acks', () => bs.invocations.count('msg_data_ack') >= sum(expected.values()));
  return script;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

/** Messages others sent this device (its own, fetched back by a catch-up, are not deliveries). */
const deliveredTo = (device: Device) => device.received.filter((r) => r.message.from_user_id !== device.userId);

/** How many messages each user receives from the script. */
function expectedDeliveries(script: Script): Map<string, number> {
  const expected = new Map<string, number>();
  for (const send of script.sends)
    for (const receiver of script.receiversOf(send.from, send.to))
      expected.set(receiver, (expected.get(receiver) ?? 0) + 1);
  return expected;
}

function holdsAll(devices: Map<string, Device>, expected: Map<string, number>): boolean {
  return [...expected].every(([userId, n]) => deliveredTo(devices.get(userId)!).length >= n);
}

/**
 * Every route invocation the devices' frames asked for, and each offline spell's $disconnect and $connect, has
 * finished; or nothing has been invoked for a second (a frame written into a socket as it was cut never arrives).
 */
async function settled(bs: BenchStack, tally: FrameTally, spells: number): Promise<void> {
  let seen = -1;
  let quietSince = performance.now();
  const done = () => {
    for (const [action, n] of tally.sent)
      if (bs.invocations.count(action === 'heartbeat' ? '$default' : action) < n) return false;
    return bs.invocations.count('$connect') >= spells && bs.invocations.count('$disconnect') >= spells;
  };
  await until('the invocations', () => {
    if (bs.invocations.records.length !== seen) {
      seen = bs.invocations.records.length;
      quietSince = performance.now();
    }
    return done() || performance.now() - quietSince > 1_000;
  });
  await sleep(150);
}

interface Played {
  readonly kind: WorkloadKind;
  readonly ackWindowMs: number;
  readonly script: Script;
  readonly devices: Map<string, Device>;
  readonly tally: FrameTally;
  readonly sentAt: Map<string, number>;
}

function liveDelivery(sentAt: Map<string, number>, received: ReturnType<typeof deliveredTo>) {
  const ms = received
    .filter((r) => r.message.live && sentAt.has(r.message.msg_data))
    .map((r) => r.at - sentAt.get(r.message.msg_data)!);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

function priced(bs: BenchStack, specs: BackendSpecs, reference: FromSectionOne, p: Played): SdkWorkload {
  const received = [...p.devices.values()].flatMap(deliveredTo);
  const deliveries = received.length;
  const reconnects = bs.invocations.count('$connect');
  const heartbeats = p.tally.sent.get('heartbeat') ?? 0;
  const measured = snapshot(bs, specs, deliveries);
  const messagesOnly = withoutConnections(measured, reference.connectCycle, reconnects, heartbeats, deliveries);
  const units = withDurations(messagesOnly, bs, specs, reference.durations[p.kind]);
  // The push hook: a send whose receiver had no connection publishes one event (a group's, one per 100 receivers).
  const events = bs.meter.calls.filter(
    (c) => c.command === 'QueryCommand' && shortTable(c.table) === 'Connections' && c.addedRead > 0,
  ).length;
  const d = price(units);
  const eventDollars = (events / deliveries) * PRICES.eventBridge.perEvent;
  const scale = (v: number) => v * 1e6;
  const catchUp = ['recent_sessions', 'msg_list', 'msg_by_ids'].reduce((s, a) => s + (p.tally.sent.get(a) ?? 0), 0);
  return {
    name: p.kind === 'pairs' ? 'SDK, one-to-one, bursts and offline devices' : `SDK, ${GROUP_MEMBERS}-member group`,
    per: p.kind === 'pairs' ? 'per million delivered messages' : 'per million member deliveries',
    ackWindowMs: p.ackWindowMs,
    users: p.devices.size,
    messages: p.script.sends.length,
    deliveries,
    live: received.filter((r) => r.message.live).length,
    caughtUp: received.filter((r) => !r.message.live).length,
    liveDeliveryMs: liveDelivery(p.sentAt, received),
    ackFrames: p.tally.sent.get('msg_data_ack') ?? 0,
    ackedIds: p.tally.ackedIds,
    catchUpRequests: catchUp,
    reconnects,
    sendsPerMessage: (p.tally.sent.get('msg_data') ?? 0) / p.script.sends.length,
    events,
    units,
    dollars: {
      apiMessages: scale(d.apiMessages),
      connectionMinutes: 0,
      lambdaRequests: scale(d.lambdaRequests),
      lambdaDuration: scale(d.lambdaDuration),
      ddbWrites: scale(d.ddbWrites),
      ddbReads: scale(d.ddbReads),
      events: scale(eventDollars),
      total: scale(d.total + eventDollars),
    },
  };
}

/**
 * Reconnects and heartbeats are connection time, which section 1's idle row prices per user-month: their invocations
 * and frames are left out, and each reconnect's DynamoDB calls at section 1's connect cycle.
 */
function withoutConnections(u: Units, cycle: Units, cycles: number, heartbeats: number, per: number): Units {
  const k = cycles / per;
  const less = (a: number, b: number) => Math.max(0, a - b);
  const byKey = <T>(into: Record<string, T>, from: Record<string, T>, minus: (a: T, b: T) => T) =>
    Object.fromEntries(
      Object.entries(into).map(([key, v]) => [key, from[key] === undefined ? v : minus(v, from[key])]),
    );
  return {
    ...u,
    apiIn: less(u.apiIn, heartbeats / per),
    apiOut: less(u.apiOut, heartbeats / per),
    lambda: Object.fromEntries(Object.entries(u.lambda).filter(([route]) => !CONNECTION_ROUTES.has(route))),
    ddbCalls: less(u.ddbCalls, cycle.ddbCalls * k),
    writeUnits: less(u.writeUnits, cycle.writeUnits * k),
    readUnits: less(u.readUnits, cycle.readUnits * k),
    addedReadUnits: less(u.addedReadUnits, cycle.addedReadUnits * k),
    zeroUnitReads: less(u.zeroUnitReads, cycle.zeroUnitReads * k),
    byCommand: byKey(u.byCommand, cycle.byCommand, (a, b) => less(a, b * k)),
    unitsByCommand: byKey(u.unitsByCommand, cycle.unitsByCommand, (a, b) => ({
      read: less(a.read, b.read * k),
      write: less(a.write, b.write * k),
    })),
  };
}

/** Lambda requests and GB-s at the reference durations (the window's median for a route without one). */
function withDurations(units: Units, bs: BenchStack, specs: BackendSpecs, durations: ReferenceDurations): Units {
  const lambda = { ...units.lambda };
  let gbSeconds = 0;
  let lambdaRequests = 0;
  for (const [route, l] of Object.entries(lambda)) {
    const window = bs.invocations.records.filter((r) => r.routeKey === route).map((r) => r.durationMs);
    const ms = durations[route] ?? (window.length > 0 ? median(window) : l.meanMs);
    lambda[route] = {
      ...l,
      meanMs: ms,
      gbSeconds: l.requests * (billedMs(ms) / 1000) * (memoryOfRoute(specs, route) / 1024),
    };
    gbSeconds += lambda[route].gbSeconds;
    lambdaRequests += l.requests;
  }
  return { ...units, lambda, lambdaRequests, gbSeconds };
}
