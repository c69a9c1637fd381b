/** sweep on a real runtime over mocked DynamoDB and @connections clients: which slots it reads and what it does per row. */
import './setup-env.js';
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { UndeliveredMessageDetail } from '../../core/domain/push.js';
import type { Runtime } from '../../core/runtime.js';
import { pendingHorizonMs } from '../../core/store/pending-deliveries.js';
import { sweep } from '../../core/usecases/sweep.js';
import {
  T,
  TABLE,
  api,
  conditionFailed,
  ddb,
  gone,
  inputsOf,
  limitExceeded,
  makeRuntime,
  posts,
  resetMocks,
  timeline,
  timeout,
} from './helpers.js';

/** A message created 40 s before now (not on a minute boundary): its rows live in that minute's slot. */
const CREATE_TIME = Math.floor(T / 1000) - 40;
const SLOT = `${Math.floor(CREATE_TIME / 60) * 60}#0`;

const DEFAULTS = { ackTimeoutMs: 15_000, maxDeliveryAttempts: 5, sweepIntervalMs: 60_000 };

function messageItem(msgId: number): Record<string, unknown> {
  return {
    conversation_id: 's#alice#bob',
    msg_id: msgId,
    from_user_id: 'alice',
    to_session_id: 'bob',
    msg_type: 1,
    msg_data: `text ${msgId}`,
    create_time: CREATE_TIME,
    client_msg_id: `c-${msgId}`,
  };
}

function pendingRow(connectionId: string, msgId: number, attempts: number, userId = 'bob'): Record<string, unknown> {
  return {
    slot: SLOT,
    delivery_key: `${connectionId}#s#alice#bob#${msgId}`,
    connection_id: connectionId,
    user_id: userId,
    conversation_id: 's#alice#bob',
    msg_id: msgId,
    create_time: CREATE_TIME,
    attempts,
    slot_time: CREATE_TIME,
    next_due_at: T - 1_000,
    expires_at: CREATE_TIME + 86_400,
  };
}

/** The overdue Query of SLOT returns these rows; every other slot is empty. */
function mockOverdue(...rows: Record<string, unknown>[]): void {
  ddb
    .on(QueryCommand, { TableName: TABLE.PendingDeliveries, ExpressionAttributeValues: { ':slot': SLOT, ':now': T } })
    .resolves({ Items: rows });
}

function mockMessages(...msgIds: number[]): void {
  ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE.Messages]: msgIds.map(messageItem) }, UnprocessedKeys: {} });
}

/** Slot starts (unix seconds) of the sweep window, computed here from the horizon, not by the module. */
function expectedSweepSlots(
  options: { ackTimeoutMs: number; maxDeliveryAttempts: number; sweepIntervalMs: number; shards: number },
  now = T,
): string[] {
  const from = Math.floor((now - pendingHorizonMs(options)) / 60_000) * 60;
  const to = Math.floor(now / 60_000) * 60;
  const slots: string[] = [];
  for (let s = from; s <= to; s += 60) for (let shard = 0; shard < options.shards; shard++) slots.push(`${s}#${shard}`);
  return slots;
}

const overdueQueries = () =>
  inputsOf(QueryCommand, 'PendingDeliveries').filter((q) => q.FilterExpression !== undefined);

let runtime: Runtime;

beforeEach(() => {
  resetMocks();
  runtime = makeRuntime();
});

describe('idle sweep', () => {
  it('no due rows: one Query per slot of the horizon × shard, up to now, and nothing else', async () => {
    runtime = makeRuntime({ PENDING_SHARDS: '2' });
    expect(await sweep(runtime)).toMatchObject({ due: 0, complete: true });
    expect(overdueQueries().map((q) => q.ExpressionAttributeValues?.[':slot'])).toEqual(
      expectedSweepSlots({ ...DEFAULTS, shards: 2 }),
    );
    expect(timeline()).toEqual([
      'Scan:PendingDeliveries',
      ...expectedSweepSlots({ ...DEFAULTS, shards: 2 }).map(() => 'Query:PendingDeliveries'),
    ]);
  });

  it('an empty table (an idle deployment): one strongly consistent Scan of one item, and no Query', async () => {
    ddb.on(ScanCommand).resolves({ Items: [] });
    expect(await sweep(runtime)).toMatchObject({ due: 0, complete: true });
    expect(timeline()).toEqual(['Scan:PendingDeliveries']);
    expect(ddb.commandCalls(ScanCommand)[0]?.args[0].input).toMatchObject({ Limit: 1, ConsistentRead: true });
  });

  it('reads a slot a page at a time, following LastEvaluatedKey', async () => {
    ddb
      .on(QueryCommand, { TableName: TABLE.PendingDeliveries, ExpressionAttributeValues: { ':slot': SLOT, ':now': T } })
      .resolvesOnce({ Items: [pendingRow('c-b1', 1, 1)], LastEvaluatedKey: { slot: SLOT, delivery_key: 'x' } })
      .resolves({ Items: [pendingRow('c-b2', 1, 1)] });
    mockMessages(1);
    expect(await sweep(runtime, { pageSize: 1 })).toMatchObject({ due: 2, redelivered: 2 });
  });
});

