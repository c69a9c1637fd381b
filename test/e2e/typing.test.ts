/**
 * typing through the real local stack (emulator, handlers held to their grants, DynamoDB Local): the peer gets the
 * frame with the typist as session_id, the typist no reply; a second start within the interval is not forwarded (the
 * typing function's clock is a manual one, moved by the test); a malformed frame gets an error with its seq; a
 * blocked pair gets nothing; group members get it with the group id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../protocol/limits.js';
import type { Frame } from '../emulator/support.js';
import { ManualClock } from '../support/fakes.js';
import { startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack;
let alice: Device;
let bob: Device;
let carol: Device;
let mallory: Device;
let seq = 1;
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  t = await startTestStack({
    wrapPorts: (functionId, ports) => (functionId === 'typing' ? { ...ports, clock } : ports),
  });
  alice = await t.connect('alice');
  bob = await t.connect('bob');
  carol = await t.connect('carol');
  mallory = await t.connect('mallory');
});

afterAll(async () => {
  await t?.stop();
});

/** Sends a typing frame and resolves once its invocation has finished and everything posted so far has arrived. */
async function typing(device: Device, frame: Frame, receivers: Device[] = []): Promise<number> {
  const n = seq++;
  device.client.send({ action: 'typing', seq: n, ...frame });
  await t.handled(device, 'typing', n);
  for (const d of [device, ...receivers]) await t.barrier(d);
  return n;
}

async function ask(device: Device, frame: Frame): Promise<Frame> {
  const n = seq++;
  device.client.send({ ...frame, seq: n });
  return device.client.next((f) => f['seq'] === n);
}

const typingFrames = (device: Device) => device.client.unread().filter((f) => f['type'] === 'typing');

describe('typing through the stack', () => {
  it('reaches the peer, never answers the typist, and forwards one start per interval', async () => {
    const first = await typing(alice, { session_id: 'bob', session_type: 1, state: 'start' }, [bob]);
    expect(await bob.client.next((f) => f['type'] === 'typing')).toEqual({
      type: 'typing',
      user_id: 'alice',
      session_id: 'alice',
      session_type: 1,
      state: 'start',
    });
    expect(alice.client.unread().filter((f) => f['seq'] === first)).toEqual([]);

    await typing(alice, { session_id: 'bob', session_type: 1, state: 'start' }, [bob]);
    expect(typingFrames(bob)).toEqual([]);

    clock.advance(LIMIT_DEFAULTS.typingIntervalMs);
    await typing(alice, { session_id: 'bob', session_type: 1, state: 'start' }, [bob]);
    expect(await bob.client.next((f) => f['type'] === 'typing')).toMatchObject({ user_id: 'alice', state: 'start' });
    await typing(alice, { session_id: 'bob', session_type: 1, state: 'stop' }, [bob]);
    expect(await bob.client.next((f) => f['type'] === 'typing')).toMatchObject({ user_id: 'alice', state: 'stop' });
    expect(typingFrames(alice)).toEqual([]);
  });

  it('answers a malformed frame with an error carrying its seq', async () => {
    const n = seq++;
    alice.client.send({ action: 'typing', seq: n, session_id: 'bob', session_type: 1, state: 'typing' });
    expect(await alice.client.next((f) => f['seq'] === n)).toMatchObject({ type: 'error', code: 'bad_request' });
  });

  it('a blocked pair gets nothing of each other', async () => {
    expect(await ask(bob, { action: 'user_block', user_id: 'mallory' })).toMatchObject({ type: 'user_block' });
    await typing(mallory, { session_id: 'bob', session_type: 1, state: 'start' }, [bob]);
    await typing(bob, { session_id: 'mallory', session_type: 1, state: 'start' }, [mallory]);
    expect(typingFrames(bob)).toEqual([]);
    expect(typingFrames(mallory)).toEqual([]);
    expect(mallory.client.unread().filter((f) => f['type'] === 'error')).toEqual([]);
  });

  it('group members get it with the group id; a non-member is refused not_member', async () => {
    const created = await ask(alice, { action: 'group_create', group_name: 'team', member_ids: ['bob', 'carol'] });
    const groupId = created['group_id'] as string;
    await typing(carol, { session_id: groupId, session_type: 2, state: 'start' }, [alice, bob]);
    for (const member of [alice, bob]) {
      expect(await member.client.next((f) => f['type'] === 'typing')).toEqual({
        type: 'typing',
        user_id: 'carol',
        session_id: groupId,
        session_type: 2,
        state: 'start',
      });
    }
    expect(typingFrames(carol)).toEqual([]);
    const n = seq++;
    mallory.client.send({ action: 'typing', seq: n, session_id: groupId, session_type: 2, state: 'start' });
    expect(await mallory.client.next((f) => f['seq'] === n)).toMatchObject({ type: 'error', code: 'not_member' });
  });
});
