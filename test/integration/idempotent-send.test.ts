/**
 * Idempotent send on DynamoDB Local (contract: "Idempotency"): the key is (sender, conversation, client_msg_id) with a
 * content hash; a resend after a lost ack or after the first attempt died at any step is stored once, acked with one
 * msg_id and delivered; racing duplicates take no msg_id; the server never acks what is not stored as acked.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { AckInvariantError, FrameError, MessageAlreadyStoredError } from '../../core/errors.js';
import type { Runtime } from '../../core/runtime.js';
import { singleConversationId } from '../../core/domain/ids.js';
import type { MessageRecord } from '../../core/domain/message.js';
import { RING_SLOTS } from '../../core/store/conversations.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { FANOUT_DEADLINE_MS } from '../../core/usecases/deliver-message.js';
import { sendMessage, verifiedAck } from '../../core/usecases/send-message.js';
import { sweep } from '../../core/usecases/sweep.js';
import {
  createGroupAsAlice,
  createTestRuntime,
  msgData,
  sendAndDeliver,
  type TestRuntime,
} from '../support/runtime.js';

let t: TestRuntime;
const ACK_TIMEOUT_MS = 15_000;

beforeEach(async () => {
  t = await createTestRuntime({ ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), RATE_LIMIT_PER_SECOND: '200' });
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
      if (key !== method || typeof value !== 'function')
        return typeof value === 'function' ? value.bind(target) : value;
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

const body = (fields: Record<string, unknown> = {}) =>
  msgData({ to_session_id: 'bob', client_msg_id: 'c-1', ...fields });
/** alice's send as the send handler runs it, up to the deliveries. */
const send = (runtime: Runtime, fields: Record<string, unknown> = {}) =>
  sendAndDeliver(runtime, { userId: 'alice', connectionId: 'a1', body: body(fields) });

async function stored(): Promise<string[]> {
  return (await t.items('Messages')).map((m) => `${m['conversation_id']}:${m['msg_id']}:${m['msg_data']}`).sort();
}

