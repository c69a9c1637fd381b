/**
 * The measured stack: startLocalStack (the real handlers, the emulator, on the shared DynamoDB Local) with
 * - the bench's capacity meter on every function's DynamoDB client (startLocalStack's runtimeOptions);
 * - every route invocation recorded (route, duration, outcome) through the emulator's onInvocation hook;
 * - SWEEP_INTERVAL_MS at AWS's rate(1 minute), not local mode's 1 s: the handlers size the pending-row horizon
 *   from it ($disconnect queries every slot in it), and the stack's own sweeper then runs once a minute. Measured
 *   windows check `sweeps()` and are retaken when a sweep ran inside them, so its calls never mix with a message's.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoClientPlugin } from '../core/compose/adapters.js';
import { CONNECT_ROUTE } from '../core/routes.js';
import { startLocalStack, type LocalStack } from '../local/stack.js';
import { BenchClient, FrameCounter } from './client.js';
import { BenchMeter } from './meter.js';

export interface Invocation {
  readonly routeKey: string;
  readonly durationMs: number;
  readonly outcome: string;
}

/** EventBridge rate(1 minute), lib/chat-backend.ts's default. */
export const AWS_SWEEP_INTERVAL_MS = 60_000;

export class InvocationLog {
  readonly records: Invocation[] = [];
  private waiters: { routeKey: string; count: number; resolve: () => void }[] = [];

  push(record: Invocation): void {
    this.records.push(record);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (this.count(w.routeKey) < w.count) return true;
      w.resolve();
      return false;
    });
  }

  count(routeKey: string): number {
    let n = 0;
    for (const r of this.records) if (r.routeKey === routeKey) n++;
    return n;
  }

  /** Resolves once `count` invocations of the route have finished since the last reset. */
  waitFor(routeKey: string, count: number, timeoutMs = 30_000): Promise<void> {
    if (this.count(routeKey) >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.count(routeKey)}/${count} ${routeKey} invocations in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({ routeKey, count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  reset(): void {
    this.records.length = 0;
  }
}

export interface BenchStack {
  readonly stack: LocalStack;
  readonly meter: BenchMeter;
  readonly invocations: InvocationLog;
  readonly frames: FrameCounter;
  /** Opens a connection for the user; resolves once $connect stored it (the upgrade completes after $connect). */
  connect(userId: string): Promise<BenchClient>;
  /** Connects many users with bounded concurrency. */
  connectAll(userIds: readonly string[], concurrency?: number): Promise<BenchClient[]>;
  /** Resets meter, invocation log and frame counter. */
  resetCounters(): void;
  /** Sweeps the stack's own sweeper has completed. */
  sweeps(): number;
  stop(): Promise<void>;
}

const quiet = {
  info: () => undefined,
  warn: (m: string, d?: unknown) => console.error(`[emulator] ${m}`, d ?? ''),
  error: (m: string, d?: unknown) => console.error(`[emulator] ${m}`, d ?? ''),
};

export async function startBenchStack(
  dynamoEndpoint: string,
  env: Record<string, string> = {},
  plugins: readonly DynamoClientPlugin[] = [],
): Promise<BenchStack> {
  const meter = new BenchMeter();
  const invocations = new InvocationLog();
  const frames = new FrameCounter();
  const connectionIds = new Map<string, string>();
  const clients = new Set<BenchClient>();

  const stack = await startLocalStack({
    port: 0,
    dynamoEndpoint,
    tablePrefix: `bench${randomUUID().slice(0, 6)}_`,
    sweepIntervalMs: AWS_SWEEP_INTERVAL_MS,
    env,
    runtimeOptions: { capacityMeter: meter, dynamoPlugins: plugins },
    logger: quiet,
    onInvocation: (record) => {
      invocations.push({ routeKey: record.routeKey, durationMs: record.durationMs, outcome: record.outcome });
      if (record.routeKey === CONNECT_ROUTE) {
        const id = record.event.queryStringParameters?.['bench_id'];
        if (id) connectionIds.set(id, record.connectionId);
      }
    },
  });

  const connect = async (userId: string): Promise<BenchClient> => {
    const benchId = randomUUID();
    const token = await stack.mintToken(userId);
    const ws = await BenchClient.open(`${stack.url}/?${new URLSearchParams({ token, bench_id: benchId })}`);
    const connectionId = connectionIds.get(benchId);
    connectionIds.delete(benchId);
    if (!connectionId) throw new Error(`bench: no $connect recorded for ${userId}`);
    const client = new BenchClient(ws, frames, userId, connectionId);
    clients.add(client);
    return client;
  };

  return {
    stack,
    meter,
    invocations,
    frames,
    connect,
    async connectAll(userIds, concurrency = 16) {
      const out: BenchClient[] = new Array(userIds.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, userIds.length) }, async () => {
          while (next < userIds.length) {
            const i = next++;
            out[i] = await connect(userIds[i]!);
          }
        }),
      );
      return out;
    },
    sweeps: () => stack.sweepCount(),
    resetCounters() {
      meter.reset();
      invocations.reset();
      frames.reset();
    },
    async stop() {
      await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
      clients.clear();
      await stack.stop();
    },
  };
}
