/**
 * Section 3: sustained throughput. N sender/receiver pairs (one connection each); every sender keeps one message in
 * flight and waits at least MIN_INTERVAL_MS between sends, so no connection reaches the 20/s rate limit and the
 * load is spread over connections; receivers ack every delivery. Counted per run: messages stored and acked,
 * deliveries, DynamoDB calls per message. The ceiling is raw DynamoDB Local: concurrent PutItems, same run.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS_ENV } from 'teamtalk-local';
import { createDocumentClient } from '../core/store/document-client.js';
import { cpuWindow, type CpuShare } from './cpu.js';
import type { BenchClient, Frame } from './client.js';
import { msgFrame, TEXT } from './cost.js';
import type { BenchStack } from './stack.js';
import { percentile, sleep } from './stats.js';

/** ≤ 16.7 messages a second per connection, under the 20/s limit even with jitter in the server's second. */
export const MIN_INTERVAL_MS = 60;

export interface ThroughputRun {
  pairs: number;
  seconds: number;
  sent: number;
  acked: number;
  delivered: number;
  refused: Record<string, number>;
  /** Stored and acked messages a second. */
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  /** The offered-load cap: pairs × 1000 / MIN_INTERVAL_MS. */
  capPerSecond: number;
  ackP50: number;
  ackP99: number;
  ddbCallsPerMessage: number;
  ddbWritesPerMessage: number;
  cpu?: CpuShare;
}

export interface Ceiling {
  concurrency: number;
  seconds: number;
  putsPerSecond: number;
  p50: number;
  cpu?: CpuShare;
}

async function sender(
  client: BenchClient,
  to: string,
  until: number,
  out: { sent: number; acked: number; refused: Record<string, number>; lat: number[] },
): Promise<void> {
  while (performance.now() < until) {
    const started = performance.now();
    const frame = msgFrame(to);
    const reply = client.next(
      (f: Frame) => f['seq'] === frame.seq && (f['type'] === 'msg_data_ack' || f['type'] === 'error'),
      30_000,
      'ack',
    );
    client.send(frame);
    out.sent++;
    const r = await reply;
    if (r['type'] === 'msg_data_ack') {
      out.acked++;
      out.lat.push(performance.now() - started);
    } else {
      const code = String(r['code']);
      out.refused[code] = (out.refused[code] ?? 0) + 1;
    }
    const wait = MIN_INTERVAL_MS - (performance.now() - started);
    if (wait > 0) await sleep(wait);
  }
}

export async function runThroughput(
  bs: BenchStack,
  pairs: number,
  seconds: number,
  tag: string,
  jvmPid?: number,
): Promise<ThroughputRun> {
  const senders = await bs.connectAll(Array.from({ length: pairs }, (_, i) => `${tag}a${i}`));
  const receivers = await bs.connectAll(Array.from({ length: pairs }, (_, i) => `${tag}b${i}`));
  let delivered = 0;
  for (const r of receivers) r.listeners.add((f) => f['type'] === 'msg_data' && delivered++);
  // Session rows of every pair first (a one-time cost, not the steady state).
  await Promise.all(
    senders.map(async (s, i) => {
      const frame = msgFrame(`${tag}b${i}`);
      const reply = s.next((f) => f['seq'] === frame.seq, 15_000, 'warm-up ack');
      s.send(frame);
      await reply;
    }),
  );
  await sleep(300);
  delivered = 0;
  await sleep(100);
  bs.resetCounters();

  const out = { sent: 0, acked: 0, refused: {} as Record<string, number>, lat: [] as number[] };
  const cpu = cpuWindow(jvmPid);
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(senders.map((s, i) => sender(s, `${tag}b${i}`, until, out)));
  // Drain: every acked message delivered and its delivery acked.
  await bs.invocations.waitFor('msg_data_ack', out.acked, 60_000).catch(() => undefined);
  const elapsed = (performance.now() - t0) / 1000;
  const share = cpu();
  await sleep(100);
  const m = bs.meter.summary();
  await Promise.all([...senders, ...receivers].map((c) => c.close()));
  return {
    pairs,
    seconds: elapsed,
    sent: out.sent,
    acked: out.acked,
    delivered,
    refused: out.refused,
    messagesPerSecond: out.acked / elapsed,
    deliveriesPerSecond: delivered / elapsed,
    capPerSecond: (pairs * 1000) / MIN_INTERVAL_MS,
    ackP50: percentile(out.lat, 50),
    ackP99: percentile(out.lat, 99),
    ddbCallsPerMessage: m.calls / Math.max(1, out.acked),
    ddbWritesPerMessage: m.writeUnits / Math.max(1, out.acked),
    ...(share ? { cpu: share } : {}),
  };
}

/** Raw DynamoDB Local: `concurrency` loops of PutItem (a message-sized item) for `seconds`. */
export async function runCeiling(
  bs: BenchStack,
  concurrency: number,
  seconds: number,
  jvmPid?: number,
): Promise<Ceiling> {
  const db = createDocumentClient({
    endpoint: bs.stack.dynamoEndpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  const lat: number[] = [];
  let puts = 0;
  try {
    const put = (i: number, n: number) =>
      db.send(
        new PutCommand({
          TableName: bs.stack.tables.Messages,
          Item: {
            conversation_id: `ceiling#${i}`,
            msg_id: n,
            from_user_id: 'x',
            to_session_id: 'y',
            msg_type: 1,
            msg_data: TEXT,
            create_time: 0,
            client_msg_id: randomUUID(),
          },
        }),
      );
    for (let i = 0; i < concurrency; i++) await put(i, 0); // warm the connection pool
    const cpu = cpuWindow(jvmPid);
    const t0 = performance.now();
    const until = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        let n = 1;
        while (performance.now() < until) {
          const s = performance.now();
          await put(i, n++);
          lat.push(performance.now() - s);
          puts++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const share = cpu();
    return {
      concurrency,
      seconds: elapsed,
      putsPerSecond: puts / elapsed,
      p50: percentile(lat, 50),
      ...(share ? { cpu: share } : {}),
    };
  } finally {
    db.destroy();
  }
}