describe('idempotent send', () => {
  it('a resend after a lost ack gets the first ack (same msg_id and create_time) and is stored once', async () => {
    const first = await send(t.runtime);
    t.clock.advance(30_000);
    const again = await send(t.runtime);
    expect(again.ack).toEqual(first.ack);
    expect(again.attempt).toBe('resend');
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
    // Without a client_msg_id nothing identifies a resend: each send is a new message.
    await sendAndDeliver(t.runtime, { userId: 'alice', connectionId: 'a1', body: msgData({ to_session_id: 'bob' }) });
    expect(await stored()).toEqual(['s#alice#bob:1:hi', 's#alice#bob:2:hi']);
  });

  it('holds for 48 hours; another sender may use the same client_msg_id', async () => {
    await send(t.runtime);
    const bobs = await sendAndDeliver(t.runtime, {
      userId: 'bob',
      connectionId: 'b1',
      body: msgData({ to_session_id: 'alice', client_msg_id: 'c-1' }),
    });
    expect(bobs.message.msgId).toBe(2);
    t.clock.advance(47 * 3600_000);
    expect((await send(t.runtime)).ack.msg_id).toBe(1);
    t.clock.advance(2 * 3600_000);
    expect((await send(t.runtime)).message.msgId).toBeGreaterThan(2);
  });

  it('the same client_msg_id to another peer is another message, acked under that conversation', async () => {
    const toBob = await send(t.runtime, { msg_data: 'for bob' });
    const toCarol = await send(t.runtime, { to_session_id: 'carol', msg_data: 'for carol' });
    expect(toCarol.ack).toMatchObject({ session_id: 'carol', msg_id: 1, client_msg_id: 'c-1' });
    expect(toBob.ack).toMatchObject({ session_id: 'bob', msg_id: 1 });
    expect(await stored()).toEqual(['s#alice#bob:1:for bob', 's#alice#carol:1:for carol']);
  });

  it('a resend with other content is refused client_msg_id_reused and changes nothing', async () => {
    await send(t.runtime, { msg_data: 'first' });
    const before = { messages: await t.items('Messages'), heads: await t.items('Conversations') };
    await expect(send(t.runtime, { msg_data: 'edited' })).rejects.toMatchObject({
      constructor: FrameError,
      code: 'client_msg_id_reused',
    });
    await expect(send(t.runtime, { msg_data: 'first', msg_type: 2 })).rejects.toMatchObject({
      code: 'client_msg_id_reused',
    });
    expect({ messages: await t.items('Messages'), heads: await t.items('Conversations') }).toEqual(before);
  });

  it('a claim left by a crash does not capture a send to another peer with the same id', async () => {
    await expect(send(dyingAt('messages', 'put'), { msg_data: 'for bob' })).rejects.toBeInstanceOf(Crash);
    const toCarol = await send(t.runtime, { to_session_id: 'carol', msg_data: 'for carol' });
    expect(toCarol.ack).toMatchObject({ session_id: 'carol', msg_id: 1 });
    // A later fresh send to carol takes the next msg_id: nothing was stored under a foreign one.
    const next = await sendAndDeliver(t.runtime, {
      userId: 'alice',
      connectionId: 'a1',
      body: msgData({ to_session_id: 'carol', client_msg_id: 'c-2' }),
    });
    expect(next.ack.msg_id).toBe(2);
    // The resend to bob finishes bob's message under bob's claimed msg_id.
    expect((await send(t.runtime, { msg_data: 'for bob' })).ack).toMatchObject({ session_id: 'bob', msg_id: 1 });
    expect(await stored()).toEqual(['s#alice#bob:1:for bob', 's#alice#carol:1:for carol', 's#alice#carol:2:hi']);
  });

  it('40 concurrent same-id pairs to different peers are each stored under their own conversation', async () => {
    const peers = Array.from({ length: 40 }, (_, i) => `peer${i}`);
    const sends = peers.flatMap((peer) =>
      [0, 1].map(() => send(t.runtime, { to_session_id: peer, msg_data: `for ${peer}`, client_msg_id: 'same' })),
    );
    const acks = (await Promise.all(sends)).map((s) => s.ack);
    for (const peer of peers) {
      const mine = acks.filter((a) => a.session_id === peer);
      expect(mine).toHaveLength(2);
      expect(new Set(mine.map((a) => a.msg_id))).toEqual(new Set([1]));
    }
    expect(await stored()).toEqual(peers.map((p) => `s#alice#${p}:1:for ${p}`).sort());
  });

  it('racing duplicates are stored once and take no msg_id: the next message follows without a gap', async () => {
    const attempts = await Promise.all(Array.from({ length: 5 }, () => send(t.runtime)));
    expect(new Set(attempts.map((a) => a.ack.msg_id))).toEqual(new Set([1]));
    const next = await sendAndDeliver(t.runtime, {
      userId: 'alice',
      connectionId: 'a1',
      body: body({ client_msg_id: 'c-2' }),
    });
    expect(next.ack.msg_id).toBe(2);
    expect(await stored()).toEqual(['s#alice#bob:1:hi', 's#alice#bob:2:hi']);
  });

  it('a late resend (the ring forgot the key) is answered from the claim; the msg_id it took stays a gap', async () => {
    await send(t.runtime);
    // Enough other sends to overwrite every ring slot.
    for (let i = 0; i < RING_SLOTS * 8; i++)
      await acceptMessage(t.runtime, { userId: 'alice', body: body({ client_msg_id: `other-${i}` }) });
    const resend = await send(t.runtime);
    expect(resend.ack.msg_id).toBe(1);
    const after = await acceptMessage(t.runtime, { userId: 'alice', body: body({ client_msg_id: 'after' }) });
    expect(after.message.msgId).toBe(RING_SLOTS * 8 + 3);
  });

  it('died after taking the msg_id, before claiming it: the resend continues under that msg_id (no gap)', async () => {
    await expect(send(dyingAt('sentMessages', 'claim'))).rejects.toBeInstanceOf(Crash);
    const resend = await send(t.runtime);
    expect(resend.ack.msg_id).toBe(1);
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
  });

  it('died after claiming, before storing: the resend stores it under the claimed msg_id and delivers it', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await expect(send(dyingAt('messages', 'put'))).rejects.toBeInstanceOf(Crash);
    expect(await stored()).toEqual([]);
    const resend = await send(t.runtime);
    expect(resend.ack.msg_id).toBe(1);
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
    expect(t.gateway.framesTo('b1')).toMatchObject([{ type: 'msg_data', msg_id: 1 }]);
  });

  it('died while creating the session rows: the resend creates them and stores the message once', async () => {
    await expect(send(dyingAt('sessions', 'ensure'))).rejects.toBeInstanceOf(Crash);
    const resend = await send(t.runtime);
    expect(resend.message.msgId).toBe(1);
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
    const rows = (await t.items('Sessions')).filter((s) => !String(s['session_key']).startsWith('d#'));
    expect(rows.map((s) => s['user_id']).sort()).toEqual(['alice', 'bob']);
  });

  it('the first attempt stored the message and died before recording its deliveries: the resend delivers it', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await expect(
      sendMessage(dyingAt('pending', 'putMany'), { userId: 'alice', connectionId: 'a1', body: body() }),
    ).rejects.toBeInstanceOf(Crash);
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
    expect(t.gateway.framesTo('b1')).toEqual([]);
    const resend = await send(t.runtime);
    expect(resend.ack.msg_id).toBe(1);
    expect(t.gateway.framesTo('b1')).toMatchObject([{ type: 'msg_data', msg_id: 1 }]);
    expect((await t.items('PendingDeliveries')).map((r) => r['connection_id'])).toEqual(['b1']);
  });

  it('a resend 10 minutes late records its deliveries in the slot of their time: redelivered until acked', async () => {
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await expect(
      sendMessage(dyingAt('pending', 'putMany'), { userId: 'alice', connectionId: 'a1', body: body() }),
    ).rejects.toBeInstanceOf(Crash);
    t.clock.advance(10 * 60_000);
    await send(t.runtime);
    expect(t.gateway.framesTo('b1')).toHaveLength(1);
    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ redelivered: 1 });
    t.clock.advance(ACK_TIMEOUT_MS);
    expect(await sweep(t.runtime)).toMatchObject({ redelivered: 1 });
    expect(t.gateway.framesTo('b1')).toHaveLength(3);
    // The ack finds the late row (not in its message's minute) and removes it.
    const { ackDelivery } = await import('../../core/usecases/ack-delivery.js');
    const removed = await ackDelivery(t.runtime, {
      userId: 'bob',
      connectionId: 'b1',
      body: JSON.stringify({ action: 'msg_data_ack', msg_id: 1, session_id: 'alice', session_type: 1 }),
    });
    expect(removed).toHaveLength(1);
    expect(await t.items('PendingDeliveries')).toEqual([]);
  });

  it('a message put retried after a lost response finds its own row, another message under that msg_id is refused', async () => {
    const { message } = await send(t.runtime);
    const counts = { sentLo: 1, sentHi: 0 };
    await expect(t.runtime.messages.put(message, counts)).resolves.toMatchObject({
      fresh: false,
      stored: { msgId: 1, msgData: 'hi' },
    });
    await expect(t.runtime.messages.put({ ...message, msgData: 'another text' }, counts)).rejects.toBeInstanceOf(
      MessageAlreadyStoredError,
    );
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
  });

  it('never acks a message that is not stored: when the ack is built, its msg_id holds the asked message', async () => {
    const described = (m: MessageRecord | undefined) =>
      m && `${m.fromUserId}→${m.toSessionId}:${m.clientMsgId}:${m.msgData}`;
    /** alice's send up to its ack (nothing delivered yet), and the Messages row the ack names, read back. */
    const ackAndRow = async (runtime: Runtime, fields: Record<string, unknown>) => {
      const { ack } = await sendMessage(runtime, { userId: 'alice', connectionId: 'a1', body: body(fields) });
      const row = await t.runtime.messages.getConsistent(singleConversationId('alice', ack.session_id), ack.msg_id);
      return { ack: `${ack.session_id}:${ack.msg_id}:${ack.client_msg_id}`, row: described(row) };
    };

    // A first attempt stores before it acks.
    expect(await ackAndRow(t.runtime, { msg_data: 'first' })).toEqual({ ack: 'bob:1:c-1', row: 'alice→bob:c-1:first' });
    // A first attempt that died before storing: the resend stores before it acks.
    const second = { client_msg_id: 'c-2', msg_data: 'second' };
    await expect(ackAndRow(dyingAt('messages', 'put'), second)).rejects.toThrow(Crash);
    expect(await ackAndRow(t.runtime, second)).toEqual({ ack: 'bob:2:c-2', row: 'alice→bob:c-2:second' });
    // Racing duplicates: every ack names the one stored message.
    const third = { to_session_id: 'carol', client_msg_id: 'c-3', msg_data: 'third' };
    const racing = await Promise.all([1, 2, 3].map(() => ackAndRow(t.runtime, third)));
    const once = { ack: 'carol:1:c-3', row: 'alice→carol:c-3:third' };
    expect(racing).toEqual([once, once, once]);
  });

  it('refuses to build an ack from a stored message that is not the asked one (AckInvariantError)', async () => {
    const sent = await send(t.runtime);
    const stranger = { ...sent.message, conversationId: 's#alice#carol' };
    expect(() => verifiedAck({ ...sent, message: stranger })).toThrow(AckInvariantError);
    expect(() => verifiedAck({ ...sent, message: { ...sent.message, msgData: 'other' } })).toThrow(AckInvariantError);
    expect(() => verifiedAck({ ...sent, message: { ...sent.message, fromUserId: 'bob' } })).toThrow(AckInvariantError);
    expect(verifiedAck(sent)).toEqual(sent.ack);
  });
});

