/**
 * Device-token takeover on DynamoDB Local: a token another user holds never moves because someone
 * registered it. The device behind it gets one challenge push with a code, and whoever answers with that code — the
 * account signed in on the device — gets the token; the previous holder's connections are told. The push sender
 * sends the challenge to that one token.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { PushContent } from '../../core/domain/push-content.js';
import type { PushProvider, SendOutcome } from '../../core/ports/push.js';
import { pushSenderPorts, sendChallenge } from '../../core/usecases/send-pushes.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { DEVICE_TOKEN_CHALLENGE_TTL_MS } from '../../core/usecases/device-tokens.js';
import { createDevicesHandler } from '../../lambdas/devices/handler.js';
import { createTestRuntime, requestAs, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
let devices: ReturnType<typeof createDevicesHandler>;
const PHONE = 'bobs-phone-token';

beforeEach(async () => {
  t = await createTestRuntime({ WRITE_RATE_LIMIT_PER_SECOND: '100' });
  devices = createDevicesHandler(t.runtime);
  for (const userId of ['bob', 'mallory', 'carol'])
    await registerConnection(t.runtime, { userId, connectionId: `${userId}-c` });
  await requestAs(devices, 'bob', { action: 'device_token', seq: 1, token: PHONE, platform: 'ios' });
});

const lastFrame = (userId: string) => t.gateway.framesTo(`${userId}-c`).at(-1) as unknown as Record<string, unknown>;
const tokensOf = async (userId: string) => (await t.runtime.deviceTokens.tokensOf(userId)).map((d) => d.token);

describe('registering a token another user holds', () => {
  it('moves nothing: the registrant gets pending, and one challenge push goes to the device', async () => {
    await requestAs(devices, 'mallory', { action: 'device_token', seq: 2, token: PHONE, platform: 'ios' });
    expect(lastFrame('mallory')).toEqual({ type: 'device_token', seq: 2, pending: true });
    expect(await tokensOf('bob')).toEqual([PHONE]);
    expect(await tokensOf('mallory')).toEqual([]);
    expect(t.events.challenges).toEqual([
      { token: PHONE, platform: 'ios', code: expect.stringMatching(/^[\w-]{22}$/) },
    ]);

    // Registering again while the challenge is open sends the device nothing more.
    await requestAs(devices, 'mallory', { action: 'device_token', seq: 3, token: PHONE, platform: 'ios' });
    expect(lastFrame('mallory')).toEqual({ type: 'device_token', seq: 3, pending: true });
    expect(t.events.challenges).toHaveLength(1);
    t.clock.advance(DEVICE_TOKEN_CHALLENGE_TTL_MS);
    await requestAs(devices, 'mallory', { action: 'device_token', seq: 4, token: PHONE, platform: 'ios' });
    expect(t.events.challenges).toHaveLength(2);
  });

  it('gives the token to the account that answers with the pushed code, and tells the previous holder', async () => {
    await requestAs(devices, 'carol', { action: 'device_token', seq: 2, token: PHONE, platform: 'ios' });
    const { code } = t.events.challenges.at(-1)!;
    await requestAs(devices, 'carol', { action: 'device_token_verify', seq: 3, token: PHONE, code });
    expect(lastFrame('carol')).toEqual({ type: 'device_token_verify', seq: 3 });
    expect(await tokensOf('carol')).toEqual([PHONE]);
    expect(await tokensOf('bob')).toEqual([]);
    expect(lastFrame('bob')).toEqual({ type: 'device_token_moved', token: PHONE, platform: 'ios' });
  });

  it('keeps the token with its holder when the holder’s own device answers; the claim dies with the code', async () => {
    await requestAs(devices, 'mallory', { action: 'device_token', seq: 2, token: PHONE, platform: 'ios' });
    const { code } = t.events.challenges.at(-1)!;
    const bobFrames = t.gateway.framesTo('bob-c').length;
    await requestAs(devices, 'bob', { action: 'device_token_verify', seq: 5, token: PHONE, code });
    expect(lastFrame('bob')).toEqual({ type: 'device_token_verify', seq: 5 });
    expect(t.gateway.framesTo('bob-c')).toHaveLength(bobFrames + 1); // the reply, no notice
    await requestAs(devices, 'mallory', { action: 'device_token_verify', seq: 6, token: PHONE, code });
    expect(lastFrame('mallory')).toMatchObject({ type: 'error', seq: 6, code: 'not_allowed' });
    expect(await tokensOf('bob')).toEqual([PHONE]);
    expect(await tokensOf('mallory')).toEqual([]);
  });

  it('refuses a wrong code, and the right one once it expired, with not_allowed and nothing changed', async () => {
    await requestAs(devices, 'mallory', { action: 'device_token', seq: 2, token: PHONE, platform: 'ios' });
    const { code } = t.events.challenges.at(-1)!;
    const before = await t.items('DeviceTokens');
    await requestAs(devices, 'mallory', {
      action: 'device_token_verify',
      seq: 3,
      token: PHONE,
      code: 'guessed-code-000000000',
    });
    expect(lastFrame('mallory')).toMatchObject({ type: 'error', seq: 3, code: 'not_allowed' });
    await requestAs(devices, 'mallory', { action: 'device_token_verify', seq: 4, token: 'another-token', code });
    expect(lastFrame('mallory')).toMatchObject({ type: 'error', seq: 4, code: 'not_allowed' });
    t.clock.advance(DEVICE_TOKEN_CHALLENGE_TTL_MS);
    await requestAs(devices, 'carol', { action: 'device_token_verify', seq: 5, token: PHONE, code });
    expect(lastFrame('carol')).toMatchObject({ type: 'error', seq: 5, code: 'not_allowed' });
    expect(await t.items('DeviceTokens')).toEqual(before);
  });

  it('sends the challenge push to that one token, with the code in its data and no badge', async () => {
    await requestAs(devices, 'carol', { action: 'device_token', seq: 2, token: PHONE, platform: 'ios' });
    const sent: { token: string; content: PushContent }[] = [];
    const apns: PushProvider = {
      name: 'apns',
      send: async (token, content): Promise<SendOutcome> => (sent.push({ token, content }), { kind: 'sent' }),
    };
    expect(await sendChallenge(pushSenderPorts(t.runtime, { apns }), t.events.challenges.at(-1)!)).toEqual({
      kind: 'sent',
    });
    expect(sent).toEqual([
      {
        token: PHONE,
        content: expect.objectContaining({ data: { device_token_code: t.events.challenges.at(-1)!.code } }),
      },
    ]);
    expect(sent[0]!.content.badge).toBeUndefined();
  });
});
