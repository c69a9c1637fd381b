/**
 * The push sender on DynamoDB Local: session_mute (members only, nothing written on a refusal, a writing request),
 * and sendPushes on the real stores — mutes respected, the badge is the receiver's unread count, a gone token's items
 * are deleted at the first failure.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import webpush from 'web-push';
import { beforeEach, describe, expect, it } from 'vitest';
import type { UndeliveredMessageDetail } from '../../core/domain/push.js';
import { WebPushSender } from '../../core/push-providers/web-push.js';
import { createPushSenderHandler, RECORD_CONCURRENCY } from '../../lambdas/push-sender/handler.js';
import { FakeWebPush } from '../../local/push/fake-web-push.js';
import { ApnsSender } from '../../core/push-providers/apns.js';
import { pushContent, type PushContent } from '../../core/domain/push-content.js';
import { FAKE_APNS, FakeApns } from '../../local/push/fake-apns.js';
import type { PushProvider, SendOutcome } from '../../core/ports/push.js';
import { pushSenderPorts, sendPushes } from '../../core/usecases/send-pushes.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { createDevicesHandler } from '../../lambdas/devices/handler.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import {
  createGroupAsAlice,
  createTestRuntime,
  msgData,
  requestAs,
  sendAndDeliver,
  type TestRuntime,
} from '../support/runtime.js';

let t: TestRuntime;

beforeEach(async () => {
  t = await createTestRuntime({ WRITE_RATE_LIMIT_PER_SECOND: '100' });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'a1' });
});

class RecordingProvider implements PushProvider {
  readonly sends: { token: string; content: PushContent }[] = [];
  constructor(
    readonly name: string,
    private readonly answer: (token: string) => SendOutcome = () => ({ kind: 'sent' }),
  ) {}
  async send(token: string, content: PushContent): Promise<SendOutcome> {
    this.sends.push({ token, content });
    return this.answer(token);
  }
}

describe('session_mute', () => {
  it('mutes and unmutes a member, refuses a non-member and a single chat, and writes nothing for them', async () => {
    const groupId = await createGroupAsAlice(t, ['bob']);
    const groups = createGroupsHandler(t.runtime);
    await requestAs(groups, 'bob', {
      action: 'session_mute',
      seq: 3,
      session_id: groupId,
      session_type: 2,
      mute: true,
    });
    expect(t.gateway.framesTo('bob-c').at(-1)).toEqual({
      type: 'session_mute',
      seq: 3,
      session_id: groupId,
      session_type: 2,
      mute: true,
    });
    expect(await t.runtime.groupMutes.mutedAmong(groupId, ['alice', 'bob', 'zed'])).toEqual(new Set(['bob']));

    const before = await t.items('GroupMembers');
    await requestAs(groups, 'zed', {
      action: 'session_mute',
      seq: 4,
      session_id: groupId,
      session_type: 2,
      mute: true,
    });
    expect(t.gateway.framesTo('zed-c').at(-1)).toMatchObject({ type: 'error', seq: 4, code: 'not_member' });
    await requestAs(groups, 'bob', {
      action: 'session_mute',
      seq: 5,
      session_id: 'alice',
      session_type: 1,
      mute: true,
    });
    expect(t.gateway.framesTo('bob-c').at(-1)).toMatchObject({ type: 'error', seq: 5, code: 'bad_request' });
    await requestAs(groups, 'bob', {
      action: 'session_mute',
      seq: 6,
      session_id: groupId,
      session_type: 2,
      mute: 'yes',
    });
    expect(t.gateway.framesTo('bob-c').at(-1)).toMatchObject({ type: 'error', seq: 6, code: 'bad_request' });
    expect(await t.items('GroupMembers')).toEqual(before);

    await requestAs(groups, 'bob', {
      action: 'session_mute',
      seq: 7,
      session_id: groupId,
      session_type: 2,
      mute: false,
    });
    expect(await t.runtime.groupMutes.mutedAmong(groupId, ['bob'])).toEqual(new Set());
  });

  it('counts against the writing-request budget', async () => {
    const limited = await createTestRuntime({ WRITE_RATE_LIMIT_PER_SECOND: '1' });
    const groups = createGroupsHandler(limited.runtime);
    await requestAs(groups, 'alice', { action: 'group_create', group_name: 'g', member_ids: ['bob'] });
    const groupId = (limited.gateway.framesTo('alice-c').at(-1) as unknown as { group_id: string }).group_id;
    for (const seq of [1, 2])
      await requestAs(groups, 'bob', { action: 'session_mute', seq, session_id: groupId, session_type: 2, mute: true });
    expect(limited.gateway.framesTo('bob-c').map((f) => (f as { type: string; code?: string }).code ?? f.type)).toEqual(
      ['session_mute', 'rate_limited'],
    );
  });
});

describe('sendPushes on the stores', () => {
  it('pushes a group message to unmuted offline members with their unread count as badge, and removes a gone token', async () => {
    const groupId = await createGroupAsAlice(t, ['bob', 'carol', 'dave']);
    const devices = createDevicesHandler(t.runtime);
    await requestAs(devices, 'bob', { action: 'device_token', token: 'bob-phone', platform: 'android' });
    await requestAs(devices, 'carol', { action: 'device_token', token: 'carol-phone', platform: 'android' });
    await requestAs(devices, 'carol', { action: 'device_token', token: 'carol-old', platform: 'android' });
    await requestAs(devices, 'dave', { action: 'device_token', token: 'dave-phone', platform: 'android' });
    await requestAs(createGroupsHandler(t.runtime), 'dave', {
      action: 'session_mute',
      session_id: groupId,
      session_type: 2,
      mute: true,
    });

    for (const text of ['one', 'two'])
      await sendAndDeliver(t.runtime, {
        userId: 'alice',
        connectionId: 'a1',
        body: msgData({ to_session_id: groupId, msg_type: 17, msg_data: text }),
      });
    const fcm = new RecordingProvider('fcm', (token) =>
      token === 'carol-old' ? { kind: 'gone', reason: 'UNREGISTERED' } : { kind: 'sent' },
    );
    const ports = pushSenderPorts(t.runtime, { fcm }, { sleep: async () => undefined });
    const last = t.events.events.at(-1)!;
    expect(last.receivers).toEqual(expect.arrayContaining(['bob', 'carol', 'dave']));

    const tally = await sendPushes(ports, last);
    expect(tally).toEqual({ sent: 2, failed: 0, tokensRemoved: 1, muted: 1, skipped: 0, collapsed: 0, overBudget: 0 });
    expect(fcm.sends.map((s) => s.token).sort()).toEqual(['bob-phone', 'carol-old', 'carol-phone']);
    for (const s of fcm.sends)
      expect(s.content).toMatchObject({ badge: 2, body: 'New message from alice', title: `alice in ${groupId}` });
    expect((await t.runtime.deviceTokens.tokensOf('carol')).map((d) => d.token)).toEqual(['carol-phone']);
    expect(JSON.stringify(await t.items('DeviceTokens'))).not.toContain('carol-old');
  });
});

describe('the APNs provider token shared by sender instances', () => {
  it('is signed by one instance, reused by another, and renewed by exactly one of two racing instances', async () => {
    const apns = await FakeApns.start();
    let now = Date.now();
    const clock = { now: () => now };
    const instance = () =>
      new ApnsSender({
        ...FAKE_APNS,
        privateKey: apns.privateKey,
        production: false,
        clock,
        origin: apns.origin,
        ca: apns.ca,
        sharedTokens: t.runtime.providerTokens,
      });
    const [a, b] = [instance(), instance()];
    const content = pushContent(
      {
        reason: 'offline',
        receivers: ['bob'],
        from_user_id: 'alice',
        session_type: 1,
        session_id: 'alice',
        msg_id: 1,
        msg_type: 1,
        create_time: 1,
      },
      1,
    );
    try {
      expect(await a.send('ab'.repeat(32), content)).toEqual({ kind: 'sent' });
      expect(await b.send('ab'.repeat(32), content)).toEqual({ kind: 'sent' });
      expect([a.tokensSigned, b.tokensSigned]).toEqual([1, 0]);
      now += 21 * 60_000;
      await Promise.all([a.send('ab'.repeat(32), content), b.send('ab'.repeat(32), content)]);
      expect(a.tokensSigned + b.tokensSigned).toBe(2);
      expect(new Set(apns.sent.map((r) => r.jwt)).size).toBe(2);
      expect(apns.refused).toEqual([]);
    } finally {
      a.close();
      b.close();
      await apns.stop();
    }
  });
});

/** SQS records as the push queue hands them over: EventBridge's envelope around each detail. */
function sqsEvent(details: UndeliveredMessageDetail[]): SQSEvent {
  return {
    Records: details.map((detail) => ({
      messageId: randomUUID(),
      body: JSON.stringify({ source: 'teamtalk-serverless', 'detail-type': 'Message Undelivered', detail }),
    })) as SQSEvent['Records'],
  };
}

