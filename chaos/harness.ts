/**
 * The chaos scenario: users with several devices each (SDK ChatClients over `ws`) send one-to-one and group messages
 * while faults are injected (chaos/faults.ts), devices are closed and reopened, and connections are dropped without
 * $disconnect. Then faults stop, every device reconnects and catches up, and the outcome is checked against the
 * tables (Scan): nothing lost, nothing duplicated, no ack for a message that is not stored, and every msg_id gap
 * explained.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient as DocClient } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { ChatClient, ChatServerError, isGroupMsgType, MsgType, type MsgDataAckFrame, type MsgDataFrame, type WebSocketConstructor } from '../client/index.js';
import { groupConversationId } from '../core/domain/group.js';
import { singleConversationId } from '../core/domain/ids.js';
import { logger } from '../core/observability.js';
import type { NumberingResult } from '../core/ports.js';
import { LOCAL_AWS_ENV } from '../local/dynamodb-local.js';
import { FAULT_KINDS, FaultPlan, Rng, ratesFor, type FaultRates, type Invocation, type PortCall } from './faults.js';
import { startChaosStack, type ChaosStack } from './stack.js';

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

const RETRYABLE_SERVER_CODES = new Set(['internal', 'rate_limited']);

interface SendRecord {
  readonly index: number;
  readonly clientMsgId: string;
  readonly text: string;
  /** A reuse of an earlier key of this conversation with other content: must be refused client_msg_id_reused. */
  readonly mustBeRefused: boolean;
  readonly device: Device;
  readonly to: string;
  readonly group: boolean;
  readonly conversationId: string;
  attempts: number;
  ack: MsgDataAckFrame | undefined;
  refused: string | undefined;
  readonly errors: string[];
}

interface Device {
  readonly userId: string;
  readonly name: string;
  readonly client: ChatClient;
  /** msg_data frames on the wire, before the SDK's de-duplication. */
  rawMsgData: number;
  /** (conversation, msg_id) of every msg_data frame on the wire, with the time it arrived (first one). */
  readonly rawKeys: Map<string, number>;
  /** When each catch-up of this device ended, and when it (re)opened (each open starts a catch-up). */
  readonly syncs: number[];
  readonly openedAt: number[];
  /** Every msg_data_ack frame on the wire (duplicates of late acks included). */
  readonly ackFrames: MsgDataAckFrame[];
  /** `message` events per (conversation, msg_id). */
  readonly seen: Map<string, number>;
  live: number;
  caughtUp: number;
  opens: number;
  /** Closed by the harness, to be reopened. */
  closed: boolean;
  readonly sdkErrors: Map<string, number>;
  /** `kick` frames received (token_expired). */
  kicks: number;
}

