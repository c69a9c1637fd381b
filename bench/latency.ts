/**
 * Section 2: send→ack and send→delivery through the emulator with real ws clients, and the floor measured in the
 * same run, interleaved sample by sample: the send's critical path done by hand — the three DynamoDB Local calls
 * before the ack (rate-limit UpdateItem, counter UpdateItem, message PutItem, same expressions as core/store) and
 * one @connections POST to the emulator — timed until the frame reaches a ws client.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS_ENV } from 'teamtalk-local';
import { createDocumentClient } from '../core/store/document-client.js';
import type { BenchClient, Frame } from './client.js';
import { cpuWindow, type CpuShare } from './cpu.js';
import { msgFrame, TEXT } from './cost.js';
import type { BenchStack } from './stack.js';
import { percentile } from './stats.js';

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number[];
}

export interface LatencyResult {
  pairs: number;
  sendToAck: Distribution;
  sendToDelivery: Distribution;
  floor: Distribution;
  /** Floor steps' medians: each DynamoDB call and the post, timed on their own. */
  floorSteps: Record<string, number>;
  errors: number;
  cpu?: CpuShare;
}

export function distribution(samples: number[]): Distribution {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    samples,
  };
}

interface Floor {
  sample(): Promise<{ total: number; steps: number[] }>;
  close(): void;
}

