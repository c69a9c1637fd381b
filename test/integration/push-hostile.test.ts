/**
 * Push endpoints that misbehave, as an attacker's or a broken one would, against the local
 * fakes: a request held forever, an answer that never ends, a redirect, an endpoint outside the Web Push services, an
 * allowed name that resolves to a private address. Every provider call ends within its timeout having read a bounded
 * part of the answer, and no push reaches an address the allowlist does not name.
 */
import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:http';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApnsSender } from '../../core/push-providers/apns.js';
import { pushContent } from '../../core/domain/push-content.js';
import { FcmSender } from '../../core/push-providers/fcm.js';
import { boundedRequest, PROVIDER_ANSWER_MAX_BYTES } from '../../core/push-providers/http.js';
import { WebPushSender } from '../../core/push-providers/web-push.js';
import { FAKE_APNS, FakeApns } from '../../local/push/fake-apns.js';
import { FakeFcm } from '../../local/push/fake-fcm.js';
import { FakeWebPush } from '../../local/push/fake-web-push.js';
import { answerEndlessly, close, listen } from '../../local/push/http.js';

let fcm: FakeFcm;
let apns: FakeApns;
let web: FakeWebPush;

beforeAll(async () => {
  [fcm, apns, web] = await Promise.all([FakeFcm.start(), FakeApns.start(), FakeWebPush.start()]);
});
afterAll(async () => {
  await Promise.all([fcm?.stop(), apns?.stop(), web?.stop()]);
});

/** Short, so the held requests end quickly; a test fails by its own timeout if a call is not bounded. */
const TIMEOUT_MS = 500;
const clock = { now: () => Date.now() };
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
const timedOut = { code: 'provider_timeout' };

function webSender(options: { allowed?: readonly string[]; lookup?: (host: string) => LookupAddress[] } = {}) {
  return new WebPushSender({
    vapid: webpush.generateVAPIDKeys(),
    subject: 'mailto:ops@example.com',
    clock,
    timeoutMs: TIMEOUT_MS,
    endpointAllowlist: options.allowed ?? [web.origin],
    ...(options.lookup ? { lookup: stubLookup(options.lookup) } : {}),
  });
}

/** dns.lookup's shape (`all: true`, as the sender asks), answering from a table. */
function stubLookup(answer: (host: string) => LookupAddress[]) {
  return (host: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) =>
    callback(null, answer(host));
}

describe('every provider call ends within its timeout and reads a bounded answer', () => {
  it('Web Push: a held push times out, an answer that never ends is read in part', async () => {
    const sender = webSender();
    const held = web.subscribe();
    const endless = web.subscribe();
    web.held.add(FakeWebPush.idOf(held));
    web.endless.add(FakeWebPush.idOf(endless));
    await expect(sender.send(held, content)).rejects.toMatchObject(timedOut);
    expect(await sender.send(endless, content)).toEqual({ kind: 'sent' });
  }, 15_000);

  it('FCM: a silent token endpoint and a held send time out, an endless error answer is read in part', async () => {
    const sender = new FcmSender({
      serviceAccount: fcm.serviceAccount,
      clock,
      origin: fcm.origin,
      timeoutMs: TIMEOUT_MS,
    });
    fcm.holdGrants = true;
    await expect(sender.send('fcm-any', content)).rejects.toMatchObject(timedOut);
    fcm.holdGrants = false;
    fcm.held.add('fcm-held');
    fcm.endless.add('fcm-endless');
    await expect(sender.send('fcm-held', content)).rejects.toMatchObject(timedOut);
    expect(await sender.send('fcm-endless', content)).toMatchObject({ kind: 'failed' });
    expect(await sender.send('fcm-fine', content)).toEqual({ kind: 'sent' });
  }, 15_000);

  it('APNs: a held push times out, an endless error answer is read in part', async () => {
    const sender = new ApnsSender({
      ...FAKE_APNS,
      privateKey: apns.privateKey,
      production: false,
      clock,
      origin: apns.origin,
      ca: apns.ca,
      timeoutMs: TIMEOUT_MS,
    });
    const [held, endless, fine] = ['a1', 'b2', 'c3'].map((p) => p.repeat(32)) as [string, string, string];
    apns.held.add(held);
    apns.endless.add(endless);
    try {
      await expect(sender.send(held, content)).rejects.toMatchObject(timedOut);
      expect(await sender.send(endless, content)).toMatchObject({ kind: 'failed' });
      expect(await sender.send(fine, content)).toEqual({ kind: 'sent' });
    } finally {
      sender.close();
    }
  }, 15_000);
});

