/**
 * The cost ledger: counts, on DynamoDB Local, the DynamoDB calls and capacity units of one one-to-one message with one
 * connection per user, delivered and acked — the figures docs/architecture.md states and the benchmark prices. Each
 * call and the totals are asserted: a change that adds a call or a unit fails here.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../core/config.js';
import { CapacityMeter } from '../../core/store/consumed-capacity.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { sweep } from '../../core/usecases/sweep.js';
import { createTestRuntime, msgData, sendAndDeliver, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
const meter = new CapacityMeter();

beforeEach(async () => {
  t = await createTestRuntime({}, { capacityMeter: meter });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'a1' });
  await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
  // The pair's first message of the day creates the session rows and index entries once; measure a steady-state message.
  await sendAndDeliver(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob' }) });
  meter.reset();
});

const summary = () =>
  meter.records.map((r) => `${r.command} ${r.table.replace(/^t[0-9a-f]+_/, '')} r${r.readUnits} w${r.writeUnits}`);

const ack = (msgId: number) =>
  ackDelivery(t.runtime, {
    userId: 'bob',
    connectionId: 'b1',
    body: JSON.stringify({ action: 'msg_data_ack', msg_id: msgId, session_id: 'alice', session_type: 1 }),
  });

describe('request units per message', () => {
  it('with a client_msg_id (as the SDK sends): send 7 calls, 5 write units, 2 read units; ack 2 calls, 1 write, 0.5 read', async () => {
    const sent = await sendAndDeliver(t.runtime, {
      userId: 'alice',
      connectionId: 'a1',
      body: msgData({ to_session_id: 'bob', client_msg_id: 'c-42', msg_data: 'x'.repeat(200) }),
    });
    expect(summary()).toEqual([
      'UpdateItemCommand RateLimits r0 w1',
      // The counter, with the idempotency key's ring slot: no read before it.
      'UpdateItemCommand Conversations r0 w1',
      'PutItemCommand SentMessages r0 w1',
      'PutItemCommand Messages r0 w1',
      'QueryCommand Connections r1 w0',
      'QueryCommand Connections r1 w0',
      // Recorded before the ack.
      'BatchWriteItemCommand PendingDeliveries r0 w1',
    ]);
    expect(meter.totals()).toEqual({ calls: 7, writeUnits: 5, readUnits: 2 });
    meter.reset();

    await ack(sent.message.msgId);
    expect(summary()).toEqual(['GetItemCommand Messages r0.5 w0', 'DeleteItemCommand PendingDeliveries r0 w1']);
    expect(meter.totals()).toEqual({ calls: 2, writeUnits: 1, readUnits: 0.5 });
  });

  it('without a client_msg_id: no SentMessages claim', async () => {
    await sendAndDeliver(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob' }) });
    expect(meter.totals()).toEqual({ calls: 6, writeUnits: 4, readUnits: 2 });
    expect(summary().some((s) => s.includes('SentMessages'))).toBe(false);
  });

  it('a bulk ack of three messages: one BatchGetItem and a delete each, in one frame', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          await sendAndDeliver(t.runtime, {
            userId: 'alice',
            connectionId: 'a1',
            body: msgData({ to_session_id: 'bob' }),
          })
        ).message.msgId,
      );
    meter.reset();
    const removed = await ackDelivery(t.runtime, {
      userId: 'bob',
      connectionId: 'b1',
      body: JSON.stringify({ action: 'msg_data_ack', msg_ids: ids, session_id: 'alice', session_type: 1 }),
    });
    expect(removed).toHaveLength(3);
    expect(meter.totals()).toEqual({ calls: 4, writeUnits: 3, readUnits: 1.5 });
  });

  it('an idle sweep: one Scan that finds the table empty, and nothing else', async () => {
    await ack(1);
    meter.reset();
    await sweep(t.runtime);
    // DynamoDB bills the empty strongly consistent Scan 1 read unit; DynamoDB Local reports 0 for it.
    expect(meter.records.map((r) => r.command)).toEqual(['ScanCommand']);
    expect(meter.totals()).toEqual({ calls: 1, readUnits: 0, writeUnits: 0 });
  });

  it('a sweep with a row anywhere reads only the live slots: one Query per slot and shard', async () => {
    await registerConnection(t.runtime, {
      userId: 'carol',
      connectionId: 'c1',
      tokenExpiresAt: Math.floor(t.clock.now() / 1000) + 3600,
    });
    meter.reset();
    await sweep(t.runtime);
    // Defaults: 5 attempts × (15 s ack timeout + 60 s sweep interval) + 60 s slack = 435 s back, up to now: 8 or 9
    // minute slots, each read in every shard, after the Scan that found the token expiry row.
    const queries = meter.records.filter((r) => r.command === 'QueryCommand').length;
    expect(meter.records[0]?.command).toBe('ScanCommand');
    expect(meter.records.length).toBe(queries + 1);
    expect(queries).toBeGreaterThanOrEqual(8 * DEFAULTS.pendingShards);
    expect(queries).toBeLessThanOrEqual(9 * DEFAULTS.pendingShards);
    expect(meter.totals().writeUnits).toBe(0);
  });
});
