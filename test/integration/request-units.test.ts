/**
 * Counts, on DynamoDB Local, the DynamoDB calls and capacity units of one one-to-one message with one connection
 * per user, delivered and acked: the figures docs/architecture.md states. A change to the write path that adds a
 * call or a unit fails here.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { CapacityMeter } from '../../core/store/consumed-capacity.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { deliverMessage } from '../../core/usecases/deliver-message.js';
import { sweep } from '../../core/usecases/sweep.js';
import { createTestRuntime, msgData, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
const meter = new CapacityMeter();

beforeEach(async () => {
  t = await createTestRuntime({}, { capacityMeter: meter });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'a1' });
  await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
  // The pair's first message creates the session rows once; measure a steady-state message.
  const first = await acceptMessage(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob' }) });
  await deliverMessage(t.runtime, first.message, { exceptConnectionId: 'a1' });
  meter.reset();
});

const summary = () => meter.records.map((r) => `${r.command} ${r.table.replace(/^t[0-9a-f]+_/, '')} r${r.readUnits} w${r.writeUnits}`);

describe('request units per message', () => {
  it('send: 5 calls, 4 write units, 2 read units; ack: 2 calls, 1 write unit, 0.5 read unit', async () => {
    const accepted = await acceptMessage(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob', msg_data: 'x'.repeat(200) }) });
    await deliverMessage(t.runtime, accepted.message, { exceptConnectionId: 'a1' });
    expect(summary()).toEqual([
      'UpdateItemCommand RateLimits r0 w1',
      'UpdateItemCommand Conversations r0 w1',
      'PutItemCommand Messages r0 w1',
      expect.stringMatching(/^QueryCommand Connections r1 w0$/),
      expect.stringMatching(/^QueryCommand Connections r1 w0$/),
      'PutItemCommand PendingDeliveries r0 w1',
    ]);
    meter.reset();

    await ackDelivery(t.runtime, {
      userId: 'bob',
      connectionId: 'b1',
      body: JSON.stringify({ action: 'msg_data_ack', msg_id: accepted.message.msgId, session_id: 'alice', session_type: 1 }),
    });
    expect(summary()).toEqual(['GetItemCommand Messages r0.5 w0', 'DeleteItemCommand PendingDeliveries r0 w1']);
  });

  it('with a client_msg_id (the SDK always sends one): + one GetItem and one PutItem on SentMessages', async () => {
    const accepted = await acceptMessage(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob', client_msg_id: 'c-42' }) });
    await deliverMessage(t.runtime, accepted.message, { exceptConnectionId: 'a1' });
    expect(summary()).toEqual([
      'UpdateItemCommand RateLimits r0 w1',
      'GetItemCommand SentMessages r0.5 w0',
      'UpdateItemCommand Conversations r0 w1',
      'PutItemCommand SentMessages r0 w1',
      'PutItemCommand Messages r0 w1',
      'QueryCommand Connections r1 w0',
      'QueryCommand Connections r1 w0',
      'PutItemCommand PendingDeliveries r0 w1',
    ]);
  });

  it('an idle sweep reads only the live slots: one Query per slot and nothing else', async () => {
    await ackDelivery(t.runtime, { userId: 'bob', connectionId: 'b1', body: JSON.stringify({ action: 'msg_data_ack', msg_id: 1, session_id: 'alice', session_type: 1 }) });
    meter.reset();
    await sweep(t.runtime);
    const { calls, readUnits, writeUnits } = meter.totals();
    // Defaults: 5 attempts × (15 s ack timeout + 60 s sweep interval) + 60 s slack = 435 s back, up to 15 s ago.
    expect(calls).toBeGreaterThanOrEqual(7);
    expect(calls).toBeLessThanOrEqual(8);
    expect(meter.records.every((r) => r.command === 'QueryCommand')).toBe(true);
    // DynamoDB bills an empty Query 0.5 read unit (eventually consistent); DynamoDB Local reports 0 for it.
    expect(readUnits).toBe(0);
    expect(writeUnits).toBe(0);
  });
});