describe('boundedRequest', () => {
  it('keeps at most PROVIDER_ANSWER_MAX_BYTES of an answer that never ends, and returns', async () => {
    const server = createServer((_req, res) => answerEndlessly(res, 200));
    const port = await listen(server);
    try {
      const answer = await boundedRequest(new URL(`http://127.0.0.1:${port}/`), {
        method: 'POST',
        headers: {},
        timeoutMs: 10_000,
      });
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(PROVIDER_ANSWER_MAX_BYTES);
      expect(answer.body.subarray(0, 9).toString()).toBe('{"error":');
    } finally {
      await close(server);
    }
  });
});

describe('Web Push goes to allowlisted push services only, and follows no redirect', () => {
  it('drops, without contacting it, a subscription whose endpoint the allowlist does not name', async () => {
    const sender = webSender({ allowed: [] });
    const local = web.subscribe();
    const port = new URL(web.origin).port;
    const ipLiteral = JSON.stringify({
      ...JSON.parse(web.subscribe()),
      endpoint: `https://127.0.0.1:${port}/push/ip-literal`,
    });
    expect(await sender.send(local, content)).toMatchObject({ kind: 'gone' });
    expect(await sender.send(ipLiteral, content)).toMatchObject({ kind: 'gone' });
    expect(web.hits.get(`/push/${FakeWebPush.idOf(local)}`)).toBeUndefined();
    expect(web.hits.get('/push/ip-literal')).toBeUndefined();
  });

  it('does not follow a redirect: the push fails and the target never hears of it', async () => {
    const sender = webSender();
    const redirected = web.subscribe();
    const target = web.subscribe();
    web.redirects.set(FakeWebPush.idOf(redirected), JSON.parse(target).endpoint as string);
    expect(await sender.send(redirected, content)).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/redirect/),
    });
    expect(web.hits.get(`/push/${FakeWebPush.idOf(target)}`)).toBeUndefined();
  });

  it('refuses an allowlisted name that resolves to a loopback, private or link-local address', async () => {
    const addresses: Record<string, LookupAddress> = {
      'loopback.push.test': { address: '127.0.0.1', family: 4 },
      'private.push.test': { address: '10.1.2.3', family: 4 },
      'metadata.push.test': { address: '169.254.169.254', family: 4 },
      'v6.push.test': { address: '::1', family: 6 },
      'mapped.push.test': { address: '::ffff:192.168.1.1', family: 6 },
      'mixed.push.test': { address: '8.8.8.8', family: 4 },
    };
    const asked: string[] = [];
    const sender = webSender({
      allowed: ['*.push.test'],
      lookup: (host) => {
        asked.push(host);
        // A public address first, a private one second: every address must be public.
        return host === 'mixed.push.test'
          ? [addresses[host]!, { address: '172.16.0.1', family: 4 }]
          : [addresses[host]!];
      },
    });
    for (const host of Object.keys(addresses)) {
      const subscription = JSON.stringify({ ...JSON.parse(web.subscribe()), endpoint: `https://${host}/push/x` });
      expect(await sender.send(subscription, content), host).toMatchObject({
        kind: 'failed',
        reason: expect.stringMatching(/not a public address/),
      });
    }
    expect(asked.sort()).toEqual(Object.keys(addresses).sort());
  });
});
