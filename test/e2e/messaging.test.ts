import { afterEach, describe, expect, it } from 'vitest';
import { msgData, startTestStack, type TestStack } from './harness.js';

let t: TestStack | undefined;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('messages between users, through the emulator and the real handlers', () => {
  it('two users: alice is acked with msg_id 1 then 2, bob gets each message with the same msg_id', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');

    alice.client.send(msgData('bob', 7, 'hi', { client_msg_id: 'c-1', from_user_id: 'mallory' }));
    const ack1 = await alice.client.next((f) => f['type'] === 'msg_data_ack');
    expect(ack1).toEqual({
      type: 'msg_data_ack',
      seq: 7,
      user_id: 'alice',
      session_id: 'bob',
      msg_id: 1,
      session_type: 1,
      create_time: expect.any(Number),
      client_msg_id: 'c-1',
    });
    const delivered1 = await bob.client.next((f) => f['type'] === 'msg_data');
    expect(delivered1).toEqual({
      type: 'msg_data',
      from_user_id: 'alice',
      to_session_id: 'bob',
      msg_id: 1,
      create_time: ack1['create_time'],
      msg_type: 1,
      msg_data: 'hi',
      client_msg_id: 'c-1',
    });
    expect(Math.abs((ack1['create_time'] as number) - Date.now() / 1000)).toBeLessThan(60);

    alice.client.send(msgData('bob', 8, 'second'));
    const ack2 = await alice.client.next((f) => f['type'] === 'msg_data_ack');
    expect(ack2).toMatchObject({ seq: 8, msg_id: 2, session_id: 'bob' });
    expect(ack2['client_msg_id']).toBeUndefined();
    expect(await bob.client.next((f) => f['type'] === 'msg_data')).toMatchObject({
      msg_id: 2,
      msg_data: 'second',
      from_user_id: 'alice',
    });

    // The pair shares one counter in both directions.
    bob.client.send(msgData('alice', 1, 'back'));
    expect(await bob.client.next((f) => f['type'] === 'msg_data_ack')).toMatchObject({
      msg_id: 3,
      session_id: 'alice',
      seq: 1,
    });
    expect(await alice.client.next((f) => f['type'] === 'msg_data')).toMatchObject({
      msg_id: 3,
      from_user_id: 'bob',
      to_session_id: 'alice',
    });

    // The sending connection never gets its own msg_data.
    await t.barrier(alice);
    await t.barrier(bob);
    expect(alice.client.unread()).toEqual([]);
    expect(bob.client.unread()).toEqual([]);
  });

  it('a user on two devices: the other device gets msg_data, the sending connection only the ack', async () => {
    t = await startTestStack();
    const phone = await t.connect('alice', { client_type: '17' });
    const laptop = await t.connect('alice', { client_type: '2' });
    const bob = await t.connect('bob');

    phone.client.send(msgData('bob', 1, 'from my phone'));
    const ack = await phone.client.next((f) => f['type'] === 'msg_data_ack');
    expect(ack).toMatchObject({ msg_id: 1, seq: 1 });
    const onLaptop = await laptop.client.next((f) => f['type'] === 'msg_data');
    expect(onLaptop).toMatchObject({
      from_user_id: 'alice',
      to_session_id: 'bob',
      msg_id: 1,
      msg_data: 'from my phone',
    });
    expect(await bob.client.next((f) => f['type'] === 'msg_data')).toEqual(onLaptop);

    await t.handled(phone, 'msg_data', 1);
    await t.barrier(phone);
    await t.barrier(laptop);
    expect(phone.client.unread()).toEqual([]);
    expect(laptop.client.unread()).toEqual([]);
  });

  it('redelivers an unacked message after the ack timeout, and stops once it is acked', async () => {
    const ackTimeoutMs = 400;
    t = await startTestStack({ ackTimeoutMs, sweepIntervalMs: 100 });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');

    alice.client.send(msgData('bob', 1, 'are you there?'));
    const first = await bob.client.next((f) => f['type'] === 'msg_data');
    const firstAt = Date.now();
    // No ack: the sweeper sends the very same frame again to the same connection.
    const again = await bob.client.next((f) => f['type'] === 'msg_data');
    expect(again).toEqual(first);
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(ackTimeoutMs - 50);

    bob.client.send({ action: 'msg_data_ack', seq: 2, msg_id: first['msg_id'], session_id: 'alice', session_type: 1 });
    const ackHandled = await t.handled(bob, 'msg_data_ack', 2);
    expect(ackHandled.outcome).toBe('ok');
    const ackedAt = Date.now();
    // A sweep that read the row before the ack removed it may still post once: let it finish first.
    await t.stack.nextSweep();
    await t.barrier(bob);
    const copiesBefore = bob.client.messages.all.filter((m) => m.includes('"type":"msg_data"')).length;
    // Sweeps well past the ack timeout find nothing more to redeliver.
    while (Date.now() < ackedAt + 2 * ackTimeoutMs) await t.stack.nextSweep();
    await t.stack.nextSweep();
    await t.barrier(bob);
    expect(bob.client.messages.all.filter((m) => m.includes('"type":"msg_data"')).length).toBe(copiesBefore);
    // msg_data_ack has no reply.
    expect(bob.client.unread().filter((f) => f['type'] !== 'msg_data')).toEqual([]);
  });
});

