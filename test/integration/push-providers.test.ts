/**
 * The real senders (FCM HTTP v1, APNs over HTTP/2 + TLS, Web Push) against the local fake providers, which check each
 * request as the provider documents it: formats, auth token reuse and refresh, 429 with Retry-After, gone tokens
 * removed, no body without pushIncludesBody, one collapse id per conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noThrottle } from '../support/fakes.js';
import { ApnsSender } from '../../core/push-providers/apns.js';
import { pushContent } from '../../core/domain/push-content.js';
import { FcmSender } from '../../core/push-providers/fcm.js';
import { sendPushes, type PushSenderPorts } from '../../core/usecases/send-pushes.js';
import { WebPushSender } from '../../core/push-providers/web-push.js';
import type { DeviceToken, UndeliveredMessageDetail } from '../../core/domain/push.js';
import { FAKE_APNS, FakeApns } from '../../local/push/fake-apns.js';
import { FakeFcm } from '../../local/push/fake-fcm.js';
import { FakeWebPush } from '../../local/push/fake-web-push.js';
import webpush from 'web-push';

let fcm: FakeFcm;
let apns: FakeApns;
let web: FakeWebPush;

beforeAll(async () => {
  [fcm, apns, web] = await Promise.all([FakeFcm.start(), FakeApns.start(), FakeWebPush.start()]);
});
afterAll(async () => {
  await Promise.all([fcm?.stop(), apns?.stop(), web?.stop()]);
});

const detail = (fields: Partial<UndeliveredMessageDetail> = {}): UndeliveredMessageDetail => ({
  reason: 'offline',
  receivers: ['bob'],
  from_user_id: 'alice',
  session_type: 1,
  session_id: 'alice',
  msg_id: 1,
  msg_type: 1,
  create_time: 1_790_000_000,
  ...fields,
});

const hexToken = (n: number) => n.toString(16).padStart(64, 'a');

function setUp(tokens: DeviceToken[]) {
  let now = Date.now();
  const clock = { now: () => now };
  const senders = {
    fcm: new FcmSender({ serviceAccount: fcm.serviceAccount, clock, origin: fcm.origin }),
    apns: new ApnsSender({
      ...FAKE_APNS,
      privateKey: apns.privateKey,
      production: false,
      clock,
      origin: apns.origin,
      ca: apns.ca,
    }),
    webpush: new WebPushSender({
      vapid: webpush.generateVAPIDKeys(),
      subject: 'mailto:ops@example.com',
      clock,
      endpointAllowlist: [web.origin],
    }),
  };
  const held = [...tokens];
  const waits: number[] = [];
  const ports: PushSenderPorts = {
    deviceTokens: {
      tokensOf: async () => [...held],
      unregister: async (_user, token) =>
        void held.splice(
          held.findIndex((t) => t.token === token),
          1,
        ),
    },
    mutes: { mutedAmong: async () => new Set() },
    unreadTotal: async () => 4,
    providers: senders,
    sleep: async (ms) => void waits.push(ms),
    config: {
      maxAttempts: 3,
      maxRetryWaitMs: 10_000,
      concurrency: 4,
      collapseWindowMs: 0,
      senderBudgetPerMinute: 1000,
    },
    throttle: noThrottle,
    now: () => Date.now(),
  };
  return { ports, senders, held, waits, advance: (ms: number) => (now += ms) };
}

describe('push providers (local fakes)', () => {
  it('sends FCM v1, APNs and Web Push requests the providers accept, with the badge and no body', async () => {
    const sub = web.subscribe();
    const { ports, senders } = setUp([
      { token: 'fcm-token-1', platform: 'android' },
      { token: hexToken(1), platform: 'ios' },
      { token: sub, platform: 'web' },
    ]);
    const before = { fcm: fcm.sent.length, apns: apns.sent.length, web: web.sent.length };
    expect(await sendPushes(ports, detail())).toMatchObject({ sent: 3, failed: 0 });
    senders.apns.close();
    expect([fcm.refused, apns.refused, web.refused]).toEqual([[], [], []]);

    const f = fcm.sent.at(-1)!;
    expect(fcm.sent.length).toBe(before.fcm + 1);
    expect(f.message).toMatchObject({
      token: 'fcm-token-1',
      notification: { title: 'alice', body: 'New message from alice' },
      android: { notification: { notification_count: 4 } },
    });
    const a = apns.sent.at(-1)!;
    expect(a.headers).toMatchObject({
      'apns-push-type': 'alert',
      'apns-topic': FAKE_APNS.bundleId,
      'apns-priority': '10',
    });
    expect(a.payload).toMatchObject({
      aps: {
        alert: { title: 'alice', body: 'New message from alice' },
        badge: 4,
        'thread-id': a.headers['apns-collapse-id'],
      },
    });
    const w = web.sent.at(-1)!;
    expect(w.headers).toMatchObject({ 'content-encoding': 'aes128gcm', urgency: 'high' });
    expect(w.payload).toMatchObject({ title: 'alice', body: 'New message from alice', badge: 4 });
  });

  it('puts the body in only when the event carries it, cut to each provider’s limit', async () => {
    const sub = web.subscribe();
    const { ports, senders } = setUp([
      { token: 'fcm-token-2', platform: 'android' },
      { token: hexToken(2), platform: 'ios' },
      { token: sub, platform: 'web' },
    ]);
    const long = 'ü'.repeat(5000);
    expect(await sendPushes(ports, detail({ msg_data: long }))).toMatchObject({ sent: 3 });
    senders.apns.close();
    const bodies = [
      (fcm.sent.at(-1)!.message['notification'] as { body: string }).body,
      (apns.sent.at(-1)!.payload['aps'] as { alert: { body: string } }).alert.body,
      web.sent.at(-1)!.payload!['body'] as string,
    ];
    for (const body of bodies) {
      expect(body.startsWith('üüü')).toBe(true);
      expect(body.endsWith('…')).toBe(true);
      expect(body.length).toBeGreaterThan(1000);
    }
  });

  it('reuses the FCM access token and the APNs provider token, and renews them when due', async () => {
    const { ports, senders, advance } = setUp([
      { token: 'fcm-token-3', platform: 'android' },
      { token: hexToken(3), platform: 'ios' },
    ]);
    for (let i = 1; i <= 3; i++) await sendPushes(ports, detail({ msg_id: i }));
    expect(senders.fcm.tokenGrants).toBe(1);
    expect(senders.apns.tokensSigned).toBe(1);
    advance(21 * 60_000); // past APNs' 20 minutes, within FCM's hour
    await sendPushes(ports, detail({ msg_id: 4 }));
    expect(senders.apns.tokensSigned).toBe(2);
    expect(senders.fcm.tokenGrants).toBe(1);
    advance(40 * 60_000); // past the access token's hour (less a minute's margin)
    await sendPushes(ports, detail({ msg_id: 5 }));
    expect(senders.fcm.tokenGrants).toBe(2);
    expect(senders.apns.tokensSigned).toBe(3); // 40 more minutes: renewed again
    senders.apns.close();
    expect(new Set(apns.sent.slice(-5).map((s) => s.jwt)).size).toBe(3);
  });

  it('waits as Retry-After says on 429, then delivers', async () => {
    const sub = web.subscribe();
    const { ports, waits } = setUp([
      { token: 'fcm-token-4', platform: 'android' },
      { token: sub, platform: 'web' },
    ]);
    fcm.throttleNext(1, 7);
    web.throttleNext(1, 3);
    expect(await sendPushes(ports, detail())).toMatchObject({ sent: 2, failed: 0 });
    expect(waits.sort()).toEqual([3000, 7000]);
  });

  it('backs off on APNs 429 without Retry-After, and gives up after the tries allowed', async () => {
    const { ports, waits, senders } = setUp([{ token: hexToken(5), platform: 'ios' }]);
    apns.throttleNext(3);
    expect(await sendPushes(ports, detail())).toMatchObject({ sent: 0, failed: 1 });
    senders.apns.close();
    expect(waits).toHaveLength(2);
    expect(waits[1]!).toBeGreaterThan(waits[0]! - 1);
  });

  it('removes tokens the providers call gone: FCM UNREGISTERED, APNs 410 and BadDeviceToken, Web Push 410', async () => {
    const sub = web.subscribe();
    const live = web.subscribe();
    fcm.gone.add('fcm-dead');
    apns.gone.add(hexToken(6));
    web.gone.add((JSON.parse(sub) as { endpoint: string }).endpoint.split('/').at(-1)!);
    const { ports, held, senders } = setUp([
      { token: 'fcm-dead', platform: 'android' },
      { token: hexToken(6), platform: 'ios' },
      { token: 'not-hex', platform: 'ios' },
      { token: sub, platform: 'web' },
      { token: live, platform: 'web' },
    ]);
    expect(await sendPushes(ports, detail())).toMatchObject({ sent: 1, tokensRemoved: 4, failed: 0 });
    senders.apns.close();
    expect(held.map((t) => t.token)).toEqual([live]);
  });

  it('gives every push of a conversation one collapse id and another conversation another', async () => {
    const sub = web.subscribe();
    const { ports, senders } = setUp([
      { token: hexToken(7), platform: 'ios' },
      { token: sub, platform: 'web' },
      { token: 'fcm-token-7', platform: 'android' },
    ]);
    await sendPushes(ports, detail({ msg_id: 1 }));
    await sendPushes(ports, detail({ msg_id: 2 }));
    await sendPushes(ports, detail({ msg_id: 3, from_user_id: 'erin', session_id: 'erin' }));
    senders.apns.close();
    const apnsIds = apns.sent.slice(-3).map((s) => s.headers['apns-collapse-id']);
    const topics = web.sent.slice(-3).map((s) => s.headers['topic']);
    const fcmKeys = fcm.sent.slice(-3).map((s) => (s.message['android'] as { collapse_key: string }).collapse_key);
    for (const ids of [apnsIds, topics, fcmKeys]) {
      expect(ids[0]).toBeDefined();
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).not.toBe(ids[0]);
    }
  });
});

describe('Web Push settings and subscriptions', () => {
  it('refuses bad VAPID keys at start, and drops a subscription whose keys cannot encrypt', async () => {
    const clock = { now: () => Date.now() };
    expect(
      () =>
        new WebPushSender({
          vapid: { publicKey: 'nope', privateKey: 'nope' },
          subject: 'mailto:ops@example.com',
          clock,
        }),
    ).toThrow();
    const sender = new WebPushSender({
      vapid: webpush.generateVAPIDKeys(),
      subject: 'mailto:ops@example.com',
      clock,
      endpointAllowlist: [web.origin],
    });
    const content = pushContent(detail(), 1);
    const bad = JSON.stringify({ endpoint: web.endpoint(), keys: { p256dh: 'AAAA', auth: 'AAAA' } });
    expect(await sender.send(bad, content)).toMatchObject({ kind: 'gone' });
    expect(await sender.send('not json', content)).toMatchObject({ kind: 'gone' });
  });
});
