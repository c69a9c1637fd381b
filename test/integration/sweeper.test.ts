/**
 * The sweeper under a backlog and faults, on DynamoDB Local: paged work within a time budget
 * that leaves the rest to the next run, every row handled on its own, give-up events never lost, counts that are true;
 * and the kinds of due rows besides deliveries: interrupted group fan-outs, expired tokens.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { EventsUnavailableError } from '../../core/errors.js';
import type { DueItem, PendingDelivery } from '../../core/domain/pending-delivery.js';
import type { PendingStore } from '../../core/ports/stores.js';
import { DYNAMODB_ENDPOINT_ENV } from '../../core/compose/adapters.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { tableEnv } from '../../core/store/create-tables.js';
import { shardOf } from '../../core/store/pending-deliveries.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { registerConnection } from '../../core/usecases/connections.js';
import { FANOUT_DEADLINE_MS } from '../../core/usecases/deliver-message.js';
import { sendMessage } from '../../core/usecases/send-message.js';
import { sweep } from '../../core/usecases/sweep.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import { createTestRuntime, msgData, sendAndDeliver, type TestRuntime } from '../support/runtime.js';

let t: TestRuntime;
const ACK_TIMEOUT_MS = 15_000;
/** 10,000 in the deep run (`npm run test:deep`); a tenth of that in `npm test`, which must stay quick on 2 cores. */
const BACKLOG_ROWS = process.env['TEST_DEEP'] ? 10_000 : 1_000;

beforeEach(async () => {
  t = await createTestRuntime({ ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), MAX_DELIVERY_ATTEMPTS: '3' });
});

/** n overdue deliveries of alice's message 1 to n connections of bob. */
async function backlog(n: number, attempts = 1): Promise<PendingDelivery[]> {
  const { message } = await sendAndDeliver(t.runtime, {
    userId: 'alice',
    connectionId: 'a1',
    body: msgData({ to_session_id: 'bob' }),
  });
  const now = t.clock.now();
  const rows = Array.from(
    { length: n },
    (_, i): PendingDelivery => ({
      kind: 'delivery',
      connectionId: `conn-${String(i).padStart(5, '0')}`,
      userId: 'bob',
      conversationId: message.conversationId,
      msgId: message.msgId,
      createTime: message.createTime,
      slotTime: message.createTime,
      attempts,
      nextDueAt: now,
    }),
  );
  await t.runtime.pending.putMany(rows);
  return rows;
}

/** The runtime with a pending store whose listDue advances the clock one second per page: a deterministic budget. */
function pagesTakeASecond(): Runtime {
  const pending = t.runtime.pending;
  const ticking: PendingStore = Object.assign(Object.create(pending) as PendingStore, {
    listDue: async function* (now: number, pageSize: number) {
      for await (const page of pending.listDue(now, pageSize)) {
        yield page;
        t.clock.advance(1000);
      }
    },
  });
  return { ...t.runtime, pending: ticking };
}