describe('gone connections', () => {
  it('a connection that vanished without $disconnect is removed when a delivery to it answers 410', async () => {
    // No grace for connections still opening: bob's connection is a few ms old when its 410 comes.
    t = await startTestStack({ env: { CONNECTING_GRACE_MS: '0' } });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const now = () => Date.now();
    expect((await t.stack.runtime.connections.listByUser('bob', now())).map((c) => c.connectionId)).toEqual([
      bob.connectionId,
    ]);

    // $disconnect is best effort on AWS: here it never comes, the socket just goes.
    expect(t.stack.emulator.dropConnection(bob.connectionId)).toBe(true);
    await bob.client.closed;
    expect(await t.stack.runtime.connections.listByUser('bob', now())).toHaveLength(1);

    alice.client.send(msgData('bob', 1, 'hello?'));
    expect(await alice.client.next((f) => f['type'] === 'msg_data_ack')).toMatchObject({ msg_id: 1 });
    const send = await t.handled(alice, 'msg_data', 1);
    expect(send.outcome).toBe('ok');
    expect(await t.stack.runtime.connections.listByUser('bob', now())).toEqual([]);
    expect(t.invocations.all.filter((r) => r.routeKey === '$disconnect')).toEqual([]);

    // The message stays stored: bob reconnects and the next message continues the numbering.
    const bobAgain = await t.connect('bob');
    alice.client.send(msgData('bob', 2, 'there you are'));
    expect(await bobAgain.client.next((f) => f['type'] === 'msg_data')).toMatchObject({ msg_id: 2 });
  });

  it('the sweeper removes a connection that vanished while a delivery to it waited for its ack', async () => {
    t = await startTestStack({ ackTimeoutMs: 300, sweepIntervalMs: 100, env: { CONNECTING_GRACE_MS: '0' } });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    alice.client.send(msgData('bob', 1, 'ack me'));
    await bob.client.next((f) => f['type'] === 'msg_data');
    await t.handled(alice, 'msg_data', 1);

    t.stack.emulator.dropConnection(bob.connectionId);
    await bob.client.closed;
    const droppedAt = Date.now();
    while ((await t.stack.runtime.connections.listByUser('bob', Date.now())).length > 0) {
      if (Date.now() - droppedAt > 10_000) throw new Error('the sweeper never removed the gone connection');
      await t.stack.nextSweep();
    }
    expect(t.invocations.all.filter((r) => r.routeKey === '$disconnect')).toEqual([]);
  });

  it('a closed socket fires $disconnect, which removes the connection', async () => {
    t = await startTestStack();
    const bob = await t.connect('bob');
    await bob.client.close();
    const disconnect = await t.invocations.take((r) => r.routeKey === '$disconnect');
    expect(disconnect.outcome).toBe('ok');
    expect(await t.stack.runtime.connections.listByUser('bob', Date.now())).toEqual([]);
  });
});
