/**
 * Authorization through the real stack (emulator + handlers + DynamoDB Local, real WebSocket clients): nobody acks,
 * sends or reads as someone else. Every attempt is refused or ignored, and the tables show nothing changed.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TableId } from '../../core/store/schema.js';
import type { Frame } from '../emulator/support.js';
import { msgData, startTestStack, type Device, type TestStack } from '../e2e/harness.js';
import { localDynamoClient } from '../support/dynamo.js';

const db = localDynamoClient();
afterAll(() => db.destroy());

let t: TestStack | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function scan(table: TableId): Promise<Record<string, unknown>[]> {
  const name = t!.stack.tables[table];
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: name, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

/** The rows of some tables as sorted JSON, for before/after equality. */
async function snapshot(tables: readonly TableId[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of tables) out[table] = (await scan(table)).map((i) => JSON.stringify(i)).sort();
  return out;
}

let seq = 1;
/** Sends a request and resolves with the frame that echoes its seq (its reply or its error). */
async function request(device: Device, frame: Frame): Promise<Frame> {
  const s = seq++;
  device.client.send({ ...frame, seq: s });
  return device.client.next((f) => f['seq'] === s);
}

/** Sends a frame that gets no reply when accepted (msg_data_ack) and resolves once its invocation finished. */
async function fireAndWait(device: Device, routeKey: string, frame: Frame): Promise<number> {
  const s = seq++;
  device.client.send({ ...frame, seq: s });
  await t!.handled(device, routeKey, s);
  return s;
}

/** Takes every frame the device received and the test had not taken, once a round trip proves all have arrived. */
async function drain(device: Device): Promise<Frame[]> {
  await t!.barrier(device);
  const frames: Frame[] = [];
  while (device.client.messages.remaining().length > 0)
    frames.push(JSON.parse(await device.client.messages.take()) as Frame);
  return frames.filter((f) => f['type'] !== 'heartbeat');
}

const expectAckIgnored = (frames: readonly Frame[], seqs: readonly number[]) => {
  // An ack gets no reply; one for a session the caller is not part of may be answered not_member.
  const replies = frames.filter((f) => seqs.includes(f['seq'] as number));
  for (const reply of replies) expect(reply).toMatchObject({ type: 'error', code: 'not_member' });
};

const pendingOf = async (connectionId: string) =>
  (await scan('PendingDeliveries')).filter((row) => String(row['delivery_key']).startsWith(`${connectionId}#`));

describe('acking', () => {
  it("bob2 acking a message delivered to bob1 leaves bob1's pending delivery, and bob1 gets it again", async () => {
    t = await startTestStack({ ackTimeoutMs: 300, sweepIntervalMs: 100, env: { MAX_DELIVERY_ATTEMPTS: '100' } });
    const alice = await t.connect('alice');
    const bob1 = await t.connect('bob');
    alice.client.send(msgData('bob', seq, 'for bob1'));
    const ack = await alice.client.next((f) => f['type'] === 'msg_data_ack' && f['seq'] === seq++);
    const msgId = ack['msg_id'] as number;
    const first = await bob1.client.next((f) => f['type'] === 'msg_data' && f['msg_id'] === msgId);
    const bob2 = await t.connect('bob');

    const ackFrame = { action: 'msg_data_ack', msg_id: msgId, session_id: 'alice', session_type: 1 };
    const s = await fireAndWait(bob2, 'msg_data_ack', ackFrame);
    expect(await pendingOf(bob1.connectionId), "bob1's row survives bob2's ack").toHaveLength(1);

    // Not acked by bob1: redelivered to bob1, the same frame.
    const again = await bob1.client.next((f) => f['type'] === 'msg_data' && f['msg_id'] === msgId);
    expect(again).toEqual(first);
    const bob2Frames = await drain(bob2);
    expect(
      bob2Frames.filter((f) => f['type'] === 'msg_data'),
      'bob2 never had that delivery',
    ).toEqual([]);
    expectAckIgnored(bob2Frames, [s]);

    // bob1's own ack removes it.
    await fireAndWait(bob1, 'msg_data_ack', ackFrame);
    expect(await pendingOf(bob1.connectionId)).toEqual([]);
  });

  it("acks naming someone else's conversation, or a delivery of another connection, change nothing", async () => {
    t = await startTestStack(); // 15 s ack timeout: no sweep touches the rows during the test
    const alice = await t.connect('alice');
    const bob1 = await t.connect('bob');
    for (let i = 0; i < 2; i++) {
      alice.client.send(msgData('bob', seq, `m${i}`));
      await alice.client.next((f) => f['type'] === 'msg_data_ack' && f['seq'] === seq++);
    }
    await bob1.client.next((f) => f['type'] === 'msg_data' && f['msg_id'] === 2);
    const carol = await t.connect('carol');
    const bob2 = await t.connect('bob');
    const tables: TableId[] = ['PendingDeliveries', 'Messages', 'Conversations', 'Sessions', 'RateLimits'];
    const before = await snapshot(tables);
    expect(before['PendingDeliveries']!.filter((r) => r.includes('"kind":"delivery"'))).toHaveLength(2);

    const attempts: [Device, Frame][] = [];
    for (const msgId of [1, 2]) {
      for (const [sessionId, sessionType] of [
        ['alice', 1],
        ['bob', 1],
        ['alice', 2],
        ['bob', 2],
        ['carol', 1],
      ] as const) {
        attempts.push([
          carol,
          { action: 'msg_data_ack', msg_id: msgId, session_id: sessionId, session_type: sessionType },
        ]);
      }
      attempts.push([bob2, { action: 'msg_data_ack', msg_id: msgId, session_id: 'alice', session_type: 1 }]);
      attempts.push([alice, { action: 'msg_data_ack', msg_id: msgId, session_id: 'bob', session_type: 1 }]);
      attempts.push([
        carol,
        {
          action: 'msg_data_ack',
          msg_id: msgId,
          session_id: 'alice',
          session_type: 1,
          from_user_id: 'bob',
          user_id: 'bob',
        },
      ]);
    }
    const seqsBy = new Map<Device, number[]>();
    for (const [device, frame] of attempts)
      seqsBy.set(device, [...(seqsBy.get(device) ?? []), await fireAndWait(device, 'msg_data_ack', frame)]);

    // A conversation id cannot be smuggled in: '#' is not a user id character.
    for (const sessionId of ['alice#bob', 's#alice#bob', 'bob#alice']) {
      const reply = await request(carol, { action: 'msg_data_ack', msg_id: 1, session_id: sessionId, session_type: 1 });
      expect(reply).toMatchObject({ type: 'error', code: 'bad_request' });
    }

    expect(await snapshot(tables)).toEqual(before);
    for (const [device, seqs] of seqsBy) expectAckIgnored(await drain(device), seqs);
    expect((await drain(bob1)).filter((f) => f['type'] !== 'msg_data')).toEqual([]);
  });
});