const lambdaContext = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as Context;

describe('the push sender handler: one push service holding a request delays no other record', () => {
  const detailTo = (userId: string): UndeliveredMessageDetail => ({
    reason: 'offline',
    receivers: [userId],
    from_user_id: 'alice',
    session_type: 1,
    session_id: 'alice',
    msg_id: 1,
    msg_type: 1,
    create_time: 1,
  });

  async function setUpTen() {
    const web = await FakeWebPush.start();
    const sender = new WebPushSender({
      vapid: webpush.generateVAPIDKeys(),
      subject: 'mailto:ops@example.com',
      clock: t.runtime.clock,
      timeoutMs: 1_000,
      endpointAllowlist: [web.origin],
    });
    const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
    const subscriptions = users.map(() => web.subscribe());
    for (const [i, userId] of users.entries())
      await t.runtime.deviceTokens.register(userId, { token: subscriptions[i]!, platform: 'web' }, t.clock.now(), 10);
    const handler = createPushSenderHandler(t.runtime, async () => ({ webpush: sender }), {
      sleep: async () => undefined,
    });
    return { web, handler, event: sqsEvent(users.map(detailTo)), ids: subscriptions.map((s) => FakeWebPush.idOf(s)) };
  }

  it('sends the other records’ pushes and fails no record: the held push fails alone, within its timeout', async () => {
    const { web, handler, event, ids } = await setUpTen();
    web.held.add(ids[0]!);
    try {
      const result = await handler(event, lambdaContext(120_000));
      expect(result.batchItemFailures).toEqual([]);
      expect(web.sent.map((s) => s.subscriptionId).sort()).toEqual(ids.slice(1).sort());
    } finally {
      await web.stop();
    }
  }, 30_000);

  it('handles a batch’s records concurrently, at most RECORD_CONCURRENCY at once', async () => {
    const users = Array.from({ length: 3 * RECORD_CONCURRENCY }, (_, i) => `c${i}`);
    for (const userId of users)
      await t.runtime.deviceTokens.register(
        userId,
        { token: `${userId}-phone`, platform: 'android' },
        t.clock.now(),
        10,
      );
    // Each push waits until two records' pushes are in flight together: records handled one by one never finish.
    let inFlight = 0;
    let most = 0;
    let release!: () => void;
    const two = new Promise<void>((resolve) => (release = resolve));
    const fcm: PushProvider = {
      name: 'fcm',
      async send() {
        most = Math.max(most, ++inFlight);
        if (inFlight >= 2) release();
        await two;
        inFlight--;
        return { kind: 'sent' };
      },
    };
    const handler = createPushSenderHandler(t.runtime, async () => ({ fcm }));
    const result = await handler(sqsEvent(users.map(detailTo)), lambdaContext(120_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(RECORD_CONCURRENCY);
  });

  it('leaves the records to SQS, sending nothing, when too little of the invocation’s time remains', async () => {
    const { web, handler, event } = await setUpTen();
    try {
      const result = await handler(event, lambdaContext(1_000));
      expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(event.Records.map((r) => r.messageId));
      expect(web.sent).toEqual([]);
    } finally {
      await web.stop();
    }
  });
});
