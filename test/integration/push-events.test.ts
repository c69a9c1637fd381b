/** The offline push hook on DynamoDB Local: one event per message per receiver that no connection reached. */
import { beforeEach, describe, expect, it } from 'vitest';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { deliverMessage } from '../../core/usecases/deliver-message.js';
import { sweep } from '../../core/usecases/sweep.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createDevicesHandler } from '../../lambdas/devices/handler.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import { createTestRuntime, msgData, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;

beforeEach(async () => {
  t = await createTestRuntime({ MAX_DELIVERY_ATTEMPTS: '2' });
  await registerConnection(t.runtime, { userId: 'alice', connectionId: 'a1' });
});

async function send(to: string, fields: Record<string, unknown> = {}) {
  const { message } = await acceptMessage(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: to, ...fields }) });
  return deliverMessage(t.runtime, message, { exceptConnectionId: 'a1' });
}

function request(handler: (e: WebSocketEvent) => Promise<unknown>, userId: string, frame: Record<string, unknown>) {
  return handler({
    body: JSON.stringify(frame),
    requestContext: { connectionId: `${userId}-c`, routeKey: String(frame['action']), eventType: 'MESSAGE', authorizer: { userId } },
  } as unknown as WebSocketEvent);
}

describe('undelivered-message events', () => {
  it('an offline receiver produces exactly one event per message, with its device tokens and no body', async () => {
    await request(createDevicesHandler(t.runtime), 'bob', { action: 'device_token', seq: 1, token: 'apns-token-1', platform: 'ios' });
    expect(t.gateway.framesTo('bob-c')).toEqual([{ type: 'device_token', seq: 1 }]);
    for (let i = 0; i < 3; i++) await send('bob', { msg_data: `secret ${i}` });

    expect(t.events.events).toEqual(
      [1, 2, 3].map((msgId) => ({
        reason: 'offline',
        user_id: 'bob',
        from_user_id: 'alice',
        session_type: 1,
        session_id: 'alice',
        msg_id: msgId,
        msg_type: 1,
        create_time: expect.any(Number),
        device_tokens: [{ token: 'apns-token-1', platform: 'ios' }],
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
    expect(t.events.events).toEqual([expect.objectContaining({ reason: 'gave_up', user_id: 'bob', msg_id: 1, device_tokens: [] })]);
  });

  it('carries the body only when the stack allows it', async () => {
    t = await createTestRuntime({ PUSH_INCLUDES_BODY: 'true' });
    await send('bob', { msg_data: 'hello bob' });
    expect(t.events.events).toEqual([expect.objectContaining({ user_id: 'bob', msg_data: 'hello bob' })]);
  });

  it('a group message produces one event per offline member, none for the sender or online members', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await request(createGroupsHandler(t.runtime), 'alice', { action: 'group_create', group_name: 'g', member_ids: ['bob', 'carol', 'dave'] });
    const groupId = (t.gateway.framesTo('alice-c').at(-1) as unknown as { group_id: string }).group_id;
    const { message } = await acceptMessage(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: groupId, msg_type: 17 }) });
    const stats = await deliverMessage(t.runtime, message, { exceptConnectionId: 'a1' });
    expect(stats.offline).toBe(2);
    expect(t.events.events.map((e) => [e.user_id, e.session_type, e.session_id]).sort()).toEqual([
      ['carol', 2, groupId],
      ['dave', 2, groupId],
    ]);
  });

  it('device_token refuses an unknown platform and keeps a user’s newest 10 tokens', async () => {
    const devices = createDevicesHandler(t.runtime);
    await request(devices, 'bob', { action: 'device_token', seq: 2, token: 'x', platform: 'symbian' });
    expect(t.gateway.framesTo('bob-c')).toEqual([expect.objectContaining({ type: 'error', seq: 2, code: 'bad_request' })]);
    for (let i = 0; i < 12; i++) {
      t.clock.advance(1000);
      await request(devices, 'bob', { action: 'device_token', token: `t${i}`, platform: 'android' });
    }
    const tokens = (await t.runtime.deviceTokens.tokensOf(['bob'])).get('bob') ?? [];
    expect(tokens.map((d) => d.token).sort()).toEqual(['t10', 't11', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9']);
  });
});