describe('sending', () => {
  it('from_user_id (and user_id, query parameters) cannot make a message come from someone else', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const mallory = await t.connect('mallory', { userId: 'alice', user_id: 'alice', sub: 'alice' });

    const s = seq++;
    mallory.client.send(
      msgData('bob', s, 'it is me, alice', {
        from_user_id: 'alice',
        user_id: 'alice',
        userId: 'alice',
        sender: 'alice',
      }),
    );
    const ack = await mallory.client.next((f) => f['seq'] === s);
    expect(ack).toMatchObject({ type: 'msg_data_ack', user_id: 'mallory', session_id: 'bob', msg_id: 1 });
    const delivered = await bob.client.next((f) => f['type'] === 'msg_data');
    expect(delivered).toMatchObject({ from_user_id: 'mallory', to_session_id: 'bob', msg_data: 'it is me, alice' });
    expect(delivered).not.toHaveProperty('user_id');
    expect(
      (await drain(alice)).filter((f) => f['type'] === 'msg_data'),
      'alice is not part of it',
    ).toEqual([]);

    const messages = await scan('Messages');
    expect(messages).toEqual([
      expect.objectContaining({ conversation_id: 's#bob#mallory', from_user_id: 'mallory', to_session_id: 'bob' }),
    ]);
    expect((await scan('Conversations')).map((c) => c['conversation_id'])).toEqual(['s#bob#mallory']);

    const withAlice = await request(bob, {
      action: 'msg_list',
      session_id: 'alice',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 100,
    });
    expect(withAlice).toMatchObject({ type: 'msg_list', msg_list: [] });
    const withMallory = await request(bob, {
      action: 'msg_list',
      session_id: 'mallory',
      session_type: 1,
      msg_id_begin: 0,
      msg_cnt: 100,
    });
    expect(withMallory['msg_list']).toEqual([expect.objectContaining({ msg_id: 1, from_user_id: 'mallory' })]);
  });

  it('a group message from a non-member is not_member and stores and delivers nothing', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const carol = await t.connect('carol');
    const tables: TableId[] = ['Messages', 'Conversations', 'PendingDeliveries', 'RateLimits'];

    const created = await request(alice, { action: 'group_create', group_name: 'alice and bob', member_ids: ['bob'] });
    expect(created).toMatchObject({ type: 'group_create' });
    const groupId = created['group_id'] as string;
    // Carol cannot add herself either.
    const join = await request(carol, {
      action: 'group_change_member',
      group_id: groupId,
      change_type: 'add',
      member_ids: ['carol'],
    });
    expect(join).toMatchObject({ type: 'error', code: 'not_member' });
    await drain(bob);
    const before = await snapshot(tables);

    for (const msgType of [17, 18]) {
      for (const target of [groupId, 'g:AAAAAAAAAAAAAAAAAAAAAA', 'g-unknown']) {
        const reply = await request(
          carol,
          msgData(target, 0, 'let me in', { msg_type: msgType, from_user_id: 'alice' }),
        );
        expect(reply, `msg_type ${msgType} to ${target}`).toMatchObject({ type: 'error', code: 'not_member' });
      }
    }
    expect(await snapshot(tables)).toEqual(before);
    const bobFrames = (await drain(bob)).filter((f) => f['type'] === 'msg_data');
    expect(bobFrames, 'no group member got it').toEqual([]);

    const read = await request(carol, {
      action: 'msg_list',
      session_id: groupId,
      session_type: 2,
      msg_id_begin: 0,
      msg_cnt: 100,
    });
    expect(read).toMatchObject({ type: 'error', code: 'not_member' });
    // Control: a member's group message goes through, so the refusal above was about membership.
    const sent = await request(alice, msgData(groupId, 0, 'members only', { msg_type: 17 }));
    expect(sent).toMatchObject({ type: 'msg_data_ack', session_id: groupId });
    await bob.client.next((f) => f['type'] === 'msg_data' && f['to_session_id'] === groupId);
    expect((await drain(carol)).filter((f) => f['type'] === 'msg_data')).toEqual([]);
  });
});

