/**
 * Presence through the real local stack (emulator, handlers held to their grants, DynamoDB Local, the in-process
 * checks queue): a subscribe answers the statuses now and then a `presence` frame follows each change; an offline is
 * held back (flushed here, not waited for) and a connection that comes back first announces nothing; a blocked pair
 * reads offline and gets no frame; bad input is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../emulator/support.js';
import { startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack;
let alice: Device;
let seq = 1;

beforeAll(async () => {
  t = await startTestStack();
  alice = await t.connect('alice');
});

afterAll(async () => {
  await t?.stop();
});

async function ask(device: Device, frame: Frame): Promise<Frame> {
  const n = seq++;
  device.client.send({ ...frame, seq: n });
  return device.client.next((f) => f['seq'] === n);
}
const nextPresence = (device: Device) => device.client.next((f) => f['type'] === 'presence');

describe('presence through the stack', () => {
  it('answers the statuses at once, then a frame on each change; offline after the hold-back', async () => {
    const bob = await t.connect('bob');
    expect(await ask(alice, { action: 'presence_subscribe', user_ids: ['bob', 'carol'] })).toMatchObject({
      type: 'presence_subscribe',
      user_stat_list: [
        { user_id: 'bob', status: 'online' },
        { user_id: 'carol', status: 'offline' },
      ],
    });
    expect(await ask(bob, { action: 'presence_set', status: 'away' })).toMatchObject({ status: 'away' });
    expect(await nextPresence(alice)).toEqual({ type: 'presence', user_id: 'bob', status: 'away' });
    expect(await ask(alice, { action: 'users_stat', user_ids: ['bob'] })).toMatchObject({
      user_stat_list: [{ user_id: 'bob', status: 'away' }],
    });

    const carol = await t.connect('carol');
    expect(await nextPresence(alice)).toEqual({ type: 'presence', user_id: 'carol', status: 'online' });
    await carol.client.close();
    await t.stack.presenceChecks.flushHeld('carol');
    expect(await nextPresence(alice)).toEqual({ type: 'presence', user_id: 'carol', status: 'offline' });
    await bob.client.close();
    await t.stack.presenceChecks.flushHeld('bob');
    expect(await nextPresence(alice)).toEqual({ type: 'presence', user_id: 'bob', status: 'offline' });
  });

  it('announces nothing for a connection that closes and comes back within the hold-back', async () => {
    await ask(alice, { action: 'presence_subscribe', user_ids: ['dave'] });
    const dave = await t.connect('dave');
    expect(await nextPresence(alice)).toMatchObject({ user_id: 'dave', status: 'online' });
    await dave.client.close();
    const back = await t.connect('dave');
    await t.stack.presenceChecks.flushHeld('dave');
    // The next frame about dave is the away set after the flush: no offline, no second online came before it.
    await ask(back, { action: 'presence_set', status: 'away' });
    expect(await nextPresence(alice)).toEqual({ type: 'presence', user_id: 'dave', status: 'away' });
  });

  it('shows a blocked pair offline and sends it no frame', async () => {
    const mallory = await t.connect('mallory');
    const erin = await t.connect('erin');
    await ask(mallory, { action: 'user_block', user_id: 'alice' });
    expect(await ask(alice, { action: 'presence_subscribe', user_ids: ['mallory', 'erin'] })).toMatchObject({
      user_stat_list: [
        { user_id: 'mallory', status: 'offline' },
        { user_id: 'erin', status: 'online' },
      ],
    });
    await ask(mallory, { action: 'presence_set', status: 'away' });
    await ask(erin, { action: 'presence_set', status: 'away' });
    expect(await nextPresence(alice)).toEqual({ type: 'presence', user_id: 'erin', status: 'away' });
    // The other way round: mallory watches alice, whom mallory blocks.
    expect(await ask(mallory, { action: 'users_stat', user_ids: ['alice'] })).toMatchObject({
      user_stat_list: [{ user_id: 'alice', status: 'offline' }],
    });
    await ask(mallory, { action: 'presence_subscribe', user_ids: ['alice', 'erin'] });
    await ask(alice, { action: 'presence_set', status: 'away' });
    await ask(erin, { action: 'presence_set', status: 'online' });
    expect(await nextPresence(mallory)).toEqual({ type: 'presence', user_id: 'erin', status: 'online' });
  });

  it('refuses more than 100 ids and a bad status with bad_request', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `u${i}`);
    expect(await ask(alice, { action: 'presence_subscribe', user_ids: ids })).toMatchObject({ code: 'bad_request' });
    expect(await ask(alice, { action: 'users_stat', user_ids: ids })).toMatchObject({ code: 'bad_request' });
    expect(await ask(alice, { action: 'presence_set', status: 'busy' })).toMatchObject({ code: 'bad_request' });
  });
});
