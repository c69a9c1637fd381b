/**
 * Blocks through the real local stack (emulator, handlers held to their grants, DynamoDB Local): alice blocks mallory;
 * one-to-one sends are refused both ways with `not_allowed` and reach no one, no read receipt crosses, mallory's
 * group messages reach alice flagged `blocked_sender` (and bob unflagged), alice's history flags them too, and an
 * unblock lets the next one-to-one message through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../emulator/support.js';
import { msgData, startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack;
let alice: Device;
let mallory: Device;
let bob: Device;
let seq = 1;

beforeAll(async () => {
  t = await startTestStack();
  alice = await t.connect('alice');
  mallory = await t.connect('mallory');
  bob = await t.connect('bob');
});

afterAll(async () => {
  await t?.stop();
});

/** Sends a frame with a fresh seq; the reply (or error) that echoes it. */
async function ask(device: Device, frame: Frame): Promise<Frame> {
  const n = seq++;
  device.client.send({ ...frame, seq: n });
  return device.client.next((f) => f['seq'] === n);
}

describe('user_block through the stack', () => {
  it('refuses one-to-one both ways, stops receipts, flags group messages, and unblocks', async () => {
    expect(await ask(mallory, msgData('alice', 0, 'before'))).toMatchObject({ type: 'msg_data_ack', msg_id: 1 });
    expect(await alice.client.next((f) => f['type'] === 'msg_data')).toMatchObject({ msg_id: 1 });

    expect(await ask(alice, { action: 'user_block', user_id: 'mallory' })).toMatchObject({
      type: 'user_block',
      user_id: 'mallory',
    });
    expect(await ask(alice, { action: 'block_list' })).toMatchObject({ type: 'block_list', user_ids: ['mallory'] });

    expect(await ask(mallory, msgData('alice', 0, 'while blocked'))).toMatchObject({
      type: 'error',
      code: 'not_allowed',
    });
    expect(await ask(alice, msgData('mallory', 0, 'to the blocked'))).toMatchObject({ code: 'not_allowed' });
    expect(
      await ask(alice, { action: 'msg_read_ack', session_id: 'mallory', session_type: 1, msg_id: 1 }),
    ).toMatchObject({
      type: 'msg_read_ack',
    });

    const created = await ask(alice, { action: 'group_create', group_name: 'team', member_ids: ['mallory', 'bob'] });
    const groupId = created['group_id'] as string;
    expect(await ask(mallory, { ...msgData(groupId, 0, 'to the group'), msg_type: 17 })).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 1,
    });
    expect(await alice.client.next((f) => f['type'] === 'msg_data')).toMatchObject({
      from_user_id: 'mallory',
      to_session_id: groupId,
      blocked_sender: true,
    });
    expect(await bob.client.next((f) => f['type'] === 'msg_data')).not.toHaveProperty('blocked_sender');
    const history = await ask(alice, {
      action: 'msg_list',
      session_id: groupId,
      session_type: 2,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(history['msg_list']).toMatchObject([{ msg_id: 1, from_user_id: 'mallory', blocked_sender: true }]);

    // Nothing of the one-to-one refusals nor a receipt reached either side.
    await t.barrier(alice);
    await t.barrier(mallory);
    expect(alice.client.unread().filter((f) => f['type'] === 'msg_data' || f['type'] === 'msg_read_receipt')).toEqual(
      [],
    );
    expect(mallory.client.unread().filter((f) => f['type'] === 'msg_data' || f['type'] === 'msg_read_receipt')).toEqual(
      [],
    );

    expect(await ask(alice, { action: 'user_unblock', user_id: 'mallory' })).toMatchObject({ type: 'user_unblock' });
    expect(await ask(mallory, msgData('alice', 0, 'after'))).toMatchObject({ type: 'msg_data_ack', msg_id: 2 });
    expect(await alice.client.next((f) => f['type'] === 'msg_data' && f['msg_data'] === 'after')).toMatchObject({
      from_user_id: 'mallory',
      msg_id: 2,
    });
  });
});
