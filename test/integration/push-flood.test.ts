/**
 * Push flood bounds on DynamoDB Local: a receiver gets at most one push per conversation per
 * window (the rest collapsed into it, the next push carrying the unread count), and one sender's messages push at
 * most PUSH_SENDER_BUDGET_PER_MINUTE receivers a minute; the conditional writes behind both.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { UndeliveredMessageDetail } from '../../core/domain/push.js';
import type { PushContent } from '../../core/domain/push-content.js';
import type { PushProvider, SendOutcome } from '../../core/ports/push.js';
import { pushSenderPorts, sendPushes } from '../../core/usecases/send-pushes.js';
import { registerConnection } from '../../core/usecases/connections.js';
import {
  createGroupAsAlice,
  createTestRuntime,
  msgData,
  sendAndDeliver,
  type TestRuntime,
} from '../support/runtime.js';

const BUDGET = 3;
let t: TestRuntime;

beforeEach(async () => {
  t = await createTestRuntime({
    WRITE_RATE_LIMIT_PER_SECOND: '100',
    RATE_LIMIT_PER_SECOND: '100',
    PUSH_SENDER_BUDGET_PER_MINUTE: String(BUDGET),
  });
  for (const userId of ['alice', 'carol']) await registerConnection(t.runtime, { userId, connectionId: `${userId}-c` });
});

class RecordingProvider implements PushProvider {
  readonly name = 'fcm';
  readonly sends: { token: string; content: PushContent }[] = [];
  async send(token: string, content: PushContent): Promise<SendOutcome> {
    this.sends.push({ token, content });
    return { kind: 'sent' };
  }
}

async function phones(userId: string, count = 1): Promise<void> {
  for (let i = 0; i < count; i++)
    await t.runtime.deviceTokens.register(
      userId,
      { token: `${userId}-phone-${i}`, platform: 'android' },
      t.clock.now(),
      10,
    );
}

/** `from` sends `count` messages to `to`; the push events they published, in order. */
async function send(from: string, to: string, count = 1, msgType = 1): Promise<UndeliveredMessageDetail[]> {
  const before = t.events.events.length;
  for (let i = 0; i < count; i++)
    await sendAndDeliver(t.runtime, {
      userId: from,
      connectionId: `${from}-c`,
      body: msgData({ to_session_id: to, msg_type: msgType, msg_data: `m${i}` }),
    });
  return t.events.events.slice(before);
}

describe('one push per receiver and conversation per window', () => {
  it('pushes each of bob’s devices once for 20 messages from alice, then again after the window with the unread count', async () => {
    await phones('bob', 2);
    const fcm = new RecordingProvider();
    const ports = pushSenderPorts(t.runtime, { fcm });
    const tallies = [];
    for (const event of await send('alice', 'bob', 20)) tallies.push(await sendPushes(ports, event));
    expect(fcm.sends.map((s) => s.token).sort()).toEqual(['bob-phone-0', 'bob-phone-1']);
    expect(tallies.reduce((n, tally) => n + tally.collapsed, 0)).toBe(19);

    t.clock.advance(30_000); // the window is over
    for (const event of await send('alice', 'bob')) await sendPushes(ports, event);
    expect(fcm.sends).toHaveLength(4);
    expect(fcm.sends.at(-1)!.content.badge).toBe(21);
  });

  it('keeps a window per conversation: carol’s message within alice’s window still pushes', async () => {
    await phones('bob');
    const fcm = new RecordingProvider();
    const ports = pushSenderPorts(t.runtime, { fcm });
    for (const event of [...(await send('alice', 'bob', 2)), ...(await send('carol', 'bob'))])
      await sendPushes(ports, event);
    expect(fcm.sends.map((s) => s.content.data['from_user_id'])).toEqual(['alice', 'carol']);
  });

  it('pushes again for a redelivered event (the same message claims its window again)', async () => {
    await phones('bob');
    const fcm = new RecordingProvider();
    const ports = pushSenderPorts(t.runtime, { fcm });
    const [event] = await send('alice', 'bob');
    await sendPushes(ports, event!);
    await sendPushes(ports, event!);
    expect(fcm.sends).toHaveLength(2);
  });
});

describe('a sender’s push budget', () => {
  it('pushes at most PUSH_SENDER_BUDGET_PER_MINUTE receivers of one sender’s messages a minute, across conversations', async () => {
    const members = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const m of members) await phones(m);
    const [first, second] = [await createGroupAsAlice(t, members), await createGroupAsAlice(t, members)];
    const fcm = new RecordingProvider();
    const ports = pushSenderPorts(t.runtime, { fcm });
    const [tally] = await Promise.all((await send('alice', first!, 1, 17)).map((e) => sendPushes(ports, e)));
    expect(tally).toMatchObject({ sent: BUDGET, overBudget: members.length - BUDGET });
    for (const event of await send('alice', second!, 1, 17))
      expect(await sendPushes(ports, event)).toMatchObject({ sent: 0, overBudget: members.length });

    t.clock.advance(60_000); // a new minute, and every window over
    for (const event of await send('alice', second!, 1, 17))
      expect(await sendPushes(ports, event)).toMatchObject({ sent: BUDGET });
    expect(fcm.sends).toHaveLength(2 * BUDGET);
  });
});

describe('the conditional writes (core/store/push-throttle.ts)', () => {
  it('claims a window once per message until it is over', async () => {
    const { pushThrottle: throttle } = t.runtime;
    const now = t.clock.now();
    expect(await throttle.claimWindow('bob', 'conv', 1, now, 30_000)).toBe(true);
    expect(await throttle.claimWindow('bob', 'conv', 2, now + 29_999, 30_000)).toBe(false);
    expect(await throttle.claimWindow('bob', 'conv', 1, now + 1, 30_000)).toBe(true); // the same message again
    expect(await throttle.claimWindow('carol', 'conv', 2, now, 30_000)).toBe(true);
    expect(await throttle.claimWindow('bob', 'other', 2, now, 30_000)).toBe(true);
    expect(await throttle.claimWindow('bob', 'conv', 3, now + 30_001, 30_000)).toBe(true); // claimed at +1 by message 1
  });

  it('takes a budget whole, in part, or not at all, and racing takers never pass it together', async () => {
    const { pushThrottle: throttle } = t.runtime;
    const now = Math.floor(t.clock.now() / 60_000) * 60_000;
    expect(await throttle.takeBudget('alice', 600, now, 1000)).toBe(600);
    expect(await throttle.takeBudget('alice', 600, now, 1000)).toBe(400);
    expect(await throttle.takeBudget('alice', 1, now + 59_999, 1000)).toBe(0);
    expect(await throttle.takeBudget('alice', 2000, now + 60_000, 1000)).toBe(1000);

    const taken = await Promise.all(Array.from({ length: 8 }, () => throttle.takeBudget('erin', 300, now, 1000)));
    expect(taken.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1000);
    expect(Math.max(...taken)).toBe(300);
    const [row] = (await t.items('RateLimits')).filter((r) => String(r['bucket']).startsWith('pushes#erin#'));
    expect(row!['n']).toBe(taken.reduce((a, b) => a + b, 0));
  });
});
