/**
 * The offline push hook and device tokens on DynamoDB Local: one event per message for the receivers no connection
 * reached (a bounded number of events, after the live deliveries), and device tokens (who holds a token another user
 * registers: test/integration/push-takeover.test.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PUSH_EVENT_MAX_RECEIVERS } from '../../core/domain/push.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { sweep } from '../../core/usecases/sweep.js';
import { createDevicesHandler } from '../../lambdas/devices/handler.js';
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
  t = await createTestRuntime({ MAX_DELIVERY_ATTEMPTS: '2', WRITE_RATE_LIMIT_PER_SECOND: '100' });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'a1' });
});

function send(to: string, fields: Record<string, unknown> = {}) {
  return sendAndDeliver(t.runtime, {
    userId: 'alice',
    connectionId: 'a1',
    body: msgData({ to_session_id: to, ...fields }),
  });
}

describe('undelivered-message events', () => {
  it('an offline receiver produces exactly one event per message, without the body', async () => {
    for (let i = 0; i < 3; i++) await send('bob', { msg_data: `secret ${i}` });
    expect(t.events.events).toEqual(
      [1, 2, 3].map((msgId) => ({
        reason: 'offline',
        receivers: ['bob'],
        from_user_id: 'alice',
        session_type: 1,
        session_id: 'alice',
        msg_id: msgId,
        msg_type: 1,
        create_time: expect.any(Number),
      })),
    );
    expect(JSON.stringify(t.events.events)).not.toContain('secret');
  });

  it('an online receiver produces none; one that never acks produces one when the sweeper gives up', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b2' });
    await send('bob');
    expect(t.events.events).toEqual([]);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(15_000);
      await sweep(t.runtime);
    }
    // Both connections gave up on message 1: one event for bob.
    expect(t.events.events).toEqual([expect.objectContaining({ reason: 'gave_up', receivers: ['bob'], msg_id: 1 })]);
  });

  it('carries the body only when the stack allows it', async () => {
    t = await createTestRuntime({ PUSH_INCLUDES_BODY: 'true' });
    await send('bob', { msg_data: 'hello bob' });
    expect(t.events.events).toEqual([expect.objectContaining({ receivers: ['bob'], msg_data: 'hello bob' })]);
  });

  it('a group message announces the offline members in one event per 100, none for the sender or online members', async () => {
    t = await createTestRuntime({ MAX_GROUP_MEMBERS: '300', WRITE_RATE_LIMIT_PER_SECOND: '100' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    const offline = Array.from({ length: 230 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    const groupId = await createGroupAsAlice(t, ['bob', ...offline]);
    const { stats } = await sendAndDeliver(t.runtime, {
      userId: 'alice',
      connectionId: 'a1',
      body: msgData({ to_session_id: groupId, msg_type: 17 }),
    });
    expect(stats.offline).toBe(230);
    expect(t.events.events.map((e) => e.receivers.length)).toEqual([
      PUSH_EVENT_MAX_RECEIVERS,
      PUSH_EVENT_MAX_RECEIVERS,
      30,
    ]);
    expect(t.events.events.flatMap((e) => e.receivers).sort()).toEqual(offline);
    expect(t.events.events.every((e) => e.session_type === 2 && e.session_id === groupId)).toBe(true);
  });

  it('the push hook waits for the live deliveries: no event is published before the last post', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    const groupId = await createGroupAsAlice(t, ['bob', 'carol']);
    const order: string[] = [];
    const gateway = t.runtime.gateway;
    const runtime = {
      ...t.runtime,
      gateway: {
        post: async (...a: Parameters<typeof gateway.post>) => (order.push('post'), gateway.post(...a)),
        disconnect: gateway.disconnect.bind(gateway),
      },
      events: {
        publishUndelivered: async (d: Parameters<typeof t.events.publishUndelivered>[0]) => (
          order.push('event'), t.events.publishUndelivered(d)
        ),
      },
    };
    await sendAndDeliver(runtime, {
      userId: 'alice',
      connectionId: 'a1',
      body: msgData({ to_session_id: groupId, msg_type: 17 }),
    });
    expect(order.filter((o) => o === 'event')).toHaveLength(1);
    expect(order.at(-1)).toBe('event');
  });
});

describe('device tokens', () => {
  it('refuses an unknown platform and an oversized token, and keeps a user’s newest 10 tokens', async () => {
    const devices = createDevicesHandler(t.runtime);
    await requestAs(devices, 'bob', { action: 'device_token', seq: 2, token: 'x', platform: 'symbian' });
    await requestAs(devices, 'bob', { action: 'device_token', seq: 3, token: 'x'.repeat(1025), platform: 'ios' });
    expect(t.gateway.framesTo('bob-c')).toEqual([
      expect.objectContaining({ type: 'error', seq: 2, code: 'bad_request' }),
      expect.objectContaining({ type: 'error', seq: 3, code: 'bad_request' }),
    ]);
    for (let i = 0; i < 12; i++) {
      t.clock.advance(1000);
      await requestAs(devices, 'bob', { action: 'device_token', token: `t${i}`, platform: 'android' });
    }
    const tokens = await t.runtime.deviceTokens.tokensOf('bob');
    expect(tokens.map((d) => d.token).sort()).toEqual(['t10', 't11', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9']);
  });

  it('takes a web token only as a PushSubscription on an allowed push service: anything else is bad_request, nothing stored', async () => {
    const devices = createDevicesHandler(t.runtime);
    const subscription = (endpoint: string) =>
      JSON.stringify({
        endpoint,
        keys: { p256dh: 'BPcMbnWQL5GOYX_aMRE8ye5Fh5lEM_K2TGDWuKNXGdnAprk', auth: 'tBHItJI5svbpez7KI4CCXg' },
      });
    const refused = [
      'https://127.0.0.1:9001/2018-06-01/runtime/invocation/next', // the Lambda runtime API
      'https://169.254.169.254/latest/meta-data/', // instance metadata
      'https://[::1]/push',
      'https://10.0.0.8/push',
      'https://2130706433/push', // 127.0.0.1 spelled as a number
      'http://fcm.googleapis.com/fcm/send/abc', // not https
      'https://fcm.googleapis.com:8443/fcm/send/abc', // another port
      'https://user:secret@fcm.googleapis.com/fcm/send/abc',
      'https://fcm.googleapis.com.evil.example/fcm/send/abc',
      'https://evil.example/push',
      'https://a.b.notify.windows.com/w/', // one label under notify.windows.com, not two
    ].map(subscription);
    refused.push('not json', JSON.stringify({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc' }));
    for (const [i, token] of refused.entries())
      await requestAs(devices, 'bob', { action: 'device_token', seq: i + 1, token, platform: 'web' });
    expect(t.gateway.framesTo('bob-c').map((f) => (f as { code?: string }).code)).toEqual(
      refused.map(() => 'bad_request'),
    );
    expect(await t.items('DeviceTokens')).toEqual([]);

    const accepted = [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://updates.push.services.mozilla.com/wpush/v2/abc',
      'https://web.push.apple.com/QGuQ',
      'https://wns2-par02p.notify.windows.com/w/?token=abc',
    ];
    for (const endpoint of accepted)
      await requestAs(devices, 'bob', {
        action: 'device_token',
        seq: 99,
        token: subscription(endpoint),
        platform: 'web',
      });
    expect(t.gateway.framesTo('bob-c').slice(-accepted.length)).toEqual(
      accepted.map(() => ({ type: 'device_token', seq: 99 })),
    );
    expect(await t.runtime.deviceTokens.tokensOf('bob')).toHaveLength(accepted.length);
  });

  it('device_token_remove unregisters the caller’s token only', async () => {
    const devices = createDevicesHandler(t.runtime);
    await requestAs(devices, 'bob', { action: 'device_token', token: 'phone', platform: 'android' });
    await requestAs(devices, 'carol', { action: 'device_token_remove', seq: 5, token: 'phone' });
    expect(await t.runtime.deviceTokens.tokensOf('bob')).toEqual([{ token: 'phone', platform: 'android' }]);
    await requestAs(devices, 'bob', { action: 'device_token_remove', seq: 6, token: 'phone' });
    expect(t.gateway.framesTo('bob-c').at(-1)).toEqual({ type: 'device_token_remove', seq: 6 });
    expect(await t.runtime.deviceTokens.tokensOf('bob')).toEqual([]);
    expect(await t.items('DeviceTokens')).toEqual([]);
  });

  it('device_token_remove by device_id removes the caller’s tokens registered from that device, without naming them; all: true every one', async () => {
    const devices = createDevicesHandler(t.runtime);
    const register = (user: string, token: string, deviceId?: string) =>
      requestAs(devices, user, {
        action: 'device_token',
        token,
        platform: 'android',
        ...(deviceId ? { device_id: deviceId } : {}),
      });
    await register('bob', 'fcm-1', 'phone-install');
    await register('bob', 'fcm-2', 'phone-install'); // the token rotated on the same install
    await register('bob', 'apns-1', 'tablet-install');
    await register('bob', 'legacy');
    await register('carol', 'carols', 'phone-install'); // another user's install id is another user's
    await requestAs(devices, 'bob', { action: 'device_token_remove', seq: 7, device_id: 'phone-install' });
    expect(t.gateway.framesTo('bob-c').at(-1)).toEqual({ type: 'device_token_remove', seq: 7 });
    const tokens = (user: string) =>
      t.runtime.deviceTokens.tokensOf(user).then((all) => all.map((d) => d.token).sort());
    expect(await tokens('bob')).toEqual(['apns-1', 'legacy']);
    expect(await tokens('carol')).toEqual(['carols']);

    await requestAs(devices, 'bob', { action: 'device_token_remove', seq: 8, all: true });
    expect(await tokens('bob')).toEqual([]);
    expect(await tokens('carol')).toEqual(['carols']);
    for (const bad of [{}, { token: 'x', device_id: 'y' }, { all: false }, { device_id: '' }])
      await requestAs(devices, 'bob', { action: 'device_token_remove', seq: 9, ...bad });
    expect(
      t.gateway
        .framesTo('bob-c')
        .slice(-4)
        .map((f) => (f as { code?: string }).code),
    ).toEqual(['bad_request', 'bad_request', 'bad_request', 'bad_request']);
  });

  it('a registration writes a few small items whatever the user holds (no item grows with the tokens)', async () => {
    const devices = createDevicesHandler(t.runtime);
    for (let i = 0; i < 10; i++)
      await requestAs(devices, 'bob', {
        action: 'device_token',
        token: `${'x'.repeat(1000)}${i}`,
        platform: 'android',
      });
    const sizes = (await t.items('DeviceTokens')).map((item) => JSON.stringify(item).length);
    expect(Math.max(...sizes)).toBeLessThan(1200);
  });
});