describe('beside the store: the fan-out marker and the head marks are written with the message put', () => {
  /** alice's group message with client_msg_id g-1, as the send handler runs it. */
  const sendToGroup = (runtime: Runtime, groupId: string, text = 'hi') =>
    sendAndDeliver(runtime, {
      userId: 'alice',
      connectionId: 'a1',
      body: msgData({ to_session_id: groupId, msg_type: 17, msg_data: text, client_msg_id: 'g-1' }),
    });
  const tablesSendWrites = () =>
    Promise.all((['Conversations', 'SentMessages', 'Messages', 'PendingDeliveries'] as const).map((id) => t.items(id)));

  it('a group message whose put dies beside its marker reaches no one; the sweeper drops the marker, the resend delivers it once', async () => {
    const groupId = await createGroupAsAlice(t, ['bob']);
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await expect(sendToGroup(dyingAt('messages', 'put'), groupId)).rejects.toBeInstanceOf(Crash);
    expect(await stored()).toEqual([]);
    expect((await t.items('PendingDeliveries')).map((r) => r['kind'])).toEqual(['fanout']);
    t.clock.advance(FANOUT_DEADLINE_MS);
    expect(await sweep(t.runtime)).toMatchObject({ fanoutsResumed: 0, failed: 0 });
    expect(await t.items('PendingDeliveries')).toEqual([]);
    expect(t.gateway.framesTo('b1')).toEqual([]);
    const resend = await sendToGroup(t.runtime, groupId);
    expect(resend.ack.msg_id).toBe(1);
    expect(t.gateway.framesTo('b1')).toMatchObject([{ type: 'msg_data', msg_id: 1 }]);
    expect(await stored()).toEqual([`${resend.message.conversationId}:1:hi`]);
  });

  it('a pair’s first message whose put dies leaves both session rows under the head’s marks; the resend stores it once', async () => {
    await expect(send(dyingAt('messages', 'put'))).rejects.toBeInstanceOf(Crash);
    const rows = (await t.items('Sessions')).filter((s) => !String(s['session_key']).startsWith('d#'));
    expect(rows.map((s) => s['user_id']).sort()).toEqual(['alice', 'bob']);
    expect((await send(t.runtime)).ack.msg_id).toBe(1);
    expect(await stored()).toEqual(['s#alice#bob:1:hi']);
  });

  it('a frame refused client_msg_id_reused writes no msg_id, claim, message, marker or delivery (group and single chat)', async () => {
    const groupId = await createGroupAsAlice(t, ['bob']);
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await send(t.runtime, { msg_data: 'first' });
    await sendToGroup(t.runtime, groupId, 'first');
    const before = await tablesSendWrites();
    await expect(send(t.runtime, { msg_data: 'edited' })).rejects.toMatchObject({ code: 'client_msg_id_reused' });
    await expect(sendToGroup(t.runtime, groupId, 'edited')).rejects.toMatchObject({ code: 'client_msg_id_reused' });
    expect(await tablesSendWrites()).toEqual(before);
  });

  it('a frame refused rate_limited writes nothing but its rate window (group and single chat)', async () => {
    t = await createTestRuntime({ RATE_LIMIT_PER_SECOND: '2' });
    const groupId = await createGroupAsAlice(t, ['bob']);
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    await send(t.runtime, { msg_data: 'first' });
    await sendToGroup(t.runtime, groupId, 'first');
    const before = await tablesSendWrites();
    await expect(send(t.runtime, { client_msg_id: 'c-2' })).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(sendToGroup(t.runtime, groupId, 'second')).rejects.toMatchObject({ code: 'rate_limited' });
    expect(await tablesSendWrites()).toEqual(before);
  });
});

describe('lone surrogates in a send', () => {
  it('"id-\\ud800" and "id-\\udbff" are refused bad_request instead of colliding', async () => {
    for (const id of ['id-\ud800', 'id-\udbff']) {
      await expect(send(t.runtime, { client_msg_id: id })).rejects.toMatchObject({ code: 'bad_request' });
    }
    await expect(send(t.runtime, { msg_data: 'half \udc00 pair' })).rejects.toMatchObject({ code: 'bad_request' });
    expect(await stored()).toEqual([]);
  });
});
