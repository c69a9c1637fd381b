/** The sending phase, with faults on: the app's sends at a bounded rate, and random disconnects meanwhile. */
import { ChatServerError, group, peer, type MsgDataAckFrame } from '../client/index.js';
import { groupConversationId } from '../core/domain/group.js';
import { singleConversationId } from '../core/domain/ids.js';
import { sleep, until } from './common.js';
import type { Run } from './context.js';
import type { Device, Population } from './devices.js';
import type { Rng } from './faults.js';

const RETRYABLE_SERVER_CODES = new Set(['internal', 'rate_limited']);

export interface SendRecord {
  readonly index: number;
  readonly clientMsgId: string;
  readonly text: string;
  /** The send whose key this one reuses (with other content). */
  readonly reuseOf: SendRecord | undefined;
  /** A reuse of a key acked earlier in this conversation: must be refused client_msg_id_reused (set when sent). */
  mustBeRefused: boolean;
  /** Resolves when this send has its outcome. */
  settled: Promise<void> | undefined;
  readonly device: Device;
  readonly to: string;
  readonly group: boolean;
  readonly conversationId: string;
  attempts: number;
  ack: MsgDataAckFrame | undefined;
  refused: string | undefined;
  readonly errors: string[];
}

/** The app's sends, and those still waiting for their outcome. */
export interface Workload {
  readonly records: SendRecord[];
  readonly inFlight: Set<Promise<void>>;
  /** A failed send is not retried after this: no limit while sending, the settle phase sets one. */
  sendDeadline: number;
}

export interface Disconnects {
  closed: number;
  dropped: number;
  reopened: number;
}

export interface SendPhase {
  readonly workload: Workload;
  readonly disconnects: Disconnects;
  readonly ms: number;
}

/** What the sending loop draws on. */
interface Sending {
  readonly run: Run;
  readonly population: Population;
  readonly workload: Workload;
  readonly rng: Rng;
  readonly retryRng: Rng;
  readonly disconnects: Disconnects;
}

export async function runSendPhase(
  run: Run,
  population: Population,
  rngs: { workload: Rng; disconnect: Rng; retry: Rng },
): Promise<SendPhase> {
  run.plan.enabled = true;
  const workload: Workload = { records: [], inFlight: new Set(), sendDeadline: Number.POSITIVE_INFINITY };
  const disconnector = startDisconnector(run, population.devices, rngs.disconnect);
  const phaseStart = Date.now();
  const throttled = await sendAll(
    { run, population, workload, rng: rngs.workload, retryRng: rngs.retry, disconnects: disconnector.counts },
    phaseStart,
  );
  await disconnector.stop();
  const ms = Date.now() - phaseStart;
  run.log(
    `send phase over after ${Math.round(ms / 1000)} s: ${workload.records.length} sends started (app backed off ${throttled} times); settling with faults on`,
  );
  return { workload, disconnects: disconnector.counts, ms };
}

/** Starts the sends at the configured rate, backing off while too many are unacked; returns how often it backed off. */
async function sendAll(sending: Sending, phaseStart: number): Promise<number> {
  const { run, workload } = sending;
  const { options, log, plan } = run;
  const intervalMs = 1000 / options.ratePerSecond;
  const maxInFlight = options.maxInFlight ?? Math.max(4, Math.ceil(3 * options.ratePerSecond));
  const { records, inFlight } = workload;
  let lastProgress = phaseStart;
  let lastStart = 0;
  let throttled = 0;
  for (let i = 0; i < options.messages; i++) {
    const due = lastStart + intervalMs;
    if (due > Date.now()) await sleep(due - Date.now());
    if (inFlight.size >= maxInFlight) {
      throttled++;
      await until(
        () => inFlight.size < maxInFlight || Date.now() - phaseStart > options.maxSendPhaseMs,
        options.maxSendPhaseMs,
        20,
      );
    }
    lastStart = Date.now();
    if (Date.now() - phaseStart > options.maxSendPhaseMs) {
      log(`send phase capped at ${options.maxSendPhaseMs} ms after ${i} messages`);
      break;
    }
    const record = nextRecord(sending, i);
    records.push(record);
    const task = sendOne(record, workload, sending.retryRng);
    record.settled = task;
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
    if (Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      log(
        `  ${Math.round((Date.now() - phaseStart) / 1000)} s: ${records.length} sent, ${records.filter((r) => r.ack).length} acked, ` +
          `${plan.counters.total()} faults, ${sending.disconnects.closed + sending.disconnects.dropped} disconnects`,
      );
    }
  }
  return throttled;
}

