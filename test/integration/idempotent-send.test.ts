/**
 * Idempotent send on DynamoDB Local: a resend with the same (sender, client_msg_id) after a lost ack or after the
 * first attempt died at any step is stored once and acked with one msg_id; a death before numbering leaves a gap.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../core/runtime.js';
import { acceptMessage, type AcceptedMessage } from '../../core/usecases/accept-message.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { deliverMessage } from '../../core/usecases/deliver-message.js';
import { createTestRuntime, msgData, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;

beforeEach(async () => {
  t = await createTestRuntime();
});

class Crash extends Error {
  override readonly name = 'Crash';
}

/** A runtime whose `port.method` throws on its first call, as if the Lambda died there. */
function dyingAt<P extends keyof Runtime>(port: P, method: keyof Runtime[P] & string): Runtime {
  const real = t.runtime[port] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  let died = false;
  const wrapped = new Proxy(real, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        if (!died) {
          died = true;
          throw new Crash(`died in ${String(port)}.${method}`);
        }
        return value.apply(target, args);
      };
    },
  });
  return { ...t.runtime, [port]: wrapped };
}

const send = (runtime: Runtime, fields: Record<string, unknown> = {}): Promise<AcceptedMessage> =>
  acceptMessage(runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob', client_msg_id: 'c-1', ...fields }) });

async function storedIds(): Promise<number[]> {
  return (await t.items('Messages')).map((m) => m['msg_id'] as number).sort((a, b) => a - b);
}

describe('idempotent send', () => {
  it('a resend after a lost ack gets the same msg_id, is not stored again and not delivered again', async () => {
    const first = await send(t.runtime);
    t.clock.advance(30_000);
    const again = await send(t.runtime, { msg_data: 'edited text is ignored' });
    expect(again).toMatchObject({ deliver: false, message: { msgId: first.message.msgId, msgData: 'hi', createTime: first.message.createTime } });
    expect(await storedIds()).toEqual([1]);
    // Without a client_msg_id nothing identifies a resend: each send is a new message.
    await acceptMessage(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob' }) });
    expect(await storedIds()).toEqual([1, 2]);
  });

  it('holds for 48 hours, keyed by sender: another sender may use the same client_msg_id', async () => {
    await send(t.runtime);
    const bobs = await acceptMessage(t.runtime, { userId: 'bob', connectionId: 'b1', body: msgData({ to_session_id: 'alice', client_msg_id: 'c-1' }) });
    expect(bobs.message.msgId).toBe(2);
    t.clock.advance(47 * 3600_000);
    expect((await send(t.runtime)).deliver).toBe(false);
    t.clock.advance(2 * 3600_000);
    expect((await send(t.runtime)).message.msgId).toBe(3);
  });

  it('concurrent attempts of one send store it once and all answer its msg_id', async () => {
    const attempts = await Promise.all(Array.from({ length: 5 }, () => send(t.runtime)));
    const ids = new Set(attempts.map((a) => a.message.msgId));
    expect(ids.size).toBe(1);
    expect(attempts.filter((a) => a.deliver)).toHaveLength(1);
    expect(await storedIds()).toEqual([...ids]);
  });

  it('died after taking the msg_id, before claiming it: the resend is stored under a new msg_id (a gap)', async () => {
    await expect(send(dyingAt('sentMessages', 'claim'))).rejects.toBeInstanceOf(Crash);
    const resend = await send(t.runtime);
    expect(resend).toMatchObject({ deliver: true, message: { msgId: 2 } });
    expect(await storedIds()).toEqual([2]);
  });

  it('died after claiming, before storing: the resend stores it under the claimed msg_id and delivers it', async () => {
    await expect(send(dyingAt('messages', 'put'))).rejects.toBeInstanceOf(Crash);
    expect(await storedIds()).toEqual([]);
    const resend = await send(t.runtime);
    expect(resend).toMatchObject({ deliver: true, message: { msgId: 1, msgData: 'hi' } });
    expect(await storedIds()).toEqual([1]);
    expect(await t.items('Sessions')).toHaveLength(2);
  });

  it('died while creating the session rows: the resend creates them and stores the message once', async () => {
    await expect(send(dyingAt('sessions', 'ensure'))).rejects.toBeInstanceOf(Crash);
    const resend = await send(t.runtime);
    expect(resend.message.msgId).toBe(1);
    expect(await storedIds()).toEqual([1]);
    expect((await t.items('Sessions')).map((s) => s['user_id']).sort()).toEqual(['alice', 'bob']);
  });

  it('died midway through fan-out: the resend is only acked, not stored or delivered again (receivers catch up)', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b2' });
    const first = await send(t.runtime);
    await expect(deliverMessage(dyingAt('connections', 'listByUser'), first.message, { exceptConnectionId: 'a1' })).rejects.toBeInstanceOf(Crash);
    const resend = await send(t.runtime);
    expect(resend).toMatchObject({ deliver: false, message: { msgId: 1 } });
    expect(await storedIds()).toEqual([1]);
  });

  it('a message put retried after a lost response finds its own row (duplicate), another message under that msg_id is refused', async () => {
    const { message } = await send(t.runtime);
    const counts = { sentLo: 1, sentHi: 0 };
    await expect(t.runtime.messages.put(message, counts)).resolves.toBe('duplicate');
    await expect(t.runtime.messages.put({ ...message, msgData: 'another text' }, counts)).rejects.toMatchObject({ name: 'MessageAlreadyStoredError' });
    expect(await storedIds()).toEqual([1]);
  });
});
