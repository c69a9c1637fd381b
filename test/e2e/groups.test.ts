/**
 * A 50-member group through the real local stack (emulator, handlers, DynamoDB Local) with the client SDK on Node's
 * `ws`: 10 members go offline while six members send, the 10 come back and their SDKs catch up (more messages
 * arriving live meanwhile), and then every member's client holds every message of the group exactly once, in msg_id
 * order, and every live delivery was acknowledged.
 *
 * Senders send from a second device ("phone"), so each member's main client receives every message of the group
 * through its `message` event, its own included (the sending connection never gets its own message back).
 * Messages are sent one at a time, each once its send invocation (store, ack, fan-out) has finished: the server
 * acks a message before it fans it out, so the fan-outs of two messages in flight at once may reach a connection in
 * either order. Live delivery order is only defined for messages sent one after the other; catch-up batches are
 * ordered by the SDK. Each message costs ~0.5 s here (a pending row, a post and an ack per connection, CPU-bound on
 * two cores), so the test takes ~40 s; its timeout leaves room for a busy machine.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ChatClient,
  MsgType,
  group,
  type GroupChangeMemberNotifyFrame,
  type MsgDataAckFrame,
  type MsgDataFrame,
  type SyncResult,
} from '../../client/index.js';
import { localDynamoClient } from '../support/dynamo.js';
import { startTestStack, type TestStack } from './harness.js';

const MEMBERS = Array.from({ length: 50 }, (_, i) => `m${String(i).padStart(2, '0')}`);
const OWNER = MEMBERS[0]!;
const OFFLINE = MEMBERS.slice(40); // m40–m49
const SENDERS = MEMBERS.slice(1, 7); // m01–m06, each from a second device
const BEFORE = 5; // sent with everyone online
const WHILE_OFFLINE = 45;
const DURING_CATCH_UP = 10;
const TOTAL = BEFORE + WHILE_OFFLINE + DURING_CATCH_UP;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Device {
  readonly userId: string;
  readonly client: ChatClient;
  /** msg_ids of the group's `message` events, in order. */
  readonly received: number[];
  /** msg_ids of this device's own sends, as acked. */
  readonly sent: number[];
  readonly notices: GroupChangeMemberNotifyFrame[];
  readonly errors: Error[];
}

let t: TestStack;
const devices: Device[] = [];
let groupId = '';

async function device(userId: string): Promise<Device> {
  const client = new ChatClient({
    url: t.stack.url,
    token: await t.stack.mintToken(userId),
    WebSocket,
    reconnect: false,
  });
  const d: Device = { userId, client, received: [], sent: [], notices: [], errors: [] };
  client.on('message', (m: MsgDataFrame) => {
    if (m.to_session_id === groupId && m.msg_type === MsgType.GroupText) d.received.push(m.msg_id);
  });
  client.on('group_change_member_notify', (n) => d.notices.push(n));
  client.on('error', (e) => d.errors.push(e));
  devices.push(d);
  return d;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(fn));
}

let nextMessage = 1;

/**
 * Sends `count` group messages, the senders' phones taking turns, each once the previous one's send invocation has
 * finished (so its fan-out is done). One message per turn keeps every phone far under 20 a second.
 */
async function sendRound(phones: readonly Device[], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const n = nextMessage++;
    const phone = phones[n % phones.length]!;
    const clientMsgId = `grp-${n}`;
    const finished = t.invocations.waitFor(
      (r) => r.routeKey === 'msg_data' && (r.event.body ?? '').includes(`"client_msg_id":"${clientMsgId}"`),
      15_000,
      `msg_data ${clientMsgId}`,
    );
    const ack: MsgDataAckFrame = await phone.client.send({
      to: group(groupId),
      msgData: `message ${n} from ${phone.userId}`,
      clientMsgId,
    });
    phone.sent.push(ack.msg_id);
    expect(ack).toMatchObject({ session_id: groupId, session_type: 2 });
    expect((await finished).outcome).toBe('ok');
  }
}

async function pendingDeliveries(): Promise<number> {
  const client = localDynamoClient();
  try {
    // Deliveries only: the table also holds each connection's token expiry.
    const result = await client.send(
      new ScanCommand({
        TableName: t.stack.tables.PendingDeliveries,
        ConsistentRead: true,
        Select: 'COUNT',
        FilterExpression: '#k = :delivery',
        ExpressionAttributeNames: { '#k': 'kind' },
        ExpressionAttributeValues: { ':delivery': { S: 'delivery' } },
      }),
    );
    return result.Count ?? 0;
  } finally {
    client.destroy();
  }
}

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  for (const d of devices.splice(0)) d.client.close();
  await t?.stop();
});