/** The i-th send: sender, device, peer or group, and whether it reuses a key (the draws' order is the seed's). */
function nextRecord({ run, population, workload, rng }: Sending, i: number): SendRecord {
  const { options } = run;
  const { users, byUser, groupsOf } = population;
  const { records } = workload;
  const sender = rng.pick(users);
  const device = rng.pick(byUser.get(sender)!);
  const myGroups = groupsOf.get(sender)!;
  const toGroup = myGroups.length > 0 && rng.chance(options.groupShare);
  const drawnTo = toGroup ? rng.pick(myGroups).id : rng.pick(users.filter((u) => u !== sender));
  // Reused keys (single chats): a key of one of the sender's earlier sends, half the time in that send's conversation
  // with other content (must be refused), else to the drawn peer (another message). Drawn from the seed alone.
  const firsts = records.filter((r) => !r.group && r.device.userId === sender && r.reuseOf === undefined);
  const reuseOf = !toGroup && firsts.length > 0 && rng.chance(options.reuseShare ?? 0) ? rng.pick(firsts) : undefined;
  const to = reuseOf !== undefined && rng.chance(0.5) ? reuseOf.to : drawnTo;
  const conversationId = toGroup ? groupConversationId(to) : singleConversationId(sender, to);
  const oversized = rng.chance(options.oversizedShare ?? 0);
  return {
    index: i,
    clientMsgId: reuseOf?.clientMsgId ?? `chaos-${options.seed}-${i}`,
    text: oversized ? '\u0001'.repeat(4096) : `chaos message ${i} from ${device.name}`,
    reuseOf,
    mustBeRefused: false,
    settled: undefined,
    device,
    to,
    group: toGroup,
    conversationId,
    attempts: 0,
    ack: undefined,
    refused: undefined,
    errors: [],
  };
}

/** Sends until acked or refused, as an app with an outbox does; retries stop at the workload's deadline. */
async function sendOne(record: SendRecord, workload: Workload, rng: Rng): Promise<void> {
  const { device } = record;
  if (record.reuseOf) {
    // After every earlier send of the key has its outcome: a reuse must not race them.
    const earlier = workload.records.filter(
      (r) => r.index < record.index && r.clientMsgId === record.clientMsgId && r.device.userId === device.userId,
    );
    await Promise.all(earlier.map((r) => r.settled));
    record.mustBeRefused = earlier.some((r) => r.conversationId === record.conversationId && r.ack !== undefined);
  }
  for (;;) {
    record.attempts++;
    try {
      record.ack = await device.client.send({
        to: record.group ? group(record.to) : peer(record.to),
        msgData: record.text,
        clientMsgId: record.clientMsgId,
      });
      return;
    } catch (error) {
      const name = error instanceof ChatServerError ? `ChatServerError:${error.code}` : (error as Error).name;
      record.errors.push(name);
      if (error instanceof ChatServerError && !RETRYABLE_SERVER_CODES.has(error.code)) {
        record.refused = error.code;
        return;
      }
      if (Date.now() > workload.sendDeadline) return;
      // An app keeps its outbox: the same client_msg_id again, after a pause (the client may be closed: the send
      // then waits in the SDK's outbox until it reopens).
      await sleep(300 + rng.int(0, 700));
    }
  }
}

/** Random disconnects until stopped: half client close + reopen, half connections dropped without $disconnect. */
function startDisconnector(
  run: Run,
  devices: readonly Device[],
  rng: Rng,
): { readonly counts: Disconnects; stop(): Promise<void> } {
  const { stack } = run;
  const counts: Disconnects = { closed: 0, dropped: 0, reopened: 0 };
  let stopped = false;
  const done = (async () => {
    const meanGapMs =
      run.options.disconnectsPerMinute > 0 ? 60_000 / run.options.disconnectsPerMinute : Number.POSITIVE_INFINITY;
    while (!stopped && Number.isFinite(meanGapMs)) {
      await sleep(Math.min(-Math.log(1 - rng.next()) * meanGapMs, 4 * meanGapMs));
      if (stopped) break;
      if (rng.chance(0.5)) {
        const open = devices.filter((d) => !d.closed);
        if (open.length === 0) continue;
        const device = rng.pick(open);
        device.closed = true;
        device.client.close();
        counts.closed++;
        const pause = rng.int(100, 2_000);
        void sleep(pause).then(() => {
          device.closed = false;
          counts.reopened++;
          return device.client.connect().catch(() => undefined);
        });
      } else {
        const live = stack.emulator.connections();
        if (live.length === 0) continue;
        // A connection vanishing without $disconnect (a lost network): the SDK reconnects by itself.
        if (stack.emulator.dropConnection(rng.pick(live).connectionId)) counts.dropped++;
      }
    }
  })();
  return {
    counts,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}
