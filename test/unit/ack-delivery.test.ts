/** ackDelivery on a real runtime over a mocked DocumentClient: validation and the exact DeleteItem key. */
import './setup-env.js';
import { BatchGetCommand, DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../core/config.js';
import { FrameError } from '../../core/errors.js';
import type { Runtime } from '../../core/runtime.js';
import { shardOf } from '../../core/store/pending-deliveries.js';
import { ackDelivery } from '../../core/usecases/ack-delivery.js';
import { TABLE, ddb, inputsOf, makeRuntime, resetMocks, throttled, timeline } from './helpers.js';

/** A create_time well before "now" and not on a minute boundary: 2026-11-27 11:58:37 UTC. */
const CREATE_TIME = Date.UTC(2026, 10, 27, 11, 58, 37) / 1000;
const SLOT_START = Date.UTC(2026, 10, 27, 11, 58, 0) / 1000;

const messageItem = {
  conversation_id: 's#alice#bob',
  msg_id: 12,
  from_user_id: 'alice',
  to_session_id: 'bob',
  msg_type: 1,
  msg_data: 'hi',
  create_time: CREATE_TIME,
};

const ack = (fields: Record<string, unknown>): string =>
  JSON.stringify({ action: 'msg_data_ack', msg_id: 12, session_id: 'alice', session_type: 1, ...fields });

let runtime: Runtime;

beforeEach(() => {
  resetMocks();
  runtime = makeRuntime();
});

const run = (body: string | undefined, connectionId = 'c-b1', userId = 'bob') =>
  ackDelivery(runtime, { connectionId, userId, body });

describe('malformed acks', () => {
  const cases: [string, string | undefined][] = [
    ['not JSON', '{msg_id: 12}'],
    ['no body', undefined],
    ['a JSON array', '[]'],
    ['a missing msg_id', ack({ msg_id: undefined })],
    ['msg_id 0', ack({ msg_id: 0 })],
    ['a negative msg_id', ack({ msg_id: -1 })],
    ['a fractional msg_id', ack({ msg_id: 1.5 })],
    ['a string msg_id', ack({ msg_id: '12' })],
    ['an unsafe integer msg_id', ack({ msg_id: 2 ** 53 })],
    ['a missing session_id', ack({ session_id: undefined })],
    ['a numeric session_id', ack({ session_id: 7 })],
    ['a session_id with #', ack({ session_id: 'alice#x' })],
    ['a missing session_type', ack({ session_type: undefined })],
    ['session_type 3', ack({ session_type: 3 })],
    ['a string session_type', ack({ session_type: '1' })],
    ['both msg_id and msg_ids', ack({ msg_ids: [12] })],
    ['an empty msg_ids', ack({ msg_id: undefined, msg_ids: [] })],
    ['101 msg_ids', ack({ msg_id: undefined, msg_ids: Array.from({ length: 101 }, (_, i) => i + 1) })],
    ['a msg_ids with a fraction', ack({ msg_id: undefined, msg_ids: [1, 2.5] })],
  ];

  it.each(cases)('%s → bad_request, no read, no delete', async (_name, body) => {
    const error = await run(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameError);
    expect((error as FrameError).code).toBe('bad_request');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('removing the pending delivery', () => {
  beforeEach(() => {
    ddb.on(GetCommand, { TableName: TABLE.Messages }).resolves({ Item: messageItem });
    ddb.on(DeleteCommand, { TableName: TABLE.PendingDeliveries }).resolves({ Attributes: { slot: 'x' } });
  });

  it('reads the message of the caller’s conversation with the peer', async () => {
    await run(ack({}));
    expect(inputsOf(GetCommand)).toEqual([
      { TableName: TABLE.Messages, Key: { conversation_id: 's#alice#bob', msg_id: 12 } },
    ]);
  });

  it('deletes the caller’s own row: slot from the message’s create_time, key from the caller’s connection', async () => {
    await run(ack({}));
    expect(inputsOf(DeleteCommand)).toEqual([
      {
        TableName: TABLE.PendingDeliveries,
        Key: { slot: `${SLOT_START}#0`, delivery_key: 'c-b1#s#alice#bob#12' },
        ReturnValues: 'ALL_OLD',
      },
    ]);
    expect(timeline()).toEqual(['Get:Messages', 'Delete:PendingDeliveries']);
  });

  it('the slot does not depend on the clock', async () => {
    runtime = makeRuntime({}, CREATE_TIME * 1000 + 10 * 60_000);
    await run(ack({}));
    expect(inputsOf(DeleteCommand)[0]?.Key?.['slot']).toBe(`${SLOT_START}#0`);
  });

  it('the sender acking from another connection deletes that connection’s row, same conversation', async () => {
    await run(ack({ session_id: 'bob' }), 'c-a2', 'alice');
    expect(inputsOf(GetCommand)[0]?.Key).toEqual({ conversation_id: 's#alice#bob', msg_id: 12 });
    expect(inputsOf(DeleteCommand)[0]?.Key).toEqual({
      slot: `${SLOT_START}#${shardOf('c-a2', DEFAULTS.pendingShards)}`,
      delivery_key: 'c-a2#s#alice#bob#12',
    });
  });

  it('with PENDING_SHARDS the slot carries the connection’s shard', async () => {
    runtime = makeRuntime({ PENDING_SHARDS: '8' });
    await run(ack({}));
    const shard = shardOf('c-b1', 8);
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(shard).toBeLessThan(8);
    expect(inputsOf(DeleteCommand)[0]?.Key).toEqual({
      slot: `${SLOT_START}#${shard}`,
      delivery_key: 'c-b1#s#alice#bob#12',
    });
  });

  it('answers nothing removed when no row was there (already acked or swept), without searching', async () => {
    ddb.on(DeleteCommand, { TableName: TABLE.PendingDeliveries }).resolves({});
    await expect(run(ack({}))).resolves.toEqual([]);
    expect(inputsOf(QueryCommand, 'PendingDeliveries')).toEqual([]);
  });

  it('a late delivery’s pointer leads to its row: two DeleteItems, no search', async () => {
    ddb
      .on(DeleteCommand, { TableName: TABLE.PendingDeliveries })
      .resolvesOnce({ Attributes: { slot: 'old', moved_to_slot: 'late#0' } })
      .resolves({ Attributes: { slot: 'late#0', kind: 'delivery' } });
    await expect(run(ack({}))).resolves.toHaveLength(1);
    expect(inputsOf(DeleteCommand).map((d) => d.Key?.['slot'])).toEqual([`${SLOT_START}#0`, 'late#0']);
  });

  it('a bulk ack reads the messages in one BatchGetItem and removes each of the caller’s rows', async () => {
    ddb.on(BatchGetCommand).resolves({
      Responses: { [TABLE.Messages]: [12, 13, 14].map((msg_id) => ({ ...messageItem, msg_id })) },
    });
    const removed = await run(ack({ msg_id: undefined, msg_ids: [12, 13, 14, 13] }));
    expect(removed).toHaveLength(3);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(
      inputsOf(DeleteCommand)
        .map((d) => d.Key?.['delivery_key'])
        .sort(),
    ).toEqual(['c-b1#s#alice#bob#12', 'c-b1#s#alice#bob#13', 'c-b1#s#alice#bob#14']);
  });

  it('a message too fresh for the eventually consistent read is found with a strongly consistent one', async () => {
    ddb.on(GetCommand, { TableName: TABLE.Messages }).resolves({});
    ddb.on(GetCommand, { TableName: TABLE.Messages, ConsistentRead: true }).resolves({ Item: messageItem });
    await expect(run(ack({}))).resolves.toHaveLength(1);
    const gets = inputsOf(GetCommand);
    expect(gets).toHaveLength(2);
    expect(gets[0]?.ConsistentRead).toBeUndefined();
    expect(gets[1]).toEqual({
      TableName: TABLE.Messages,
      Key: { conversation_id: 's#alice#bob', msg_id: 12 },
      ConsistentRead: true,
    });
    expect(inputsOf(DeleteCommand)).toHaveLength(1);
  });

  it('a failing delete propagates', async () => {
    ddb.on(DeleteCommand, { TableName: TABLE.PendingDeliveries }).rejects(throttled());
    await expect(run(ack({}))).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });
});

describe('nothing to remove', () => {
  it('an unknown message: both reads miss, no delete', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(run(ack({ msg_id: 999 }))).resolves.toEqual([]);
    expect(inputsOf(GetCommand)).toHaveLength(2);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('session_type 2 looks the message up in the group conversation g#<group id>', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(run(ack({ session_type: 2, session_id: 'g:AAAAAAAAAAAAAAAAAAAAAA' }))).resolves.toEqual([]);
    expect(inputsOf(GetCommand)[0]?.Key).toEqual({ conversation_id: 'g#g:AAAAAAAAAAAAAAAAAAAAAA', msg_id: 12 });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('an ack naming oneself as the peer finds no message (s#bob#bob) and deletes nothing', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(run(ack({ session_id: 'bob' }))).resolves.toEqual([]);
    expect(inputsOf(GetCommand)[0]?.Key).toEqual({ conversation_id: 's#bob#bob', msg_id: 12 });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });
});