describe('a 50-member group through the local stack', () => {
  it(
    '10 members offline while others send: after they come back, every member holds every message once, in msg_id order',
    { timeout: 120_000 },
    async () => {
      const startedAt = Date.now();
      const mains = new Map<string, Device>();
      for (const userId of MEMBERS) mains.set(userId, await device(userId));
      const phones = await Promise.all(SENDERS.map((userId) => device(userId)));
      await inBatches([...mains.values(), ...phones], 10, (d) => d.client.connect());
      const connectedAt = Date.now();

      // The owner creates the group; every other connection of a member hears of it.
      const owner = mains.get(OWNER)!;
      const created = await owner.client.createGroup({ groupName: 'fifty', memberIds: MEMBERS.slice(1) });
      groupId = created.group_id;
      const others = devices.filter((d) => d !== owner);
      await expect
        .poll(() => others.filter((d) => d.notices.length > 0).length, { timeout: 10_000 })
        .toBe(others.length);
      for (const d of others) {
        expect(d.notices[0]).toMatchObject({ group_id: groupId, change_type: 'add' });
        expect([...d.notices[0]!.cur_user_id_list].sort()).toEqual(MEMBERS);
      }
      expect((await phones[0]!.client.groupInfo(groupId)).owner_id).toBe(OWNER);
      expect((await mains.get('m45')!.client.listGroups()).group_list).toEqual([
        { group_id: groupId, group_name: 'fifty' },
      ]);

      await sendRound(phones, BEFORE);

      // 10 members go offline; their $disconnects have finished before anything more is sent.
      const disconnectsBefore = t.invocations.all.filter((r) => r.routeKey === '$disconnect').length;
      for (const userId of OFFLINE) mains.get(userId)!.client.close();
      await expect
        .poll(() => t.invocations.all.filter((r) => r.routeKey === '$disconnect').length - disconnectsBefore, {
          timeout: 10_000,
        })
        .toBe(OFFLINE.length);

      await sendRound(phones, WHILE_OFFLINE);
      const sentAt = Date.now();
      for (const userId of OFFLINE) expect(mains.get(userId)!.received).toEqual(range(1, BEFORE));

      // They come back: the same clients connect again and catch up, while more messages arrive live.
      const synced = new Map<string, Promise<SyncResult>>();
      await inBatches(OFFLINE, 10, async (userId) => {
        const client = mains.get(userId)!.client;
        synced.set(userId, client.waitFor('synced'));
        await client.connect();
      });
      await sendRound(phones, DURING_CATCH_UP);
      const results = await Promise.all(OFFLINE.map((userId) => synced.get(userId)!));
      for (const result of results) {
        expect(result.complete).toBe(true);
        expect(result.messages).toBeGreaterThanOrEqual(WHILE_OFFLINE);
      }

      // Every main client holds 1..TOTAL exactly once, in msg_id order.
      await expect
        .poll(() => [...mains.values()].filter((d) => d.received.length < TOTAL).map((d) => d.userId), {
          timeout: 15_000,
        })
        .toEqual([]);
      for (const d of mains.values()) {
        expect(d.received, d.userId).toEqual(range(1, TOTAL));
        expect(d.client.getSyncState().latestMsgIds[`2:${groupId}`], d.userId).toBe(TOTAL);
      }
      // Each phone got the others' messages through `message` and its own as acks: together 1..TOTAL, once each.
      for (const phone of phones) {
        expect(phone.received, phone.userId).toEqual(range(1, TOTAL).filter((id) => !phone.sent.includes(id)));
        expect(
          [...phone.received, ...phone.sent].sort((a, b) => a - b),
          phone.userId,
        ).toEqual(range(1, TOTAL));
      }
      // The server agrees on the count, and every live delivery was acknowledged (session_type 2, the group id).
      expect((await owner.client.latestMsgId(group(groupId))).latest_msg_id).toBe(TOTAL);
      await expect.poll(pendingDeliveries, { timeout: 10_000 }).toBe(0);
      expect(devices.flatMap((d) => d.errors.map((e) => `${d.userId}: ${e.message}`))).toEqual([]);

      const done = Date.now();
      console.info(
        `groups e2e: connect ${connectedAt - startedAt} ms, ${BEFORE + WHILE_OFFLINE} messages ${sentAt - connectedAt} ms, ` +
          `come back + ${DURING_CATCH_UP} more ${done - sentAt} ms, total ${done - startedAt} ms`,
      );
    },
  );
});
