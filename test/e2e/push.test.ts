/**
 * Pushes end to end in local mode: bob registers an Android, an iOS and a Web Push token and goes offline; alice's
 * messages reach the fake FCM, APNs and Web Push services through the real sender (held to its grant by local IAM),
 * without the body, with bob's unread count as badge; a group bob muted sends him nothing; a second message within
 * the collapse window pushes nothing, another conversation's does; a token FCM calls UNREGISTERED is gone after that
 * first failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack | undefined;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function call(device: Device, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  device.client.send(frame);
  return device.client.next((f) => f['seq'] === frame['seq']);
}

describe('push notifications (local fakes)', () => {
  it('pushes to an offline user’s devices without the body, skips a muted group, and drops a dead token', async () => {
    t = await startTestStack({ push: { sleep: async () => undefined } });
    const push = t.stack.push!;
    const webToken = push.webPush.subscribe();
    const iosToken = 'ab'.repeat(32);
    const bob = await t.connect('bob');
    await call(bob, { action: 'device_token', seq: 1, token: 'bob-fcm', platform: 'android' });
    await call(bob, { action: 'device_token', seq: 2, token: iosToken, platform: 'ios' });
    await call(bob, { action: 'device_token', seq: 3, token: webToken, platform: 'web' });
    // The fake push service's exact origin is the only loopback endpoint local mode allows.
    const elsewhere = JSON.stringify({ ...JSON.parse(webToken), endpoint: `http://127.0.0.1:${t.stack.port}/push/x` });
    expect(await call(bob, { action: 'device_token', seq: 30, token: elsewhere, platform: 'web' })).toMatchObject({
      type: 'error',
      code: 'bad_request',
    });
    const alice = await t.connect('alice');
    const { group_id: groupId } = (await call(alice, {
      action: 'group_create',
      seq: 1,
      group_name: 'team',
      member_ids: ['bob'],
    })) as { group_id: string };
    expect(
      await call(bob, { action: 'session_mute', seq: 4, session_id: groupId, session_type: 2, mute: true }),
    ).toMatchObject({ mute: true });
    await bob.client.close();
    await t.invocations.take((r) => r.routeKey === '$disconnect', 10_000, '$disconnect of bob');

    await call(alice, { action: 'msg_data', seq: 2, to_session_id: 'bob', msg_type: 1, msg_data: 'the secret plan' });
    await t.handled(alice, 'msg_data', 2);
    await push.settled();
    expect(push.fcm.sent.map((r) => r.token)).toEqual(['bob-fcm']);
    expect(push.apns.sent.map((r) => r.token)).toEqual([iosToken]);
    expect(push.webPush.sent).toHaveLength(1);
    expect(push.webPush.sent[0]!.payload).toMatchObject({ title: 'alice', body: 'New message from alice', badge: 1 });
    expect(push.apns.sent[0]!.payload).toMatchObject({ aps: { badge: 1 } });
    expect(JSON.stringify([push.fcm.sent, push.apns.sent, push.webPush.sent])).not.toContain('secret');
    expect([push.fcm.refused, push.apns.refused, push.webPush.refused]).toEqual([[], [], []]);

    await call(alice, { action: 'msg_data', seq: 3, to_session_id: groupId, msg_type: 17, msg_data: 'group hello' });
    await t.handled(alice, 'msg_data', 3);
    await push.settled();
    expect(push.fcm.sent).toHaveLength(1);

    // A second message of alice's within the window is collapsed into the first push: no device gets another.
    await call(alice, { action: 'msg_data', seq: 4, to_session_id: 'bob', msg_type: 1, msg_data: 'again' });
    await t.handled(alice, 'msg_data', 4);
    await push.settled();
    expect([push.fcm.sent.length, push.apns.sent.length, push.webPush.sent.length]).toEqual([1, 1, 1]);

    // Another conversation has its own window.
    push.fcm.gone.add('bob-fcm');
    const carol = await t.connect('carol');
    await call(carol, { action: 'msg_data', seq: 1, to_session_id: 'bob', msg_type: 1, msg_data: 'hi bob' });
    await t.handled(carol, 'msg_data', 1);
    await push.settled();
    expect((await t.stack.runtime.deviceTokens.tokensOf('bob')).map((d) => d.platform).sort()).toEqual(['ios', 'web']);
    // Two unread from alice, one in the muted group, one from carol: a mute and a collapse silence pushes, not the count.
    expect(push.apns.sent.at(-1)!.payload).toMatchObject({ aps: { badge: 4, alert: { title: 'carol' } } });
    expect(push.apns.sent.at(-1)!.headers['apns-collapse-id']).not.toBe(push.apns.sent[0]!.headers['apns-collapse-id']);
  });

  it('moves a token another account registers only when the device answers the challenge push', async () => {
    t = await startTestStack({ push: { sleep: async () => undefined } });
    const push = t.stack.push!;
    const bob = await t.connect('bob');
    await call(bob, { action: 'device_token', seq: 1, token: 'shared-tablet', platform: 'android' });
    const carol = await t.connect('carol');
    expect(
      await call(carol, { action: 'device_token', seq: 1, token: 'shared-tablet', platform: 'android' }),
    ).toMatchObject({ pending: true });
    await push.settled();
    const challenge = push.fcm.sent.find((r) => r.token === 'shared-tablet')!;
    const code = (challenge.message['data'] as Record<string, string>)['device_token_code']!;
    expect(code).toBeDefined();
    expect(await call(carol, { action: 'device_token_verify', seq: 2, token: 'shared-tablet', code })).toEqual({
      type: 'device_token_verify',
      seq: 2,
    });
    expect(await bob.client.next((f) => f['type'] === 'device_token_moved')).toEqual({
      type: 'device_token_moved',
      token: 'shared-tablet',
      platform: 'android',
    });
    expect((await t.stack.runtime.deviceTokens.tokensOf('carol')).map((d) => d.token)).toEqual(['shared-tablet']);
    expect(await t.stack.runtime.deviceTokens.tokensOf('bob')).toEqual([]);
  });
});