const key = (conversationId: string, msgId: number) => `${conversationId}\u0000${msgId}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function conversationOf(frame: Pick<MsgDataFrame, 'from_user_id' | 'to_session_id' | 'msg_type'>): string {
  return isGroupMsgType(frame.msg_type) ? groupConversationId(frame.to_session_id) : singleConversationId(frame.from_user_id, frame.to_session_id);
}

function ackConversation(ack: MsgDataAckFrame): string {
  return ack.session_type === 2 ? groupConversationId(ack.session_id) : singleConversationId(ack.user_id, ack.session_id);
}

/** A `ws` WebSocket that also hands every text frame to `onText` (to count frames before the SDK sees them). */
function countingWebSocket(onText: (text: string) => void): WebSocketConstructor {
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false });
      this.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary) onText(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      });
    }
  }
  return CountingWebSocket as unknown as WebSocketConstructor;
}

async function scanAll(db: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  return items;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const startedAt = Date.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  // The @connections client's requestTimeout only warns in this SDK version (no throwOnRequestTimeout): count the
  // warnings instead of printing each.
  // Same for the SDK's "socket usage at capacity" warnings (requests queued behind maxSockets).
  let postsOverRequestTimeout = 0;
  let socketCapacityWarnings = 0;
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : '';
    if (text.includes('exceeded the configured') && text.includes('requestTimeout')) postsOverRequestTimeout++;
    else if (text.includes('socket usage at capacity')) socketCapacityWarnings++;
    else consoleWarn(...args);
  };
  const rng = new Rng(options.seed);
  const workloadRng = rng.fork();
  const disconnectRng = rng.fork();
  const plan = new FaultPlan(ratesFor(options.faultRate, options.rates), rng.fork());
  const serverAckTimeoutMs = options.serverAckTimeoutMs ?? 2_000;
  const sweepIntervalMs = options.sweepIntervalMs ?? 500;
  const clientAckTimeoutMs = options.clientAckTimeoutMs ?? 5_000;
  const settleTimeoutMs = options.settleTimeoutMs ?? 90_000;

  // Where each counter value went: numbered by which invocation, and which invocations lost a claim race.
  const numbered = new Map<string, Invocation>();
  /** When each (conversation, msg_id) was numbered and stored, relative to the start. */
  const timeline = new Map<string, { numberedAt?: number; storedAt?: number; storedBy?: string }>();
  const at = () => Date.now() - startedAt;
  const lostClaim = new WeakSet<Invocation>();
  /** Messages some connection got live (msg_data posted and delivered). */
  const postedLive = new Set<string>();
  /** Messages stored by an invocation whose own conditional put then failed (the SDK retried it after a lost response). */
  const storedButRefused = new Set<string>();
  const observe = (call: PortCall, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
    if (!outcome.ok) {
      if (call.port === 'messages' && call.method === 'put' && (outcome.error as Error).name === 'MessageAlreadyStoredError') {
        const message = call.args[0] as { conversationId: string; msgId: number };
        const k = key(message.conversationId, message.msgId);
        if (call.invocation && numbered.get(k) === call.invocation) storedButRefused.add(k);
      }
      return;
    }
    if (call.port === 'gateway' && call.method === 'post' && outcome.value === 'delivered') {
      const frame = call.args[1] as MsgDataFrame;
      if (frame.type === 'msg_data') postedLive.add(key(conversationOf(frame), frame.msg_id));
    }
    if (!call.invocation) return;
    if (call.port === 'conversations' && call.method === 'nextMsgId') {
      const numbering = outcome.value as NumberingResult;
      if (numbering.kind !== 'numbered') return;
      const k = key((call.args[0] as { conversationId: string }).conversationId, numbering.counter.msgId);
      numbered.set(k, call.invocation);
      timeline.set(k, { numberedAt: at() });
    } else if (call.port === 'messages' && call.method === 'put') {
      const message = call.args[0] as { conversationId: string; msgId: number };
      const k = key(message.conversationId, message.msgId);
      timeline.set(k, { ...timeline.get(k), storedAt: at(), storedBy: `${call.invocation.route} #${call.invocation.id}${numbered.get(k) === call.invocation ? '' : ' (a resend)'}` });
    } else if (call.port === 'sentMessages' && call.method === 'claim' && !(outcome.value as { claimed: boolean }).claimed) {
      lostClaim.add(call.invocation);
    }
  };

  // The handlers log every failure at ERROR through Powertools; the chaos run counts them instead.
  logger.setLogLevel('SILENT');
  const stack: ChaosStack = await startChaosStack({
    dynamoEndpoint: options.dynamoEndpoint,
    tablePrefix: options.tablePrefix ?? `chaos${randomUUID().slice(0, 8)}_`,
    plan,
    ackTimeoutMs: serverAckTimeoutMs,
    sweepIntervalMs,
    observe,
  });
  const raw = new DynamoDBClient({
    endpoint: options.dynamoEndpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  const db = DocClient.from(raw);
  const devices: Device[] = [];
  try {
    // ---------------------------------------------------------------------------------------------------------
    // Setup, without faults: users, devices, groups.
    const users = Array.from({ length: options.users }, (_, i) => `u${String(i + 1).padStart(2, '0')}`);
    const mint = (u: string) => stack.mintToken(u, options.tokenTtlSeconds === undefined ? {} : { ttlSeconds: options.tokenTtlSeconds });
    for (const userId of users) {
      for (let d = 0; d < options.devicesPerUser; d++) {
        const device: Device = {
          userId,
          name: `${userId}/d${d + 1}`,
          client: undefined as unknown as ChatClient,
          rawMsgData: 0,
          rawKeys: new Map(),
          syncs: [],
          openedAt: [],
          ackFrames: [],
          seen: new Map(),
          live: 0,
          caughtUp: 0,
          opens: 0,
          closed: false,
          sdkErrors: new Map(),
          kicks: 0,
        };
        const client = new ChatClient({
          url: stack.url,
          // A fresh token for every connection attempt: a short-lived one expires and the connection is kicked.
          getToken: () => mint(userId),
          WebSocket: countingWebSocket((text) => {
            let frame: { type?: unknown };
            try {
              frame = JSON.parse(text) as { type?: unknown };
            } catch {
              return;
            }
            if (frame.type === 'msg_data') {
              device.rawMsgData++;
              const k = key(conversationOf(frame as MsgDataFrame), (frame as MsgDataFrame).msg_id);
              if (!device.rawKeys.has(k)) device.rawKeys.set(k, Date.now());
            } else if (frame.type === 'msg_data_ack') {
              device.ackFrames.push(frame as MsgDataAckFrame);
            } else if (frame.type === 'kick') {
              device.kicks++;
            }
          }),
          ackTimeoutMs: clientAckTimeoutMs,
          maxSendAttempts: 1_000_000,
          requestTimeoutMs: 10_000,
          heartbeatIntervalMs: 0,
          connectTimeoutMs: 5_000,
          reconnect: { initialDelayMs: 200, maxDelayMs: 2_000 },
          catchUp: { maxMessagesPerSession: 100_000 },
        });
        (device as { client: ChatClient }).client = client;
        client.on('message', (m) => {
          const k = key(conversationOf(m), m.msg_id);
          device.seen.set(k, (device.seen.get(k) ?? 0) + 1);
          // Live frames carry the client_msg_id; a catch-up's (from msg_list) do not.
          if (m.client_msg_id === undefined) device.caughtUp++;
          else device.live++;
        });
        client.on('synced', () => device.syncs.push(Date.now()));
        client.on('state', (s) => {
          if (s === 'open') {
            device.opens++;
            device.openedAt.push(Date.now());
          }
        });
        client.on('error', (e) => device.sdkErrors.set(e.name, (device.sdkErrors.get(e.name) ?? 0) + 1));
        devices.push(device);
      }
    }
    await Promise.all(devices.map((d) => d.client.connect()));
    const byUser = new Map(users.map((u) => [u, devices.filter((d) => d.userId === u)]));

    const groups: { id: string; members: string[] }[] = [];
    for (let g = 0; g < options.groups; g++) {
      const shuffled = [...users];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = workloadRng.int(0, i);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const members = shuffled.slice(0, Math.min(options.groupSize, users.length));
      const owner = byUser.get(members[0]!)![0]!;
      const reply = (await owner.client.request('group_create', { group_name: `chaos ${g + 1}`, member_ids: members.slice(1) })) as {
        group_id: string;
      };
      groups.push({ id: reply.group_id, members });
    }
    const groupsOf = new Map(users.map((u) => [u, groups.filter((g) => g.members.includes(u))]));
    log(`setup: ${users.length} users × ${options.devicesPerUser} devices, ${groups.length} groups of ${options.groupSize}; faults on`);

    // ---------------------------------------------------------------------------------------------------------
    // Sending phase, with faults and disconnects.
    plan.enabled = true;
    const records: SendRecord[] = [];
    const inFlight = new Set<Promise<void>>();
    let sendDeadline = Number.POSITIVE_INFINITY;
    const disconnects = { closed: 0, dropped: 0, reopened: 0 };

    const sendOne = async (record: SendRecord): Promise<void> => {
      const { device } = record;
      for (;;) {
        record.attempts++;
        try {
          record.ack = await device.client.send({
            toSessionId: record.to,
            msgType: record.group ? MsgType.GroupText : MsgType.SingleText,
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
          if (Date.now() > sendDeadline) return;
          // An app keeps its outbox: the same client_msg_id again, after a pause (the client may be closed: the send
          // then waits in the SDK's outbox until it reopens).
          await sleep(300 + workloadRng.int(0, 700));
        }
      }
    };

    let stopDisconnects = false;
    const disconnector = (async () => {
      const meanGapMs = options.disconnectsPerMinute > 0 ? 60_000 / options.disconnectsPerMinute : Number.POSITIVE_INFINITY;
      while (!stopDisconnects && Number.isFinite(meanGapMs)) {
        await sleep(Math.min(-Math.log(1 - disconnectRng.next()) * meanGapMs, 4 * meanGapMs));
        if (stopDisconnects) break;
        if (disconnectRng.chance(0.5)) {
          const open = devices.filter((d) => !d.closed);
          if (open.length === 0) continue;
          const device = disconnectRng.pick(open);
          device.closed = true;
          device.client.close();
          disconnects.closed++;
          const pause = disconnectRng.int(100, 2_000);
          void sleep(pause).then(() => {
            device.closed = false;
            disconnects.reopened++;
            return device.client.connect().catch(() => undefined);
          });
        } else {
          const live = stack.emulator.connections();
          if (live.length === 0) continue;
          // A connection vanishing without $disconnect (a lost network): the SDK reconnects by itself.
          if (stack.emulator.dropConnection(disconnectRng.pick(live).connectionId)) disconnects.dropped++;
        }
      }
    })();

    const intervalMs = 1000 / options.ratePerSecond;
    const maxInFlight = options.maxInFlight ?? Math.max(4, Math.ceil(3 * options.ratePerSecond));
    const phaseStart = Date.now();
    let lastProgress = phaseStart;
    let lastStart = 0;
    let throttled = 0;
    for (let i = 0; i < options.messages; i++) {
      const due = lastStart + intervalMs;
      if (due > Date.now()) await sleep(due - Date.now());
      if (inFlight.size >= maxInFlight) {
        throttled++;
        await until(() => inFlight.size < maxInFlight || Date.now() - phaseStart > options.maxSendPhaseMs, options.maxSendPhaseMs, 20);
      }
      lastStart = Date.now();
      if (Date.now() - phaseStart > options.maxSendPhaseMs) {
        log(`send phase capped at ${options.maxSendPhaseMs} ms after ${i} messages`);
        break;
      }
      const sender = workloadRng.pick(users);
      const device = workloadRng.pick(byUser.get(sender)!);
      const myGroups = groupsOf.get(sender)!;
      const toGroup = myGroups.length > 0 && workloadRng.chance(options.groupShare);
      const to = toGroup ? workloadRng.pick(myGroups).id : workloadRng.pick(users.filter((u) => u !== sender));
      const conversationId = toGroup ? groupConversationId(to) : singleConversationId(sender, to);
      // Reused keys: an earlier key of the sender in another conversation (a new message), or of this one with other
      // content (refused). Only keys whose first send was acked, so the reuse cannot race it.
      const earlier = records.filter((r) => r.ack && r.device.userId === sender && !r.mustBeRefused);
      const candidate = !toGroup && earlier.length > 0 && workloadRng.chance(options.reuseShare ?? 0) ? workloadRng.pick(earlier) : undefined;
      // A key with a send still in flight is not reused (the outcome would depend on the race): a fresh key instead.
      const reuse = candidate && !records.some((r) => r.clientMsgId === candidate.clientMsgId && r.device.userId === sender && !r.ack && !r.refused) ? candidate : undefined;
      // Refused when any earlier send of that key went to this conversation (the first one, or an earlier reuse).
      const keyUsedHere = reuse !== undefined && records.some((r) => r.clientMsgId === reuse.clientMsgId && r.conversationId === conversationId && r.device.userId === sender);
      const oversized = workloadRng.chance(options.oversizedShare ?? 0);
      const record: SendRecord = {
        index: i,
        clientMsgId: reuse?.clientMsgId ?? `chaos-${options.seed}-${i}`,
        text: oversized ? '\u0001'.repeat(4096) : `chaos message ${i} from ${device.name}`,
        mustBeRefused: keyUsedHere,
        device,
        to,
        group: toGroup,
        conversationId,
        attempts: 0,
        ack: undefined,
        refused: undefined,
        errors: [],
      };
      records.push(record);
      const task = sendOne(record);
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      if (Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now();
        log(
          `  ${Math.round((Date.now() - phaseStart) / 1000)} s: ${records.length} sent, ${records.filter((r) => r.ack).length} acked, ` +
            `${plan.counters.total()} faults, ${disconnects.closed + disconnects.dropped} disconnects`,
        );
      }
    }
    stopDisconnects = true;
    await disconnector;
    const sendPhaseMs = Date.now() - phaseStart;
    log(`send phase over after ${Math.round(sendPhaseMs / 1000)} s: ${records.length} sends started (app backed off ${throttled} times); settling with faults on`);

    // ---------------------------------------------------------------------------------------------------------
    // Final phase: let sends settle, stop faults, reconnect everyone, drain redeliveries, catch up.
    await until(() => inFlight.size === 0, settleTimeoutMs / 3);
    plan.enabled = false;
    log(`faults off (${inFlight.size} sends still waiting); reconnecting every device`);
    await until(() => devices.every((d) => !d.closed), 5_000);
    await Promise.all(devices.map((d) => d.client.connect().catch(() => undefined)));
    sendDeadline = Date.now() + settleTimeoutMs / 3;
    await until(() => inFlight.size === 0, settleTimeoutMs / 3);
    const pendingTable = stack.tables.PendingDeliveries;
    const drained = await until(async () => (await scanAll(db, pendingTable)).length === 0, settleTimeoutMs / 3, 500);
    log(`sends settled (${inFlight.size} unsettled); pending deliveries ${drained ? 'drained' : 'NOT drained'}; final catch-up`);
    const syncFailures: string[] = [];
    await Promise.all(
      devices.map(async (d) => {
        // Two runs: the first may be one an open started earlier (sync() joins it); the second starts afresh.
        for (let run = 0, complete = 0; run < 6 && complete < 2; run++) {
          try {
            if ((await d.client.sync()).complete) complete++;
          } catch (error) {
            if (run === 5) syncFailures.push(`${d.name}: ${(error as Error).message}`);
            await sleep(500);
          }
        }
      }),
    );
    // Invocations slowed by SDK backoff may still be running (a first attempt whose resend was acked long ago).
    const routeInvocationsRunning = () => [...stack.invocations.running].reduce((n, [route, c]) => n + (route === 'sweeper' ? 0 : c), 0);
    await until(() => routeInvocationsRunning() === 0, 30_000);
    await sleep(300);
    const stillRunning = routeInvocationsRunning();

    // ---------------------------------------------------------------------------------------------------------
    // Checks against the tables.
    const [messageRows, heads] = await Promise.all([scanAll(db, stack.tables.Messages), scanAll(db, stack.tables.Conversations)]);
    const stored = new Map<string, Record<string, unknown>>();
    const storedByConversation = new Map<string, Set<number>>();
    const bySenderClientId = new Map<string, number[]>();
    for (const row of messageRows) {
      const conversationId = row['conversation_id'] as string;
      const msgId = row['msg_id'] as number;
      stored.set(key(conversationId, msgId), row);
      let ids = storedByConversation.get(conversationId);
      if (!ids) storedByConversation.set(conversationId, (ids = new Set()));
      ids.add(msgId);
      if (typeof row['client_msg_id'] === 'string') {
        // The idempotency key: (sender, conversation, client_msg_id).
        const k = `${row['from_user_id'] as string}\u0000${conversationId}\u0000${row['client_msg_id']}`;
        bySenderClientId.set(k, [...(bySenderClientId.get(k) ?? []), msgId]);
      }
    }
    const violations: string[] = [];
    const note = (kind: string, detail: string, count: Map<string, number>) => {
      const n = (count.get(kind) ?? 0) + 1;
      count.set(kind, n);
      if (n <= 5) violations.push(`${kind}: ${detail}`);
    };
    const shown = new Map<string, number>();

    const storedTwice = [...bySenderClientId.entries()].filter(([, ids]) => ids.length > 1);
    for (const [k, ids] of storedTwice) note('stored twice', `${k.replace('\u0000', ' ')} as msg_ids ${ids.join(', ')}`, shown);

    // Sends: acked, unacked, refused; ack consistency with the table.
    const acked = records.filter((r) => r.ack);
    const unacked = records.filter((r) => !r.ack && !r.refused);
    const refused = records.filter((r) => r.refused && !(r.mustBeRefused && r.refused === 'client_msg_id_reused'));
    const reusedRefused = records.filter((r) => r.mustBeRefused && r.refused === 'client_msg_id_reused');
    const reusedAccepted = records.filter((r) => r.mustBeRefused && r.ack);
    for (const r of reusedAccepted) note('a reused key with other content acked', `${r.clientMsgId} ${r.device.name} → ${r.to} msg_id ${r.ack!.msg_id}`, shown);
    for (const r of unacked) note('send never acked', `${r.clientMsgId} ${r.device.name} → ${r.to} (${r.errors.join(', ')})`, shown);
    for (const r of refused) note('send refused', `${r.clientMsgId} ${r.device.name} → ${r.to}: ${r.refused}`, shown);
    let acksForUnstored = 0;
    for (const d of devices) {
      for (const ack of d.ackFrames) {
        const row = stored.get(key(ackConversation(ack), ack.msg_id));
        if (!row || row['client_msg_id'] !== ack.client_msg_id || row['from_user_id'] !== d.userId) {
          acksForUnstored++;
          note('ack for an unstored message', `${d.name} ${ackConversation(ack)} msg_id ${ack.msg_id} (${ack.client_msg_id ?? 'no client_msg_id'})`, shown);
        }
      }
    }

    // Per device: duplicates after the SDK, and what it holds against what is stored in its conversations.
    const userConversations = new Map<string, Set<string>>(users.map((u) => [u, new Set(groupsOf.get(u)!.map((g) => groupConversationId(g.id)))]));
    for (const conversationId of storedByConversation.keys()) {
      const parts = conversationId.split('#');
      if (parts[0] === 's') for (const u of parts.slice(1)) userConversations.get(u)?.add(conversationId);
    }
    let duplicates = 0;
    let missing = 0;
    let phantoms = 0;
    let ownSendsEchoed = 0;
    let ownSendsEchoedLive = 0;
    for (const d of devices) {
      const held = new Set<string>();
      for (const [k, n] of d.seen) {
        held.add(k);
        if (n > 1) {
          duplicates += n - 1;
          note('duplicate after SDK de-dup', `${d.name} ${k.replace('\u0000', ' msg_id ')} seen ${n} times`, shown);
        }
      }
      for (const k of new Set(d.ackFrames.map((ack) => key(ackConversation(ack), ack.msg_id)))) {
        if (d.seen.has(k)) {
          ownSendsEchoed++;
          if (d.rawKeys.has(k)) ownSendsEchoedLive++;
        }
        held.add(k);
      }
      for (const k of held) {
        if (!stored.has(k)) {
          phantoms++;
          note('held but not stored', `${d.name} ${k.replace('\u0000', ' msg_id ')}`, shown);
        }
      }
      for (const conversationId of userConversations.get(d.userId)!) {
        for (const msgId of storedByConversation.get(conversationId) ?? []) {
          if (!held.has(key(conversationId, msgId))) {
            missing++;
            const row = stored.get(key(conversationId, msgId))!;
            const record = records.find((r) => r.clientMsgId === row['client_msg_id']);
            const state = d.client.getSyncState();
            const sessionKey = conversationId.startsWith('g#') ? `2:${conversationId.slice(2)}` : `1:${conversationId.split('#').slice(1).find((u) => u !== d.userId)!}`;
            note(
              'missing after catch-up',
              `${d.name} lacks ${conversationId} msg_id ${msgId} (${row['client_msg_id'] as string}, sent from ${record?.device.name ?? '?'}, ` +
                `${record?.attempts ?? '?'} app attempts [${record?.errors.join(', ') ?? ''}], acked as ${record?.ack?.msg_id ?? 'none'}); ` +
                `device's catch-up mark there ${state.latestMsgIds[sessionKey] ?? 0}, held above [${state.heldAbove?.[sessionKey]?.join(', ') ?? ''}]; ` +
                `stored msg_ids ${[...(storedByConversation.get(conversationId) ?? [])].sort((a, b) => a - b).join(',')}; ` +
                `timeline (ms): ${JSON.stringify(timeline.get(key(conversationId, msgId)))}, frame reached the device at ${d.rawKeys.has(key(conversationId, msgId)) ? d.rawKeys.get(key(conversationId, msgId))! - startedAt : 'never'}, ` +
                `device opened (catch-up started) at [${d.openedAt.map((t) => t - startedAt).join(', ')}], catch-ups ended at [${d.syncs.map((t) => t - startedAt).join(', ')}]`,
              shown,
            );
          }
        }
      }
    }
    for (const failure of syncFailures) violations.push(`final catch-up failed: ${failure}`);

    // The same expectation against a fresh, full read through the API (recent_sessions from 0, msg_list down to 1):
    // what the server serves, independent of the SDK's catch-up state.
    let missingFromServerReads = 0;
    await Promise.all(
      users.map(async (userId) => {
        const client = byUser.get(userId)![0]!.client;
        const served = new Set<string>();
        for (const session of await client.allRecentSessions(0)) {
          const conversationId = session.session_type === 2 ? groupConversationId(session.session_id) : singleConversationId(userId, session.session_id);
          for (let begin = 0; ; ) {
            const page = await client.listMessages({ sessionId: session.session_id, sessionType: session.session_type, msgIdBegin: begin, msgCnt: 100 });
            for (const m of page.msg_list) served.add(key(conversationId, m.msg_id));
            const lowest = Math.min(...page.msg_list.map((m) => m.msg_id));
            if (!page.has_more || lowest <= 1) break;
            begin = lowest - 1;
          }
        }
        for (const conversationId of userConversations.get(userId)!) {
          for (const msgId of storedByConversation.get(conversationId) ?? []) {
            if (served.has(key(conversationId, msgId))) continue;
            missingFromServerReads++;
            note('not served by a full read', `${userId}: ${conversationId} msg_id ${msgId}`, shown);
          }
        }
      }),
    );

    // msg_id gaps: counter values taken (head.last_msg_id) but never stored, and why.
    const lostCounterValues = new Set<string>();
    for (const lost of plan.lostResponses) {
      if (lost.table !== stack.tables.Conversations || lost.command !== 'UpdateItemCommand') continue;
      // The middleware sits in the document client's stack: plain values, or AttributeValues at a lower level.
      const plain = (v: unknown): unknown => (typeof v === 'object' && v !== null ? ((v as { S?: string; N?: string }).S ?? (v as { N?: string }).N) : v);
      const conversationId = plain((lost.input['Key'] as Record<string, unknown> | undefined)?.['conversation_id']);
      const value = plain((lost.output['Attributes'] as Record<string, unknown> | undefined)?.['last_msg_id']);
      if (typeof conversationId === 'string' && value !== undefined) lostCounterValues.add(key(conversationId, Number(value)));
    }
    const gapCauses = new Map<string, number>();
    let gaps = 0;
    for (const head of heads) {
      const conversationId = head['conversation_id'] as string;
      const last = (head['last_msg_id'] as number | undefined) ?? 0;
      const ids = storedByConversation.get(conversationId) ?? new Set<number>();
      for (let v = 1; v <= last; v++) {
        if (ids.has(v)) continue;
        gaps++;
        const k = key(conversationId, v);
        const invocation = numbered.get(k);
        let cause: string;
        // The first failure of the invocation that took the value is the reason it was not stored.
        if (invocation && lostClaim.has(invocation)) cause = 'a resend the head’s ring no longer held took a msg_id, then found the claim';
        else if (invocation && invocation.errors.length === 0 && invocation.dead !== undefined) cause = `Lambda crash after numbering: ${invocation.dead.replace(/ \(.*\)$/, '')}`;
        else if (invocation && invocation.errors.length > 0) cause = `error after numbering: ${invocation.errors[0]!}`;
        else if (!invocation && lostCounterValues.has(k)) cause = 'counter UpdateItem retried by the SDK after a lost response';
        else {
          cause = 'UNEXPLAINED';
          const lost = plan.lostResponses.filter((l) => JSON.stringify(l.input).includes(conversationId)).map((l) => `${l.command} ${JSON.stringify(l.output)}`);
          note('unexplained gap', `${conversationId} msg_id ${v} numbered by ${invocation ? `${invocation.route} #${invocation.id} errors [${invocation.errors.join(', ')}]` : 'no invocation seen'}; lost responses there: ${lost.join(' | ') || 'none'}`, shown);
        }
        gapCauses.set(cause, (gapCauses.get(cause) ?? 0) + 1);
      }
    }

    const deliveriesPosted = stack.gateway.stats.delivered.get('msg_data') ?? 0;
    const framesReceived = devices.reduce((n, d) => n + d.rawMsgData, 0);
    const surfacedLive = devices.reduce((n, d) => n + d.live, 0);
    const surfacedByCatchUp = devices.reduce((n, d) => n + d.caughtUp, 0);
    const reopened = devices.reduce((n, d) => n + d.opens, 0) - devices.length;
    const invocations = new Map<string, { started: number; crashed: number }>();
    for (const [route, started] of stack.invocations.started) invocations.set(route, { started, crashed: stack.invocations.crashed.get(route) ?? 0 });
    const faults = new Map<string, number>(FAULT_KINDS.map((k) => [k, plan.counters.get(k)]));
    const storedMine = messageRows.length;

    const figures: Figure[] = [
      { label: 'sends started', value: records.length },
      { label: 'send phase, s (the app waits when too many sends are unacked)', value: Math.round(sendPhaseMs / 1000) },
      { label: 'send attempts by the app (SDK resends not counted)', value: records.reduce((n, r) => n + r.attempts, 0) },
      { label: 'acked (msg_data_ack received)', value: acked.length },
      { label: 'sends never acked', value: unacked.length, mustBeZero: true },
      { label: 'sends refused (not internal / rate_limited), reused keys apart', value: refused.length, mustBeZero: true },
      { label: 'reused keys with other content refused client_msg_id_reused', value: reusedRefused.length },
      { label: 'reused keys with other content acked', value: reusedAccepted.length, mustBeZero: true },
      { label: 'keys reused in another conversation (new messages, acked)', value: records.filter((r) => !r.mustBeRefused && r.clientMsgId !== `chaos-${options.seed}-${r.index}` && r.ack).length },
      { label: 'worst-case 4 KB messages (24 KB of JSON each)', value: records.filter((r) => r.text.length === 4096).length },
      { label: 'frames not posted for their size (over 128 KB)', value: stack.gateway.stats.oversized, mustBeZero: true },
      { label: 'connections kicked (token expired)', value: devices.reduce((n, d) => n + d.kicks, 0) },
      { label: 'stored (Messages rows, Scan)', value: storedMine },
      { label: 'stored twice (one key: sender, conversation, client_msg_id; two msg_ids)', value: storedTwice.length, mustBeZero: true },
      { label: 'deliveries posted (msg_data to a connection, redeliveries included)', value: deliveriesPosted },
      { label: 'msg_data frames received by devices (before SDK de-dup)', value: framesReceived },
      { label: 'messages surfaced by the SDK: live', value: surfacedLive },
      { label: 'messages surfaced by the SDK: by catch-up', value: surfacedByCatchUp },
      { label: 'duplicates seen by clients after SDK de-dup', value: duplicates, mustBeZero: true },
      { label: 'messages missing from a receiver device after final catch-up', value: missing, mustBeZero: true },
      { label: 'stored messages a full read (recent_sessions + msg_list) does not serve a member', value: missingFromServerReads, mustBeZero: true },
      { label: 'messages held by a device but not stored', value: phantoms, mustBeZero: true },
      { label: 'acks for unstored messages', value: acksForUnstored, mustBeZero: true },
      { label: 'stored messages no connection got live (left to catch-up)', value: [...stored.keys()].filter((k) => !postedLive.has(k)).length },
      {
        label: '  of which stored, then answered `internal` (own conditional put retried by the SDK)',
        value: [...storedButRefused].filter((k) => !postedLive.has(k)).length,
      },
      { label: 'own acked sends also surfaced as messages on the sending device', value: ownSendsEchoed },
      { label: '  of which the device got a live msg_data frame (a reconnect before the fan-out)', value: ownSendsEchoedLive },
      { label: 'route invocations still running at the check', value: stillRunning },
      { label: 'msg_id gaps (counter values never stored)', value: gaps },
      ...[...gapCauses].sort((a, b) => b[1] - a[1]).map(([cause, n]) => ({ label: `  gap cause: ${cause}`, value: n, mustBeZero: cause === 'UNEXPLAINED' })),
      ...[...faults].map(([kind, n]) => ({ label: `  fault injected: ${kind}`, value: n })),
      { label: 'faults injected, total', value: plan.counters.total() },
      { label: 'disconnects: client close + reopen', value: disconnects.closed },
      { label: 'disconnects: connection dropped, no $disconnect', value: disconnects.dropped },
      { label: 'posts answered 410 by the emulator (connection really gone)', value: stack.gateway.stats.gone },
      { label: '@connections posts slower than 1 s', value: stack.gateway.stats.slow },
      { label: 'slowest @connections post, ms', value: stack.gateway.stats.maxMs },
      { label: '@connections requests past the 3 s requestTimeout (SDK warning only)', value: postsOverRequestTimeout },
      { label: 'SDK warnings: requests queued behind 50 busy sockets', value: socketCapacityWarnings },
      { label: 'event loop delay p99 / max, ms', value: `${Math.round(loopDelay.percentile(99) / 1e6)} / ${Math.round(loopDelay.max / 1e6)}` },
      { label: 'device (re)opens after the first', value: reopened },
      {
        label: "SDK 'error' events by name",
        value:
          [...devices.reduce((all, d) => {
            for (const [name, n] of d.sdkErrors) all.set(name, (all.get(name) ?? 0) + n);
            return all;
          }, new Map<string, number>())]
            .map(([name, n]) => `${name} ${n}`)
            .join(', ') || 'none',
      },
      {
        label: 'Lambda invocations (crashed)',
        value: [...invocations].map(([route, s]) => `${route} ${s.started} (${s.crashed})`).join(', '),
      },
    ];
    for (const f of figures) if (f.mustBeZero && f.value !== 0 && !violations.some((v) => v.startsWith(f.label))) violations.push(`${f.label}: ${f.value}`);

    return {
      options,
      durationMs: Date.now() - startedAt,
      sent: records.length,
      acked: acked.length,
      stored: storedMine,
      storedTwice: storedTwice.length,
      unacked: unacked.length,
      refused: refused.length,
      refusedAsRequired: reusedRefused.length,
      deliveriesPosted,
      framesReceived,
      surfacedLive,
      surfacedByCatchUp,
      duplicates,
      missing,
      missingFromServerReads,
      phantoms,
      acksForUnstored,
      ownSendsEchoed,
      gaps,
      gapCauses,
      faults,
      crashPoints: plan.counters.crashPoints,
      invocations,
      disconnects: { ...disconnects, injected410: plan.counters.get('gateway.410') },
      figures,
      violations,
    };
  } finally {
    console.warn = consoleWarn;
    loopDelay.disable();
    plan.enabled = false;
    for (const d of devices) d.client.close();
    await stack.stop();
    raw.destroy();
  }
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
    ...result.figures.map((f) => `${f.label.padEnd(width)}  ${String(f.value).padStart(8)}  ${f.mustBeZero ? (f.value === 0 ? '0  ok' : '0  FAIL') : ''}`),
  ];
  if (result.crashPoints.size > 0) {
    lines.push('', 'Lambda crashes by point (route port.method:before|after):');
    for (const [point, n] of [...result.crashPoints].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(5)}  ${point}`);
  }
  if (result.violations.length > 0) lines.push('', 'VIOLATIONS:', ...result.violations.map((v) => `  ${v}`));
  return lines.join('\n');
}