/** The hand-made critical path, writing the same items the send path writes, to the same tables. */
function floorPath(bs: BenchStack, target: BenchClient): Floor {
  const { tables, dynamoEndpoint, httpUrl } = bs.stack;
  const credentials = {
    accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
    secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
  };
  const db = createDocumentClient({ endpoint: dynamoEndpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials });
  // Configured as core/gateway/connections-api.ts configures its client.
  const api = new ApiGatewayManagementApiClient({
    endpoint: httpUrl,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials,
    maxAttempts: 4,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
  const conversationId = `s#floor-a#floor-b`;
  let seq = 0;
  return {
    async sample() {
      const mySeq = ++seq;
      const arrived = target.next((f) => f['type'] === 'msg_data_ack' && f['seq'] === mySeq, 10_000, 'floor frame');
      const t0 = performance.now();
      const now = Date.now();
      const second = Math.floor(now / 1000);
      await db.send(
        new UpdateCommand({
          TableName: tables.RateLimits,
          Key: { bucket: `${target.connectionId}#${second}` },
          UpdateExpression: 'ADD n :one SET expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
          // Same expression as the real limiter, a limit the floor's own pace never reaches.
          ExpressionAttributeValues: { ':one': 1, ':limit': 1_000_000, ':exp': second + 60 },
        }),
      );
      const t1 = performance.now();
      const head = await db.send(
        new UpdateCommand({
          TableName: tables.Conversations,
          Key: { conversation_id: conversationId },
          UpdateExpression: 'ADD last_msg_id :one, #sent :one SET updated_time = :now',
          ExpressionAttributeNames: { '#sent': 'sent_lo' },
          ExpressionAttributeValues: { ':one': 1, ':now': second },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const t2 = performance.now();
      const msgId = Number(head.Attributes?.['last_msg_id']);
      await db.send(
        new PutCommand({
          TableName: tables.Messages,
          Item: {
            conversation_id: conversationId,
            msg_id: msgId,
            from_user_id: 'floor-a',
            to_session_id: 'floor-b',
            msg_type: 1,
            msg_data: TEXT,
            create_time: second,
            client_msg_id: randomUUID(),
            sent_lo: msgId,
            sent_hi: 0,
          },
          ConditionExpression: 'attribute_not_exists(msg_id)',
        }),
      );
      const t3 = performance.now();
      const frame = {
        type: 'msg_data_ack',
        seq: mySeq,
        user_id: 'floor-a',
        session_id: 'floor-b',
        msg_id: msgId,
        session_type: 1,
        create_time: second,
      };
      await api.send(new PostToConnectionCommand({ ConnectionId: target.connectionId, Data: JSON.stringify(frame) }));
      const t4 = performance.now();
      await arrived;
      const total = performance.now() - t0;
      return { total, steps: [t1 - t0, t2 - t1, t3 - t2, t4 - t3] };
    },
    close() {
      db.destroy();
      api.destroy();
    },
  };
}

/** One real send: resolves with send→ack and send→delivery in ms. */
async function realSample(
  sender: BenchClient,
  receiver: BenchClient,
  to: string,
): Promise<{ ack: number; delivery: number }> {
  const frame = msgFrame(to);
  const marker = frame['msg_data'];
  const delivered = receiver.next((f) => f['type'] === 'msg_data' && f['msg_data'] === marker, 15_000, 'delivery');
  const acked = sender.next(
    (f: Frame) => f['seq'] === frame.seq && (f['type'] === 'msg_data_ack' || f['type'] === 'error'),
    15_000,
    'ack',
  );
  let ackAt = 0;
  let deliveredAt = 0;
  sender.listeners.add(function stamp(f, at) {
    if (f['seq'] === frame.seq) {
      ackAt = at;
      sender.listeners.delete(stamp);
    }
  });
  receiver.listeners.add(function stamp(f, at) {
    if (f['type'] === 'msg_data' && f['msg_data'] === marker) {
      deliveredAt = at;
      receiver.listeners.delete(stamp);
    }
  });
  const t0 = performance.now();
  sender.send(frame);
  const ack = await acked;
  if (ack['type'] !== 'msg_data_ack') throw new Error(`send refused: ${JSON.stringify(ack)}`);
  await delivered;
  return { ack: ackAt - t0, delivery: deliveredAt - t0 };
}

export async function runLatency(
  bs: BenchStack,
  options: { pairs: number; samples: number; warmup: number },
  log: (m: string) => void,
  jvmPid?: number,
): Promise<LatencyResult> {
  const senders = await bs.connectAll(Array.from({ length: options.pairs }, (_, i) => `lat-a${i}`));
  const receivers = await bs.connectAll(Array.from({ length: options.pairs }, (_, i) => `lat-b${i}`));
  const floorTarget = await bs.connect('floor-a');
  const floor = floorPath(bs, floorTarget);
  const ack: number[] = [];
  const delivery: number[] = [];
  const floorTotals: number[] = [];
  const steps: number[][] = [[], [], [], []];
  let errors = 0;
  const cpu = cpuWindow(jvmPid);
  try {
    const total = options.warmup + options.samples;
    for (let i = 0; i < total; i++) {
      const p = i % options.pairs;
      // Alternate which goes first so neither always runs right after the other's background work.
      const order = i % 2 === 0 ? ['real', 'floor'] : ['floor', 'real'];
      for (const which of order) {
        if (which === 'real') {
          try {
            const r = await realSample(senders[p]!, receivers[p]!, `lat-b${p}`);
            if (i >= options.warmup) {
              ack.push(r.ack);
              delivery.push(r.delivery);
            }
          } catch (error) {
            errors++;
            if (errors > 20) throw error;
          }
        } else {
          const f = await floor.sample();
          if (i >= options.warmup) {
            floorTotals.push(f.total);
            for (const [k, s] of f.steps.entries()) steps[k]!.push(s);
          }
        }
      }
      if (i > 0 && i % 500 === 0) log(`latency: ${i}/${total}`);
    }
  } finally {
    floor.close();
  }
  const share = cpu();
  const names = ['rate-limit UpdateItem', 'counter UpdateItem', 'message PutItem', '@connections POST'];
  return {
    pairs: options.pairs,
    sendToAck: distribution(ack),
    sendToDelivery: distribution(delivery),
    floor: distribution(floorTotals),
    floorSteps: Object.fromEntries(names.map((n, k) => [n, percentile(steps[k]!, 50)])),
    errors,
    ...(share ? { cpu: share } : {}),
  };
}
