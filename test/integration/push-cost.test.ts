/**
 * What one user can cost in pushes, counted on DynamoDB Local: the push sender's units for one
 * receiver at the worst — 10 tokens of 1,024 characters, 100 sessions whose newest messages are 4 KB (the badge's
 * read), a group event (the mute check) — checked against a stated bound, and the README's push row priced from that
 * bound and the sender budget (PUSH_SENDER_BUDGET_PER_MINUTE receivers a minute), as the other rows of "What one user
 * can cost" are priced (test/integration/worst-case.test.ts). Providers charge nothing for a push.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRICES } from '../../bench/prices.js';
import { DEFAULTS } from '../../core/config.js';
import { pushSenderPorts, sendPushes } from '../../core/usecases/send-pushes.js';
import { CapacityMeter } from '../../core/store/consumed-capacity.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { LIMIT_DEFAULTS } from '../../protocol/limits.js';
import {
  createGroupAsAlice,
  createTestRuntime,
  msgData,
  sendAndDeliver,
  type TestRuntime,
} from '../support/runtime.js';

const BIG = 'x'.repeat(LIMIT_DEFAULTS.maxMsgBytes);
/** Stated bound per pushed receiver: its window claim and the event's budget take; tokens, mutes, badge. */
const PER_RECEIVER = { writeUnits: 2, readUnits: 250 };

let t: TestRuntime;
const meter = new CapacityMeter();

beforeAll(async () => {
  t = await createTestRuntime({ WRITE_RATE_LIMIT_PER_SECOND: '100' }, { capacityMeter: meter });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'alice-c' });
  for (let i = 0; i < LIMIT_DEFAULTS.maxDeviceTokensPerUser; i++) {
    await t.runtime.deviceTokens.register(
      'bob',
      { token: `${'t'.repeat(1020)}${i}`.slice(-1024), platform: 'android' },
      t.clock.now(),
      10,
    );
  }
  for (let i = 0; i < 110; i++)
    await sendAndDeliver(t.runtime, {
      userId: `p${i}`,
      connectionId: `p${i}-c`,
      body: msgData({ to_session_id: 'bob', msg_data: BIG }),
    });
}, 600_000);

describe('the push sender’s cost per receiver', () => {
  it('stays within its bound at the worst receiver, and is the README’s push row', async () => {
    const groupId = await createGroupAsAlice(t, ['bob']);
    await sendAndDeliver(t.runtime, {
      userId: 'alice',
      connectionId: 'alice-c',
      body: msgData({ to_session_id: groupId, msg_type: 17, msg_data: BIG }),
    });
    const event = t.events.events.at(-1)!;
    const fcm = { name: 'fcm', send: async () => ({ kind: 'sent' as const }) };
    meter.reset();
    expect(await sendPushes(pushSenderPorts(t.runtime, { fcm }), event)).toMatchObject({ sent: 10 });
    const { writeUnits, readUnits } = meter.totals();
    console.info(`[push sender, one receiver] ${writeUnits} W ${readUnits} R`);
    expect(writeUnits).toBeLessThanOrEqual(PER_RECEIVER.writeUnits);
    expect(readUnits).toBeLessThanOrEqual(PER_RECEIVER.readUnits);

    // Priced as the table's other rows: DynamoDB units and a Lambda request (one per receiver, at worst an event each).
    const perReceiver =
      PER_RECEIVER.writeUnits * PRICES.dynamodb.perWriteUnit +
      PER_RECEIVER.readUnits * PRICES.dynamodb.perReadUnit +
      PRICES.lambda.perRequest;
    const receiversPerHour = DEFAULTS.pushSenderBudgetPerMinute * 60;
    const line = `| push notifications to ${receiversPerHour.toLocaleString('en-US')} receivers (sender budget; 10 devices each) | $${perReceiver.toFixed(6)} | ${receiversPerHour.toLocaleString('en-US')} | $${(perReceiver * receiversPerHour).toFixed(2)} |`;
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme, `README.md lacks the line:\n${line}`).toContain(line);
  }, 120_000);
});