describe('redelivery', () => {
  it('posts the same msg_data frame to the same connection, then records attempts + 1', async () => {
    mockOverdue(pendingRow('c-b1', 7, 2));
    mockMessages(7);
    expect(await sweep(runtime)).toMatchObject({ due: 1, redelivered: 1 });
    expect(posts()).toEqual([
      {
        connectionId: 'c-b1',
        frame: {
          type: 'msg_data',
          from_user_id: 'alice',
          to_session_id: 'bob',
          msg_id: 7,
          create_time: CREATE_TIME,
          msg_type: 1,
          msg_data: 'text 7',
          client_msg_id: 'c-7',
        },
      },
    ]);
    const [update] = inputsOf(UpdateCommand, 'PendingDeliveries');
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':attempts': 3, ':due': T + 15_000 });
    expect(timeline().indexOf('Post:c-b1')).toBeLessThan(timeline().indexOf('Update:PendingDeliveries'));
  });

  it('reads each message once even when several connections are due for it', async () => {
    mockOverdue(pendingRow('c-b1', 1, 1), pendingRow('c-b2', 1, 1), pendingRow('c-a2', 1, 1, 'alice'));
    mockMessages(1);
    await sweep(runtime);
    const reads = inputsOf(BatchGetCommand as never) as { RequestItems: Record<string, unknown> }[];
    const messageReads = reads.filter((r) => TABLE.Messages in r.RequestItems);
    expect(messageReads).toHaveLength(1);
  });

  it('a row acked meanwhile (recordAttempt condition failed) is not recreated nor counted as a redelivery', async () => {
    mockOverdue(pendingRow('c-b1', 1, 1));
    mockMessages(1);
    ddb.on(UpdateCommand, { TableName: TABLE.PendingDeliveries }).rejects(conditionFailed());
    expect(await sweep(runtime)).toMatchObject({ redelivered: 0, ackedMeanwhile: 1, failed: 0 });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('giving up', () => {
  const published: UndeliveredMessageDetail[] = [];
  beforeEach(() => {
    published.length = 0;
    runtime = {
      ...makeRuntime({ MAX_DELIVERY_ATTEMPTS: '2' }),
      events: { publishUndelivered: async (d) => void published.push(...d) },
    };
  });

  it('a row at the attempt bound gets no post: its push event is published, then the row is removed', async () => {
    mockOverdue(pendingRow('c-b1', 1, 2), pendingRow('c-b2', 2, 1));
    mockMessages(1, 2);
    expect(await sweep(runtime)).toMatchObject({ due: 2, gaveUp: 1, redelivered: 1 });
    expect(posts().map((p) => [p.connectionId, (p.frame as { msg_id?: number }).msg_id])).toEqual([['c-b2', 2]]);
    expect(published).toEqual([expect.objectContaining({ reason: 'gave_up', receivers: ['bob'], msg_id: 1 })]);
    expect(inputsOf(DeleteCommand, 'PendingDeliveries').map((d) => d.Key?.['delivery_key'])).toEqual([
      'c-b1#s#alice#bob#1',
    ]);
  });

  it('a row whose message is gone (retention) is removed without a post or an event', async () => {
    mockOverdue(pendingRow('c-b1', 9, 1));
    mockMessages();
    expect(await sweep(runtime)).toMatchObject({ gaveUp: 1 });
    expect(posts()).toEqual([]);
    expect(published).toEqual([]);
  });

  it('the sender’s own devices giving up produce no push event', async () => {
    mockOverdue(pendingRow('c-a2', 1, 2, 'alice'));
    mockMessages(1);
    expect(await sweep(runtime)).toMatchObject({ gaveUp: 1 });
    expect(published).toEqual([]);
  });
});

describe('gone connections and an unavailable gateway', () => {
  it('a gone connection with several due rows is posted to once and dropped once; others are still redelivered', async () => {
    runtime = makeRuntime({ CONNECTING_GRACE_MS: '0' });
    mockOverdue(pendingRow('c-b1', 1, 1), pendingRow('c-b1', 2, 1), pendingRow('c-b2', 1, 1));
    mockMessages(1, 2);
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b1' }).rejects(gone());
    expect(await sweep(runtime)).toMatchObject({ gone: 1, redelivered: 1 });
    // One post to c-b1 (answered 410), none for its second row, one to c-b2.
    expect(
      posts()
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['c-b1', 'c-b2']);
    expect(inputsOf(DeleteCommand, 'Connections')).toHaveLength(1);
  });

  it.each([
    ['a persisting 429', limitExceeded],
    ['a timeout', timeout],
  ])('%s leaves the row untouched for the next sweep', async (_name, error) => {
    mockOverdue(pendingRow('c-b1', 1, 1));
    mockMessages(1);
    api.on(PostToConnectionCommand).rejects(error());
    expect(await sweep(runtime)).toMatchObject({ deferred: 1, redelivered: 0, failed: 0 });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});
