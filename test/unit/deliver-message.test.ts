/**
 * prepareDelivery / fanOutGroup on a real runtime over mocked DynamoDB and @connections clients: what is made durable
 * before the ack, what is posted after, and how 410s, 429s and timeouts are handled.
 */
import './setup-env.js';
import { ForbiddenException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../core/domain/message.js';
import { DEFAULTS } from '../../core/config.js';
import type { Runtime } from '../../core/runtime.js';
import { shardOf } from '../../core/store/pending-deliveries.js';
import { prepareDelivery, type DeliveryOptions } from '../../core/usecases/deliver-message.js';
import {
  T,
  TABLE,
  api,
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

/** Created 50 s before "now", in an earlier minute than now. */
const CREATE_TIME = Math.floor(T / 1000) - 50;

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

const fresh: DeliveryOptions = { exceptConnectionId: 'c-a1', mode: 'fresh' };
const deliver = async (options: DeliveryOptions = fresh, m: StoredMessage = message) =>
  (await prepareDelivery(runtime, m, options)).run();
/** The pending rows written, from BatchWriteItems and PutItems. */
function pendingRows(): Record<string, unknown>[] {
  const batched = ddb
    .commandCalls(BatchWriteCommand)
    .flatMap(
      (c) =>
        (c.args[0].input.RequestItems?.[TABLE.PendingDeliveries] ?? []) as {
          PutRequest?: { Item: Record<string, unknown> };
        }[],
    )
    .flatMap((r) => (r.PutRequest ? [r.PutRequest.Item] : []));
  return [...batched, ...inputsOf(PutCommand, 'PendingDeliveries').map((p) => p.Item as Record<string, unknown>)];
}

describe('single chat', () => {
  it('reads both users’ connections with strongly consistent Queries (a connection made before the store is seen)', async () => {
    await deliver();
    expect(
      inputsOf(QueryCommand, 'Connections')
        .map((q) => [q.ExpressionAttributeValues?.[':u'], q.ConsistentRead])
        .sort(),
    ).toEqual([
      ['alice', true],
      ['bob', true],
    ]);
  });

  it('records every delivery as pending in one BatchWriteItem before the ack, and posts only when run', async () => {
    const prepared = await prepareDelivery(runtime, message, fresh);
    expect(timeline()).toEqual(['Query:Connections', 'Query:Connections', 'BatchWrite']);
    expect(
      pendingRows()
        .map((r) => r['connection_id'])
        .sort(),
    ).toEqual(['c-a2', 'c-b1', 'c-b2']);
    expect(posts()).toEqual([]);

    expect(await prepared.run()).toEqual({ delivered: 3, gone: 0, deferred: 0, offline: 0, complete: true });
    expect(
      posts()
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['c-a2', 'c-b1', 'c-b2']);
    for (const p of posts()) expect(p.frame).toEqual(expectedFrame);
  });

  it('a delivery made at once lives in its message’s minute; one made a minute or more later, in its own', async () => {
    await deliver();
    const minute = (seconds: number) => Math.floor(seconds / 60) * 60;
    expect(pendingRows().map((r) => r['slot'])).toEqual(
      pendingRows().map(
        (r) => `${minute(CREATE_TIME)}#${shardOf(r['connection_id'] as string, DEFAULTS.pendingShards)}`,
      ),
    );
    resetMocks();
    mockConnections('bob', 'c-b1');
    await deliver(fresh, { ...message, createTime: CREATE_TIME - 600 });
    expect(pendingRows().map((r) => r['slot'])).toEqual([
      `${minute(T / 1000)}#${shardOf('c-b1', DEFAULTS.pendingShards)}`,
    ]);
    expect(pendingRows()[0]).toMatchObject({
      attempts: 1,
      next_due_at: T + 15_000,
      expires_at: Math.floor(T / 1000) + 86_400,
    });
  });

  it('a resumed delivery (a resend) puts each row only where none is, and posts to every target', async () => {
    await deliver({ exceptConnectionId: 'c-a1', mode: 'resume' });
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(
      inputsOf(PutCommand, 'PendingDeliveries').every((p) => p.ConditionExpression === 'attribute_not_exists(slot)'),
    ).toBe(true);
    expect(posts()).toHaveLength(3);
  });

  it('nobody else online: no pending row, no post; the receiver is announced offline once', async () => {
    resetMocks();
    const stats = await deliver();
    expect(stats).toMatchObject({ delivered: 0, offline: 1 });
    expect(pendingRows()).toEqual([]);
    expect(posts()).toEqual([]);
  });

  it('a failing pending write fails the preparation: the sender gets no ack and resends', async () => {
    ddb.on(BatchWriteCommand).rejects(throttled());
    await expect(prepareDelivery(runtime, message, fresh)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(posts()).toEqual([]);
  });
});

describe('posting', () => {
  it('a 410 drops that connection after the post answered, and the others are still delivered', async () => {
    runtime = makeRuntime({ CONNECTING_GRACE_MS: '0' });
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b1' }).rejects(gone());
    const stats = await deliver();
    expect(stats).toMatchObject({ delivered: 2, gone: 1 });
    expect(inputsOf(DeleteCommand, 'Connections').map((d) => d.Key)).toEqual([
      { user_id: 'bob', connection_id: 'c-b1' },
    ]);
    const order = timeline();
    expect(order.indexOf('Post:c-b1')).toBeLessThan(order.indexOf('Delete:Connections'));
  });

  it.each([
    ['a persisting 429', limitExceeded],
    ['a timeout', timeout],
  ])('%s is counted deferred, keeps the pending row and resolves', async (_name, error) => {
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b2' }).rejects(error());
    expect(await deliver()).toMatchObject({ delivered: 2, deferred: 1 });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('a 403 is not "gone": counted deferred, the connection row stays', async () => {
    api
      .on(PostToConnectionCommand, { ConnectionId: 'c-b1' })
      .rejects(new ForbiddenException({ $metadata: { httpStatusCode: 403 }, message: 'forbidden' }));
    expect(await deliver()).toMatchObject({ deferred: 1, gone: 0 });
    expect(inputsOf(DeleteCommand, 'Connections')).toEqual([]);
  });

  it('FANOUT_CONCURRENCY=1 posts strictly one target after the other', async () => {
    runtime = makeRuntime({ FANOUT_CONCURRENCY: '1' });
    let inFlight = 0;
    let most = 0;
    api.on(PostToConnectionCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return {};
    });
    await deliver();
    expect(most).toBe(1);
  });
});

describe('group fan-out', () => {
  const GROUP = 'g:AAAAAAAAAAAAAAAAAAAAAA';
  const groupMessage: StoredMessage = { ...message, conversationId: `g#${GROUP}`, toSessionId: GROUP, msgType: 17 };

  beforeEach(() => {
    ddb
      .on(QueryCommand, { TableName: TABLE.GroupMembers })
      .resolves({ Items: [{ user_id: 'alice' }, { user_id: 'bob' }, { user_id: 'carol' }] });
    ddb.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE.Presence]: [
          { user_id: 'alice', connection_ids: new Set(['c-a1', 'c-a2']) },
          { user_id: 'bob', connection_ids: new Set(['c-b1']) },
        ],
      },
    });
    ddb
      .on(GetCommand, { TableName: TABLE.Conversations })
      .resolves({ Item: { conversation_id: `g#${GROUP}`, indexed_day: 99_999 } });
  });

  it('records a fan-out marker before the ack; the fan-out posts to members’ connections and removes the marker last', async () => {
    const prepared = await prepareDelivery(runtime, groupMessage, fresh);
    expect(timeline()).toEqual(['Put:PendingDeliveries']);
    expect(inputsOf(PutCommand, 'PendingDeliveries')[0]?.Item).toMatchObject({
      kind: 'fanout',
      msg_id: 12,
      except_connection_id: 'c-a1',
    });
    const stats = await prepared.run();
    expect(stats).toMatchObject({ delivered: 2, offline: 1, complete: true });
    expect(
      posts()
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['c-a2', 'c-b1']);
    expect(timeline().at(-1)).toBe('Delete:PendingDeliveries');
  });

  it('stops between chunks when the time is up and leaves the marker for the sweeper', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ user_id: `m${i}`, connection_ids: new Set([`c-m${i}`]) }));
    ddb
      .on(QueryCommand, { TableName: TABLE.GroupMembers })
      .resolves({ Items: many.map((m) => ({ user_id: m.user_id })) });
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE.Presence]: many } });
    const stats = await deliver({ mode: 'fresh', deadline: T - 1, indexedDay: 99_999 }, groupMessage);
    expect(stats.complete).toBe(false);
    expect(posts()).toHaveLength(25);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });
});