describe('the sweeper under a backlog', () => {
  it(`works off ${BACKLOG_ROWS} overdue rows in runs bounded by a time budget, losing none and counting each once`, async () => {
    // A long ack timeout: rows redelivered in one run are not due again in the next (the clock moves a second a page).
    t = await createTestRuntime({ ACK_TIMEOUT_MS: String(3_600_000), MAX_DELIVERY_ATTEMPTS: '3' });
    await backlog(BACKLOG_ROWS);
    const runtime = pagesTakeASecond();
    let runs = 0;
    let redelivered = 0;
    let complete = false;
    while (!complete) {
      const stats = await sweep(runtime, { deadline: t.clock.now() + 5_500 });
      runs++;
      redelivered += stats.redelivered;
      complete = stats.complete;
      expect(stats.failed).toBe(0);
      expect(stats.due).toBeLessThanOrEqual(600);
    }
    expect(runs).toBeGreaterThanOrEqual(Math.ceil(BACKLOG_ROWS / 600));
    expect(redelivered).toBe(BACKLOG_ROWS);
    const rows = (await t.items('PendingDeliveries')).filter((r) => String(r['connection_id']).startsWith('conn-'));
    expect(rows).toHaveLength(BACKLOG_ROWS);
    expect(rows.every((r) => r['attempts'] === 2)).toBe(true);
  }, 600_000);

  it('one failing row does not stop the sweep: the others are handled and the row stays for the next run', async () => {
    const rows = await backlog(5);
    const failing = rows[2]!.connectionId;
    const gateway = t.runtime.gateway;
    const runtime: Runtime = {
      ...t.runtime,
      gateway: {
        post: async (id, frame) => {
          if (id === failing) throw new Error('unexpected failure');
          return gateway.post(id, frame);
        },
        disconnect: (id) => gateway.disconnect(id),
      },
    };
    const stats = await sweep(runtime);
    expect(stats).toMatchObject({ due: 5, redelivered: 4, failed: 1 });
    const left = (await t.items('PendingDeliveries')).find((r) => r['connection_id'] === failing);
    expect(left).toMatchObject({ attempts: 1 });
  });

  it('give-up events are published before the rows go; when publishing fails the rows stay for the next sweep', async () => {
    await backlog(3, 3);
    const failing: Runtime = {
      ...t.runtime,
      events: { publishUndelivered: async () => Promise.reject(new EventsUnavailableError('down')) },
    };
    expect(await sweep(failing)).toMatchObject({ due: 3, gaveUp: 0 });
    expect(
      (await t.items('PendingDeliveries')).filter((r) => String(r['connection_id']).startsWith('conn-')),
    ).toHaveLength(3);
    expect(await sweep(t.runtime)).toMatchObject({ due: 3, gaveUp: 3 });
    expect(t.events.events.filter((e) => e.reason === 'gave_up')).toEqual([
      expect.objectContaining({ receivers: ['bob'], msg_id: 1 }),
    ]);
    expect((await t.items('PendingDeliveries')).filter((r) => String(r['connection_id']).startsWith('conn-'))).toEqual(
      [],
    );
  });

  it('a throttled give-up delete fails only its row; the sweep resolves and the next one removes it', async () => {
    const rows = await backlog(3, 3);
    const pending = t.runtime.pending;
    const flaky: PendingStore = Object.assign(Object.create(pending) as PendingStore, {
      remove: async (item: DueItem) => {
        if (item.kind === 'delivery' && item.connectionId === rows[0]!.connectionId)
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        return pending.remove(item);
      },
    });
    await expect(sweep({ ...t.runtime, pending: flaky })).resolves.toMatchObject({ gaveUp: 2, failed: 1 });
    expect(await sweep(t.runtime)).toMatchObject({ gaveUp: 1, failed: 0 });
  });

  it('a redelivery whose row was acked meanwhile is not counted as a redelivery', async () => {
    const [row] = await backlog(1);
    const gateway = t.runtime.gateway;
    const runtime: Runtime = {
      ...t.runtime,
      gateway: {
        // The client acks the moment the frame arrives, before the sweeper counts the attempt.
        post: async (id, frame) => {
          const result = await gateway.post(id, frame);
          await t.runtime.pending.delete({ ...row!, createTime: row!.createTime });
          return result;
        },
        disconnect: (id) => gateway.disconnect(id),
      },
    };
    expect(await sweep(runtime)).toMatchObject({ due: 1, redelivered: 0, ackedMeanwhile: 1 });
  });
});

describe('pendingShards changed on a live stack', () => {
  /** The pending store of a stack on the same tables with `shards` partitions per slot. */
  const pendingWith = (shards: number) =>
    createRuntime({
      ...tableEnv(t.tables.names),
      [DYNAMODB_ENDPOINT_ENV]: t.tables.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
      PENDING_SHARDS: String(shards),
    }).pending;

  it('a delivery recorded under the old shard count is redelivered, counted, and removed by its ack', async () => {
    const [written] = await backlog(1);
    await t.runtime.pending.remove(written!);
    const row = { ...written!, connectionId: 'conn-moved' };
    // Written by a stack with 1 shard; read by one with 4, under which this connection hashes to another shard.
    expect(shardOf(row.connectionId, 4)).not.toBe(0);
    await pendingWith(1).putMany([row]);
    const resharded: Runtime = { ...t.runtime, pending: pendingWith(4) };
    expect(await sweep(resharded)).toMatchObject({ due: 1, redelivered: 1, ackedMeanwhile: 0 });
    expect(t.gateway.framesTo('conn-moved')).toHaveLength(1);
    const ack = JSON.stringify({ action: 'msg_data_ack', msg_id: row.msgId, session_id: 'alice', session_type: 1 });
    expect(await ackDelivery(resharded, { connectionId: 'conn-moved', userId: 'bob', body: ack })).toMatchObject([
      { connectionId: 'conn-moved', msgId: row.msgId },
    ]);
    expect(await t.items('PendingDeliveries')).toEqual([]);
  });
});

