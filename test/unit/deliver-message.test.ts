/** deliverMessage on a real runtime over mocked DynamoDB and @connections clients. */
import './setup-env.js';
import { ForbiddenException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../core/domain/message.js';
import type { Runtime } from '../../core/runtime.js';
import { pendingHorizonMs } from '../../core/store/pending-deliveries.js';
import { deliverMessage } from '../../core/usecases/deliver-message.js';
import {
  T,
  TABLE,
  api,
  callId,
  ddb,
  gone,
  inputsOf,
  limitExceeded,
  makeRuntime,
  mockConnections,
  posts,
  resetMocks,
  throttled,
  timeline,
  timeout,
} from './helpers.js';

/** Created 50 s before "now", in an earlier minute than now: the slot must follow create_time, not the clock. */
const CREATE_TIME = Math.floor(T / 1000) - 50;
const SLOT = `${Math.floor(CREATE_TIME / 60) * 60}#0`;

const message: StoredMessage = {
  conversationId: 's#alice#bob',
  msgId: 12,
  fromUserId: 'alice',
  toSessionId: 'bob',
  msgType: 1,
  msgData: 'hi',
  createTime: CREATE_TIME,
  clientMsgId: 'c-123',
};

const expectedFrame = {
  type: 'msg_data',
  from_user_id: 'alice',
  to_session_id: 'bob',
  msg_id: 12,
  create_time: CREATE_TIME,
  msg_type: 1,
  msg_data: 'hi',
  client_msg_id: 'c-123',
};

let runtime: Runtime;

beforeEach(() => {
  resetMocks();
  mockConnections('alice', 'c-a1', 'c-a2');
  mockConnections('bob', 'c-b1', 'c-b2');
  runtime = makeRuntime();
});

/** Lets every pending promise chain run until only the held-back calls are left waiting. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

const deliver = () => deliverMessage(runtime, message, { exceptConnectionId: 'c-a1' });

describe('fan-out', () => {
  it('reads both users’ connections with strongly consistent Queries', async () => {
    await deliver();
    expect(inputsOf(QueryCommand, 'Connections')).toEqual(
      expect.arrayContaining(
        ['alice', 'bob'].map((u) => ({
          TableName: TABLE.Connections,
          KeyConditionExpression: 'user_id = :u',
          ExpressionAttributeValues: { ':u': u },
          ConsistentRead: true,
          ExclusiveStartKey: undefined,
        })),
      ),
    );
    expect(inputsOf(QueryCommand, 'Connections')).toHaveLength(2);
  });

  it('posts the msg_data frame to every connection of both users but the sending one', async () => {
    const stats = await deliver();
    expect(stats).toEqual({ delivered: 3, gone: 0, deferred: 0, offline: 0 });
    const sent = posts();
    expect(sent.map((p) => p.connectionId).sort()).toEqual(['c-a2', 'c-b1', 'c-b2']);
    for (const p of sent) expect(p.frame).toEqual(expectedFrame);
  });

  it('without an excepted connection, every connection gets it', async () => {
    await deliverMessage(runtime, message, {});
    expect(posts().map((p) => p.connectionId).sort()).toEqual(['c-a1', 'c-a2', 'c-b1', 'c-b2']);
  });

  it('records each delivery as pending (slot from create_time) before posting to it', async () => {
    await deliver();
    const puts = inputsOf(PutCommand, 'PendingDeliveries');
    expect(puts).toHaveLength(3);
    for (const [connectionId, userId] of [
      ['c-a2', 'alice'],
      ['c-b1', 'bob'],
      ['c-b2', 'bob'],
    ] as const) {
      expect(puts).toContainEqual({
        TableName: TABLE.PendingDeliveries,
        Item: {
          slot: SLOT,
          delivery_key: `${connectionId}#s#alice#bob#12`,
          connection_id: connectionId,
          user_id: userId,
          conversation_id: 's#alice#bob',
          msg_id: 12,
          create_time: CREATE_TIME,
          attempts: 1,
          next_due_at: T + 15_000,
          expires_at: CREATE_TIME + 24 * 60 * 60,
        },
      });
    }
    // Pending rows and posts are interleaved across targets; per target the put comes first.
    const order = timeline();
    const putsInOrder = ddb
      .commandCalls(PutCommand)
      .map((c) => ({ id: callId(c), connectionId: (c.args[0].input.Item as Record<string, unknown>)['connection_id'] }));
    const postsInOrder = api.commandCalls(PostToConnectionCommand).map((c) => ({ id: callId(c), connectionId: c.args[0].input.ConnectionId }));
    for (const post of postsInOrder) {
      const put = putsInOrder.find((p) => p.connectionId === post.connectionId);
      expect(put, `pending row of ${post.connectionId}`).toBeDefined();
      expect(put!.id).toBeLessThan(post.id);
    }
    expect(order.filter((s) => s.startsWith('Post:'))).toHaveLength(3);
  });

  it('posts to a target only once its pending PutItem has completed', async () => {
    let release!: () => void;
    ddb
      .on(PutCommand, { TableName: TABLE.PendingDeliveries, Item: { connection_id: 'c-b1' } })
      .callsFake(() => new Promise((resolve) => (release = () => resolve({}))));
    const delivering = deliver();
    await settle();
    expect(inputsOf(PutCommand, 'PendingDeliveries').map((p) => p.Item?.['connection_id'])).toContain('c-b1');
    expect(posts().map((p) => p.connectionId).sort()).toEqual(['c-a2', 'c-b2']);
    release();
    await expect(delivering).resolves.toEqual({ delivered: 3, gone: 0, deferred: 0, offline: 0 });
    expect(posts().map((p) => p.connectionId)).toContain('c-b1');
  });

  it('uses ACK_TIMEOUT_MS for next_due_at', async () => {
    runtime = makeRuntime({ ACK_TIMEOUT_MS: '2500' });
    await deliver();
    for (const put of inputsOf(PutCommand, 'PendingDeliveries')) expect(put.Item?.['next_due_at']).toBe(T + 2_500);
  });

  it('nobody else online: no pending row, no post; the receiver counts as offline', async () => {
    mockConnections('alice', 'c-a1');
    mockConnections('bob');
    const stats = await deliver();
    expect(stats).toEqual({ delivered: 0, gone: 0, deferred: 0, offline: 1 });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(api.calls()).toHaveLength(0);
  });

  it('a failing pending put still posts (throttled after SDK retries)', async () => {
    ddb.on(PutCommand, { TableName: TABLE.PendingDeliveries, Item: { connection_id: 'c-b1' } }).rejects(throttled());
    const stats = await deliver();
    expect(stats).toEqual({ delivered: 3, gone: 0, deferred: 0, offline: 0 });
    expect(posts().map((p) => p.connectionId)).toContain('c-b1');
  });

  it('a failing connection Query propagates (the caller logs it; the message is stored already)', async () => {
    ddb.on(QueryCommand, { TableName: TABLE.Connections, ExpressionAttributeValues: { ':u': 'bob' } }).rejects(throttled());
    await expect(deliver()).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(api.calls()).toHaveLength(0);
  });
});

describe('a gone connection (410)', () => {
  beforeEach(() => {
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b1' }).rejects(gone());
  });

  it('deletes the connection row, counts it gone, and still delivers to the others', async () => {
    const stats = await deliver();
    expect(stats).toEqual({ delivered: 2, gone: 1, deferred: 0, offline: 0 });
    expect(inputsOf(DeleteCommand, 'Connections')).toEqual([
      {
        TableName: TABLE.Connections,
        Key: { user_id: 'bob', connection_id: 'c-b1' },
        // Not a connection still opening: one that started 10 s or more before the 410.
        ConditionExpression: 'attribute_not_exists(connected_at) OR connected_at < :before',
        ExpressionAttributeValues: { ':before': T - 10_000 },
      },
    ]);
  });

  it('queries the connection’s pending rows over every slot of the horizon and deletes what it finds', async () => {
    const rows = [
      { slot: SLOT, delivery_key: 'c-b1#s#alice#bob#12' },
      { slot: SLOT, delivery_key: 'c-b1#s#alice#carol#3' },
    ];
    ddb.on(QueryCommand, { TableName: TABLE.PendingDeliveries, ExpressionAttributeValues: { ':slot': SLOT, ':conn': 'c-b1#' } }).resolves({
      Items: rows,
    });
    await deliver();

    const queries = inputsOf(QueryCommand, 'PendingDeliveries');
    // From now - horizon to a minute ahead of now, one Query per minute slot of the connection's shard.
    const horizon = pendingHorizonMs({ ackTimeoutMs: 15_000, maxDeliveryAttempts: 5, sweepIntervalMs: 60_000, shards: 1 });
    const first = Math.floor((T - horizon) / 60_000) * 60;
    const last = Math.floor((T + 60_000) / 60_000) * 60;
    const expectedSlots = Array.from({ length: (last - first) / 60 + 1 }, (_, i) => `${first + i * 60}#0`);
    expect(queries.map((q) => q.ExpressionAttributeValues?.[':slot'])).toEqual(expectedSlots);
    expect(expectedSlots).toContain(SLOT);
    for (const q of queries) {
      expect(q.KeyConditionExpression).toBe('slot = :slot AND begins_with(delivery_key, :conn)');
      expect(q.ExpressionAttributeValues?.[':conn']).toBe('c-b1#');
    }
    expect(inputsOf(BatchWriteCommand)).toEqual([
      { RequestItems: { [TABLE.PendingDeliveries]: rows.map((Key) => ({ DeleteRequest: { Key } })) } },
    ]);
    // The other connections' rows are not touched.
    expect(inputsOf(DeleteCommand, 'PendingDeliveries')).toHaveLength(0);
  });

  it('the row is removed only after the post answered 410', async () => {
    await deliver();
    const order = timeline();
    expect(order.indexOf('Delete:Connections')).toBeGreaterThan(order.indexOf('Post:c-b1'));
  });
});

describe('an unavailable gateway (after its retries)', () => {
  it('a persisting 429 is counted deferred, keeps the pending row and does not throw', async () => {
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b2' }).rejects(limitExceeded());
    const stats = await deliver();
    expect(stats).toEqual({ delivered: 2, gone: 0, deferred: 1, offline: 0 });
    expect(inputsOf(PutCommand, 'PendingDeliveries').map((p) => p.Item?.['connection_id'])).toContain('c-b2');
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('a timeout is deferred the same way', async () => {
    api.on(PostToConnectionCommand, { ConnectionId: 'c-a2' }).rejects(timeout());
    expect(await deliver()).toEqual({ delivered: 2, gone: 0, deferred: 1, offline: 0 });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('a 403 is not "gone": counted deferred, the connection row stays', async () => {
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b1' }).rejects(
      new ForbiddenException({ $metadata: { httpStatusCode: 403 }, message: 'forbidden' }),
    );
    expect(await deliver()).toEqual({ delivered: 2, gone: 0, deferred: 1, offline: 0 });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('every post failing still resolves', async () => {
    api.on(PostToConnectionCommand).rejects(limitExceeded());
    expect(await deliver()).toEqual({ delivered: 0, gone: 0, deferred: 3, offline: 0 });
    expect(inputsOf(PutCommand, 'PendingDeliveries')).toHaveLength(3);
  });
});

describe('concurrency', () => {
  it('FANOUT_CONCURRENCY=1 delivers strictly one target after the other (put, post, put, post, …)', async () => {
    runtime = makeRuntime({ FANOUT_CONCURRENCY: '1' });
    await deliver();
    const order = timeline().filter((s) => s === 'Put:PendingDeliveries' || s.startsWith('Post:'));
    expect(order.map((s) => (s.startsWith('Post:') ? 'Post' : 'Put'))).toEqual(['Put', 'Post', 'Put', 'Post', 'Put', 'Post']);
  });
});
