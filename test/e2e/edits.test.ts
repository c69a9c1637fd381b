/**
 * Recall and edit through the local stack (emulator, the edits function, DynamoDB Local, grants enforced) with real
 * WebSocket clients: live members get msg_edited / msg_recalled (the asking connection the reply), an offline member
 * who reconnects reads the recalled and the edited message in msg_list, msg_by_ids, recent_sessions and unread_cnt,
 * and the windows are judged on the handlers' clock (moved forward here, never waited for).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../emulator/support.js';
import { msgData, startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack | undefined;
/** The handlers' clock: system time plus this many ms. */
let offsetMs = 0;

afterEach(async () => {
  await t?.stop();
  t = undefined;
  offsetMs = 0;
});

const start = async () =>
  (t = await startTestStack({ runtimeOptions: { clock: { now: () => Date.now() + offsetMs } } }));

let seq = 1;
/** Sends a request and resolves with its reply (or error frame). */
async function ask(device: Device, frame: Frame): Promise<Frame> {
  const s = seq++;
  device.client.send({ ...frame, seq: s });
  return device.client.next((f) => f['seq'] === s);
}

/** alice sends `text` to bob (online: bob acks it); resolves with its msg_id. */
async function sendToBob(alice: Device, bob: Device, text: string): Promise<number> {
  const ack = await ask(alice, msgData('bob', 0, text));
  const msgId = ack['msg_id'] as number;
  await bob.client.next((f) => f['type'] === 'msg_data' && f['msg_id'] === msgId);
  bob.client.send({ action: 'msg_data_ack', session_id: 'alice', session_type: 1, msg_id: msgId });
  return msgId;
}

describe('msg_recall and msg_edit end to end', () => {
  it('live members get msg_edited and msg_recalled; the asking connection gets the reply', async () => {
    const stack = await start();
    const alice = await stack.connect('alice');
    const alicePhone = await stack.connect('alice');
    const bob = await stack.connect('bob');
    const msgId = await sendToBob(alice, bob, 'helo');
    const edited = await ask(alice, {
      action: 'msg_edit',
      session_id: 'bob',
      session_type: 1,
      msg_id: msgId,
      msg_data: 'hello',
    });
    expect(edited).toMatchObject({ type: 'msg_edit', session_id: 'bob', msg_id: msgId, edited_at: expect.any(Number) });
    expect(await bob.client.next((f) => f['type'] === 'msg_edited')).toEqual({
      type: 'msg_edited',
      session_id: 'alice',
      session_type: 1,
      msg_id: msgId,
      msg_data: 'hello',
      edited_at: edited['edited_at'],
    });
    expect(await alicePhone.client.next((f) => f['type'] === 'msg_edited')).toMatchObject({ session_id: 'bob' });
    expect(await ask(alice, { action: 'msg_recall', session_id: 'bob', session_type: 1, msg_id: msgId })).toEqual({
      type: 'msg_recall',
      seq: seq - 1,
      session_id: 'bob',
      session_type: 1,
      msg_id: msgId,
    });
    expect(await bob.client.next((f) => f['type'] === 'msg_recalled')).toEqual({
      type: 'msg_recalled',
      session_id: 'alice',
      session_type: 1,
      msg_id: msgId,
    });
    await stack.barrier(alice);
    expect(alice.client.messages.all.some((text) => text.includes('"msg_recalled"'))).toBe(false);
  });

  it('bob offline while alice edits and recalls: after reconnecting every read path shows both', async () => {
    const stack = await start();
    const alice = await stack.connect('alice');
    let bob = await stack.connect('bob');
    const first = await sendToBob(alice, bob, 'first');
    const second = await sendToBob(alice, bob, 'second');
    await bob.client.close();
    await ask(alice, {
      action: 'msg_edit',
      session_id: 'bob',
      session_type: 1,
      msg_id: first,
      msg_data: 'first, edited',
    });
    await ask(alice, { action: 'msg_recall', session_id: 'bob', session_type: 1, msg_id: second });
    bob = await stack.connect('bob');
    const list = await ask(bob, {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 10,
    });
    expect(list['msg_list']).toEqual([
      expect.objectContaining({ msg_id: second, msg_data: '', recalled: true }),
      expect.objectContaining({ msg_id: first, msg_data: 'first, edited', edited_at: expect.any(Number) }),
    ]);
    const byIds = await ask(bob, {
      action: 'msg_by_ids',
      session_id: 'alice',
      session_type: 1,
      msg_ids: [first, second],
    });
    expect(byIds['msg_list']).toHaveLength(2);
    const sessions = await ask(bob, { action: 'recent_sessions', latest_update_time: 0 });
    expect(sessions['contact_session_list']).toEqual([
      expect.objectContaining({
        session_id: 'alice',
        latest_msg_id: second,
        latest_msg_data: '',
        latest_msg_recalled: true,
      }),
    ]);
    const unread = await ask(bob, { action: 'unread_cnt' });
    expect(unread['unreadinfo_list']).toEqual([
      expect.objectContaining({ session_id: 'alice', unread_cnt: 2, latest_msg_recalled: true }),
    ]);
  });

  it('past the windows on the handlers’ clock, and for another’s message: not_allowed; bad input: bad_request', async () => {
    const stack = await start();
    const alice = await stack.connect('alice');
    const bob = await stack.connect('bob');
    const msgId = await sendToBob(alice, bob, 'kept');
    expect(
      await ask(bob, { action: 'msg_edit', session_id: 'alice', session_type: 1, msg_id: msgId, msg_data: 'mine now' }),
    ).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await ask(alice, { action: 'msg_recall', session_id: 'bob', session_type: 1, msg_id: 'one' })).toMatchObject(
      {
        type: 'error',
        code: 'bad_request',
      },
    );
    offsetMs = 121_000;
    expect(await ask(alice, { action: 'msg_recall', session_id: 'bob', session_type: 1, msg_id: msgId })).toMatchObject(
      {
        type: 'error',
        code: 'not_allowed',
      },
    );
    offsetMs = 901_000;
    expect(
      await ask(alice, { action: 'msg_edit', session_id: 'bob', session_type: 1, msg_id: msgId, msg_data: 'late' }),
    ).toMatchObject({ type: 'error', code: 'not_allowed' });
    const list = await ask(bob, {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 1,
    });
    expect(list['msg_list']).toEqual([expect.objectContaining({ msg_data: 'kept' })]);
    expect((list['msg_list'] as Frame[])[0]).not.toHaveProperty('edited_at');
  });
});
