/**
 * Section 5: one group message to M members (one connection each): time from send until the last member has it,
 * and the DynamoDB calls of that message (fan-out included, acks excluded). Needs `group_create`; answers
 * "n/a" with the reason when the stack does not route it yet.
 */
import { performance } from 'node:perf_hooks';
import type { Frame } from './client.js';
import { createGroup, msgFrame } from './cost.js';
import type { BenchStack } from './stack.js';
import { median, sleep } from './stats.js';

export interface FanoutRun {
  members: number;
  available: boolean;
  reason?: string;
  /** Median over the timed messages. */
  ackMs?: number;
  lastDeliveryMs?: number;
  firstDeliveryMs?: number;
  ddbCallsPerMessage?: number;
  messages?: number;
  connectSeconds?: number;
}

export async function runFanout(bs: BenchStack, members: number, messages: number): Promise<FanoutRun> {
  const t0 = performance.now();
  const clients = await bs.connectAll(
    Array.from({ length: members }, (_, i) => `fan${members}m${i}`),
    24,
  );
  const connectSeconds = (performance.now() - t0) / 1000;
  try {
    const owner = clients[0]!;
    const receivers = clients.slice(1);
    const { groupId, reason } = await createGroup(
      owner,
      receivers.map((c) => c.userId),
    );
    if (!groupId) return { members, available: false, reason: reason ?? 'group chat not available' };

    // Receivers ack only after the send invocation finished, so the calls counted are the send's alone.
    for (const r of receivers) r.autoAck = false;
    const send = async () => {
      const frame = msgFrame(groupId, 17);
      const marker = frame['msg_data'];
      const stamps: number[] = [];
      const got: Frame[] = [];
      const all = Promise.all(
        receivers.map((r) =>
          r
            .next((f: Frame) => f['type'] === 'msg_data' && f['msg_data'] === marker, 60_000, 'group delivery')
            .then((f) => {
              stamps.push(performance.now());
              got.push(f);
            }),
        ),
      );
      const ack = owner.next(
        (f) => f['seq'] === frame.seq && (f['type'] === 'msg_data_ack' || f['type'] === 'error'),
        60_000,
        'group ack',
      );
      await sleep(100);
      bs.resetCounters();
      const start = performance.now();
      owner.send(frame);
      const a = await ack;
      const ackAt = performance.now();
      if (a['type'] !== 'msg_data_ack') throw new Error(`group send refused: ${JSON.stringify(a)}`);
      await all;
      await bs.invocations.waitFor('msg_data', 1, 60_000);
      const calls = bs.meter.calls.length;
      for (const r of receivers) r.ack(got[0]!); // the same frame reached every member
      await bs.invocations.waitFor('msg_data_ack', receivers.length, 60_000);
      return { ack: ackAt - start, first: Math.min(...stamps) - start, last: Math.max(...stamps) - start, calls };
    };

    await send(); // first message of the group: session rows, cold paths
    const acks: number[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    const calls: number[] = [];
    for (let i = 0; i < messages; i++) {
      const r = await send();
      acks.push(r.ack);
      firsts.push(r.first);
      lasts.push(r.last);
      calls.push(r.calls);
    }
    return {
      members,
      available: true,
      ackMs: median(acks),
      firstDeliveryMs: median(firsts),
      lastDeliveryMs: median(lasts),
      ddbCallsPerMessage: median(calls),
      messages,
      connectSeconds,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