describe('reading', () => {
  it("carol reads nothing of alice↔bob by any session_id; her requests change nobody else's rows", async () => {
    // 30 reads in a row: what is read is the point here, not the read budget.
    t = await startTestStack({ env: { READ_RATE_LIMIT_PER_SECOND: '1000' } });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const carol = await t.connect('carol');

    const SECRET = 'SECRET alice-bob';
    const exchange = [
      [alice, 'bob', bob, `${SECRET} 1`],
      [alice, 'bob', bob, `${SECRET} 2`],
      [bob, 'alice', alice, `${SECRET} 3`],
      [carol, 'alice', alice, 'carol-hi'],
    ] as const;
    for (const [from, to, receiver, text] of exchange) {
      expect(await request(from, msgData(to, 0, text))).toMatchObject({ type: 'msg_data_ack' });
      await receiver.client.next((f) => f['type'] === 'msg_data' && f['msg_data'] === text);
    }
    await drain(alice);
    await drain(bob);
    await drain(carol);

    const othersRows = async () =>
      (await scan('Sessions'))
        .filter((r) => r['user_id'] !== 'carol')
        .map((r) => JSON.stringify(r))
        .sort();
    const beforeRows = await othersRows();
    const beforeMessages = await snapshot(['Messages', 'Conversations']);

    const replies: Frame[] = [];
    const ask = async (frame: Frame) => {
      const reply = await request(carol, frame);
      replies.push(reply);
      return reply;
    };
    for (const sessionId of ['alice', 'bob', 'carol', 'mallory', '__proto__']) {
      for (const sessionType of [1, 2]) {
        const session = { session_id: sessionId, session_type: sessionType };
        const list = await ask({ action: 'msg_list', ...session, msg_id_begin: 0, msg_cnt: 100 });
        const byIds = await ask({ action: 'msg_by_ids', ...session, msg_ids: [1, 2, 3, 4, 5] });
        const latest = await ask({ action: 'latest_msg_id', ...session });
        if (sessionId === 'alice' && sessionType === 1) {
          // Her own conversation with alice, and nothing else.
          expect(list['msg_list']).toEqual([
            expect.objectContaining({ msg_id: 1, from_user_id: 'carol', msg_data: 'carol-hi' }),
          ]);
          expect(byIds['msg_list']).toEqual([expect.objectContaining({ msg_id: 1, from_user_id: 'carol' })]);
          expect(latest).toMatchObject({ type: 'latest_msg_id', latest_msg_id: 1 });
          continue;
        }
        for (const reply of [list, byIds]) {
          if (reply['type'] === 'error') expect(['not_member', 'bad_request']).toContain(reply['code']);
          else expect(reply['msg_list'], `${String(reply['type'])} ${sessionId}/${sessionType}`).toEqual([]);
        }
        if (latest['type'] === 'error') expect(['not_member', 'bad_request']).toContain(latest['code']);
        else expect(latest['latest_msg_id'], `latest_msg_id ${sessionId}/${sessionType}`).toBe(0);
      }
    }
    await ask({ action: 'unread_cnt' });
    const recent = await ask({ action: 'recent_sessions', latest_update_time: 0 });
    expect((recent['contact_session_list'] as Frame[]).map((s) => s['session_id'])).toEqual(['alice']);
    for (const sessionId of ['bob', 'alice']) {
      await ask({ action: 'msg_read_ack', session_id: sessionId, session_type: 1, msg_id: 3 });
      await ask({ action: 'remove_session', session_id: sessionId, session_type: 1 });
    }

    const leaked = [...replies, ...(await drain(carol))].filter((f) => JSON.stringify(f).includes(SECRET));
    expect(leaked, 'alice↔bob messages reached carol').toEqual([]);
    expect(await othersRows(), "alice's and bob's session rows").toEqual(beforeRows);
    expect(await snapshot(['Messages', 'Conversations'])).toEqual(beforeMessages);
    const bobFrames = await drain(bob);
    expect(bobFrames, 'bob hears nothing of carol').toEqual([]);
    const aliceFrames = await drain(alice);
    // alice may get carol's read receipt for their own conversation, nothing about bob.
    for (const f of aliceFrames)
      expect(f).toMatchObject({ type: 'msg_read_receipt', user_id: 'carol', session_id: 'alice' });
  });
});