describe('a group fan-out cut short', () => {
  it('leaves its marker, and the sweeper resumes it: every member connection gets the message', async () => {
    t = await createTestRuntime({
      ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
      MAX_GROUP_MEMBERS: '100',
      WRITE_RATE_LIMIT_PER_SECOND: '100',
    });
    const members = Array.from({ length: 60 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    for (const m of members) await registerConnection(t.runtime, { userId: m, connectionId: `${m}-c` });
    await createGroupsHandler(t.runtime)({
      body: JSON.stringify({ action: 'group_create', group_name: 'big', member_ids: members }),
      requestContext: {
        connectionId: 'm00-c',
        routeKey: 'group_create',
        eventType: 'MESSAGE',
        authorizer: { userId: 'm00' },
      },
    } as unknown as WebSocketEvent);
    const groupId = (t.gateway.framesTo('m00-c').at(-1) as unknown as { group_id: string }).group_id;
    t.gateway.posts.length = 0;

    // The Lambda's time is up: the fan-out makes its first chunk of 25 targets and stops.
    const sent = await sendMessage(t.runtime, {
      userId: 'm00',
      connectionId: 'm00-c',
      body: msgData({ to_session_id: groupId, msg_type: 17 }),
      deadline: t.clock.now() - 1,
    });
    const stats = await sent.deliver();
    expect(stats.complete).toBe(false);
    expect(new Set(t.gateway.posts.map((p) => p.connectionId)).size).toBe(25);

    t.clock.advance(FANOUT_DEADLINE_MS);
    expect(await sweep(t.runtime)).toMatchObject({ fanoutsResumed: 1, failed: 0 });
    const reached = new Set(t.gateway.posts.filter((p) => p.frame.type === 'msg_data').map((p) => p.connectionId));
    expect(reached).toEqual(new Set(members.filter((m) => m !== 'm00').map((m) => `${m}-c`)));
    // The marker is gone; each member connection has its pending delivery.
    const rows = await t.items('PendingDeliveries');
    expect(rows.filter((r) => r['kind'] === 'fanout')).toEqual([]);
    expect(rows.filter((r) => r['kind'] === 'delivery')).toHaveLength(59);
  });
});

describe('a connection does not outlive its token', () => {
  it('the connection is kicked (token_expired) and closed within a sweep after its token expires', async () => {
    const expiresAt = Math.floor(t.clock.now() / 1000) + 600;
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1', tokenExpiresAt: expiresAt });
    expect(await sweep(t.runtime)).toMatchObject({ expired: 0 });
    t.clock.ms = expiresAt * 1000;
    expect(await sweep(t.runtime)).toMatchObject({ expired: 1 });
    expect(t.gateway.framesTo('b1')).toEqual([{ type: 'kick', reason: 'token_expired' }]);
    expect(t.gateway.disconnected).toEqual(['b1']);
    expect(await t.items('Connections')).toEqual([]);
    expect(await t.items('PendingDeliveries')).toEqual([]);
  });

  it('a connection that closed before its token expired leaves nothing due', async () => {
    const expiresAt = Math.floor(t.clock.now() / 1000) + 600;
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1', tokenExpiresAt: expiresAt });
    const { dropConnection } = await import('../../core/usecases/connections.js');
    await dropConnection(t.runtime, { userId: 'bob', connectionId: 'b1', tokenExpiresAt: expiresAt });
    expect(await t.items('PendingDeliveries')).toEqual([]);
  });
});
