/** acceptMessage on a real runtime over a mocked DocumentClient: refusals, and the exact DynamoDB calls of a send. */
import './setup-env.js';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { FrameError, type ErrorCode } from '../../core/domain/frames.js';
import type { Runtime } from '../../core/runtime.js';
import { MessageAlreadyStoredError } from '../../core/domain/message.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { T, T_SECONDS, TABLE, conditionFailed, ddb, inputsOf, makeRuntime, resetMocks, throttled, timeline, writes } from './helpers.js';

const CONN = 'conn-alice-1';

const body = (fields: Record<string, unknown>): string =>
  JSON.stringify({ action: 'msg_data', seq: 7, to_session_id: 'bob', msg_type: 1, msg_data: 'hi', ...fields });

/** The conversation head as the counter UpdateItem returns it (ReturnValues ALL_NEW). */
function mockCounter(head: Record<string, unknown>): void {
  ddb.on(UpdateCommand, { TableName: TABLE.Conversations, ReturnValues: 'ALL_NEW' }).resolves({ Attributes: head });
}

async function refusal(runtime: Runtime, rawBody: string | undefined, userId = 'alice'): Promise<FrameError> {
  const error = await acceptMessage(runtime, { connectionId: CONN, userId, body: rawBody }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FrameError);
  return error as FrameError;
}

let runtime: Runtime;

beforeEach(() => {
  resetMocks();
  mockCounter({ conversation_id: 's#alice#bob', last_msg_id: 12, sent_lo: 5, sent_hi: 7, sessions_created: true });
  runtime = makeRuntime();
});

describe('refused frames store nothing and touch no table', () => {
  const cases: [string, string | undefined, ErrorCode][] = [
    ['not JSON', 'hello', 'bad_request'],
    ['an empty body', '', 'bad_request'],
    ['no body', undefined, 'bad_request'],
    ['a JSON array', '[]', 'bad_request'],
    ['an array of a valid frame', `[${body({})}]`, 'bad_request'],
    ['JSON null', 'null', 'bad_request'],
    ['a JSON string', '"msg_data"', 'bad_request'],
    ['a missing to_session_id', body({ to_session_id: undefined }), 'bad_request'],
    ['a numeric to_session_id', body({ to_session_id: 42 }), 'bad_request'],
    ['an empty to_session_id', body({ to_session_id: '' }), 'bad_request'],
    ['a to_session_id with #', body({ to_session_id: 'bob#x' }), 'bad_request'],
    ['a to_session_id of 129 characters', body({ to_session_id: 'b'.repeat(129) }), 'bad_request'],
    ['a missing msg_type', body({ msg_type: undefined }), 'bad_request'],
    ['a string msg_type', body({ msg_type: '1' }), 'bad_request'],
    ['an unknown msg_type 3', body({ msg_type: 3 }), 'bad_request'],
    ['msg_type 0', body({ msg_type: 0 }), 'bad_request'],
    ['a missing msg_data', body({ msg_data: undefined }), 'bad_request'],
    ['a numeric msg_data', body({ msg_data: 5 }), 'bad_request'],
    ['an object msg_data', body({ msg_data: { text: 'hi' } }), 'bad_request'],
    ['a client_msg_id of 65 characters', body({ client_msg_id: 'c'.repeat(65) }), 'bad_request'],
    ['an empty client_msg_id', body({ client_msg_id: '' }), 'bad_request'],
    ['a numeric client_msg_id', body({ client_msg_id: 5 }), 'bad_request'],
    ['a seq that is not an integer', body({ seq: 1.5 }), 'bad_request'],
    ['an empty msg_data', body({ msg_data: '' }), 'empty_message'],
    ['a message to oneself', body({ to_session_id: 'alice' }), 'self_message'],
  ];

  it.each(cases)('%s → %s', async (_name, rawBody, code) => {
    const error = await refusal(runtime, rawBody);
    expect(error.code).toBe(code);
    expect(ddb.calls()).toHaveLength(0);
    expect(writes()).toHaveLength(0);
  });

  it.each([17, 18])('group type %i from a non-member → not_member after one membership GetItem, nothing written', async (msgType) => {
    ddb.on(GetCommand, { TableName: TABLE.GroupMembers }).resolves({});
    const error = await refusal(runtime, body({ msg_type: msgType, to_session_id: 'g1' }));
    expect(error.code).toBe('not_member');
    expect(inputsOf(GetCommand, 'GroupMembers').map((i) => [i.Key, i.ConsistentRead])).toEqual([[{ group_id: 'g1', user_id: 'alice' }, true]]);
    expect(writes()).toHaveLength(0);
  });

  it('names the offending field in a bad_request', async () => {
    expect((await refusal(runtime, body({ msg_type: 3 }))).message).toMatch(/^msg_type: /);
    expect((await refusal(runtime, body({ to_session_id: 42 }))).message).toMatch(/^to_session_id: /);
  });
});

describe('too_large counts UTF-8 bytes, not characters', () => {
  // 'é' is 2 bytes, '€' 3, '😀' 4 (and 2 UTF-16 units): character counts far below 4096 must still be refused.
  const accepted: [string, string][] = [
    ['4096 ASCII bytes', 'a'.repeat(4096)],
    ['2048 × é (4096 bytes)', 'é'.repeat(2048)],
    ['1365 × € + a (4096 bytes)', '€'.repeat(1365) + 'a'],
    ['1024 × 😀 (4096 bytes)', '😀'.repeat(1024)],
  ];
  const refused: [string, string][] = [
    ['4097 ASCII bytes', 'a'.repeat(4097)],
    ['2048 × é + a (4097 bytes, 2049 characters)', 'é'.repeat(2048) + 'a'],
    ['1365 × € + ab (4097 bytes)', '€'.repeat(1365) + 'ab'],
    ['1024 × 😀 + a (4097 bytes)', '😀'.repeat(1024) + 'a'],
  ];

  it.each(accepted)('%s is accepted', async (_name, text) => {
    expect(Buffer.byteLength(text, 'utf8')).toBe(4096);
    const accepted = await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({ msg_data: text }) });
    expect(accepted.message.msgData).toBe(text);
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(1);
  });

  it.each(refused)('%s is refused', async (_name, text) => {
    expect(Buffer.byteLength(text, 'utf8')).toBe(4097);
    expect((await refusal(runtime, body({ msg_data: text }))).code).toBe('too_large');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('follows MAX_MSG_BYTES', async () => {
    runtime = makeRuntime({ MAX_MSG_BYTES: '10' });
    expect((await refusal(runtime, body({ msg_data: 'é'.repeat(5) + 'a' }))).code).toBe('too_large');
    await expect(acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({ msg_data: 'é'.repeat(5) }) })).resolves.toBeDefined();
  });
});

describe('rate limit', () => {
  it('counts the message in the connection’s current second with a conditional ADD', async () => {
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    expect(inputsOf(UpdateCommand, 'RateLimits')).toEqual([
      {
        TableName: TABLE.RateLimits,
        Key: { bucket: `${CONN}#${T_SECONDS}` },
        UpdateExpression: 'ADD n :one SET expires_at = :exp',
        ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
        ExpressionAttributeValues: { ':one': 1, ':limit': 20, ':exp': T_SECONDS + 60 },
      },
    ]);
  });

  it('uses RATE_LIMIT_PER_SECOND as the limit', async () => {
    runtime = makeRuntime({ RATE_LIMIT_PER_SECOND: '3' });
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    expect(inputsOf(UpdateCommand, 'RateLimits')[0]?.ExpressionAttributeValues?.[':limit']).toBe(3);
  });

  it('a failed condition is rate_limited, and nothing but the rate-limit update is written', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.RateLimits }).rejects(conditionFailed());
    expect((await refusal(runtime, body({}))).code).toBe('rate_limited');
    expect(timeline()).toEqual(['Update:RateLimits']);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('a throttled rate-limit update propagates (not rate_limited, nothing stored)', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.RateLimits }).rejects(throttled());
    await expect(acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) })).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(timeline()).toEqual(['Update:RateLimits']);
  });
});

describe('storing', () => {
  it('takes the sender from the token, never from the frame’s from_user_id', async () => {
    const accepted = await acceptMessage(runtime, {
      connectionId: CONN,
      userId: 'alice',
      body: body({ from_user_id: 'mallory', client_msg_id: 'c-123' }),
    });
    expect(accepted).toEqual({
      message: {
        conversationId: 's#alice#bob',
        msgId: 12,
        fromUserId: 'alice',
        toSessionId: 'bob',
        msgType: 1,
        msgData: 'hi',
        createTime: T_SECONDS,
        clientMsgId: 'c-123',
      },
      sessionType: 1,
      seq: 7,
      deliver: true,
    });
    expect(inputsOf(PutCommand, 'Messages')[0]?.Item?.['from_user_id']).toBe('alice');
    expect(JSON.stringify(ddb.calls().map((c) => c.args[0].input))).not.toContain('mallory');
  });

  it('takes the msg_id with ADD on last_msg_id of s#<lo>#<hi>, counting the sender’s side', async () => {
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    expect(inputsOf(UpdateCommand, 'Conversations')).toEqual([
      {
        TableName: TABLE.Conversations,
        Key: { conversation_id: 's#alice#bob' },
        UpdateExpression: 'ADD last_msg_id :one, #sent :one SET updated_time = :now',
        ExpressionAttributeNames: { '#sent': 'sent_lo' },
        ExpressionAttributeValues: { ':one': 1, ':now': T_SECONDS },
        ReturnValues: 'ALL_NEW',
      },
    ]);
  });

  it('the reverse direction uses the same counter and counts the higher side', async () => {
    const accepted = await acceptMessage(runtime, { connectionId: 'conn-bob-1', userId: 'bob', body: body({ to_session_id: 'alice' }) });
    expect(accepted.message.conversationId).toBe('s#alice#bob');
    const [update] = inputsOf(UpdateCommand, 'Conversations');
    expect(update?.Key).toEqual({ conversation_id: 's#alice#bob' });
    expect(update?.ExpressionAttributeNames).toEqual({ '#sent': 'sent_hi' });
  });

  it('orders the pair by code unit (upper case sorts first)', async () => {
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({ to_session_id: 'Zed' }) });
    const [update] = inputsOf(UpdateCommand, 'Conversations');
    expect(update?.Key).toEqual({ conversation_id: 's#Zed#alice' });
    expect(update?.ExpressionAttributeNames).toEqual({ '#sent': 'sent_hi' });
  });

  it('puts the message once, conditionally on attribute_not_exists(msg_id), with the head’s sent counts', async () => {
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({ client_msg_id: 'c-1', msg_type: 2 }) });
    expect(inputsOf(PutCommand, 'Messages')).toEqual([
      {
        TableName: TABLE.Messages,
        Item: {
          conversation_id: 's#alice#bob',
          msg_id: 12,
          from_user_id: 'alice',
          to_session_id: 'bob',
          msg_type: 2,
          msg_data: 'hi',
          create_time: T_SECONDS,
          client_msg_id: 'c-1',
          sent_lo: 5,
          sent_hi: 7,
        },
        ConditionExpression: 'attribute_not_exists(msg_id)',
      },
    ]);
    // With a client_msg_id: look for a resend first, claim the id after numbering, store last.
    expect(timeline()).toEqual(['Update:RateLimits', 'Get:SentMessages', 'Update:Conversations', 'Put:SentMessages', 'Put:Messages']);
  });

  it('create_time is the clock’s unix seconds, rounded down', async () => {
    runtime = makeRuntime({}, T_SECONDS * 1000 + 999);
    const accepted = await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    expect(accepted.message.createTime).toBe(T_SECONDS);
    expect(T % 1000).not.toBe(0);
  });

  it('a msg_id already stored surfaces as MessageAlreadyStoredError', async () => {
    mockCounter({ last_msg_id: 12, sent_lo: 1, sessions_created: true });
    ddb.on(PutCommand, { TableName: TABLE.Messages }).rejects(conditionFailed());
    await expect(acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) })).rejects.toBeInstanceOf(
      MessageAlreadyStoredError,
    );
    // The row is read back: a retried put whose first response was lost finds its own message, not another.
    expect(timeline()).toEqual(['Update:RateLimits', 'Update:Conversations', 'Put:Messages', 'Get:Messages']);
  });

  it('a throttled counter update propagates and no message is put', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.Conversations }).rejects(throttled());
    const error = await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(error).not.toBeInstanceOf(FrameError);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(timeline()).toEqual(['Update:RateLimits', 'Update:Conversations']);
  });

  it('a throttled message put propagates (not MessageAlreadyStoredError)', async () => {
    mockCounter({ last_msg_id: 1, sent_lo: 1, sessions_created: true });
    ddb.on(PutCommand, { TableName: TABLE.Messages }).rejects(throttled());
    const error = await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(error).not.toBeInstanceOf(MessageAlreadyStoredError);
  });

  it('a throttled session row put propagates before the message is stored', async () => {
    mockCounter({ last_msg_id: 1, sent_lo: 1 });
    ddb.on(PutCommand, { TableName: TABLE.Sessions }).rejects(throttled());
    await expect(acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) })).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(0);
  });
});

describe('session rows', () => {
  it('are created for both users, then marked on the head, when the head has no sessions_created', async () => {
    mockCounter({ last_msg_id: 1, sent_lo: 1 });
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    const sessionPuts = inputsOf(PutCommand, 'Sessions');
    expect(sessionPuts).toHaveLength(2);
    expect(sessionPuts).toEqual(
      expect.arrayContaining([
        {
          TableName: TABLE.Sessions,
          Item: { user_id: 'alice', session_key: '1#bob', session_type: 1, session_id: 'bob', conversation_id: 's#alice#bob', created_time: T_SECONDS },
          ConditionExpression: 'attribute_not_exists(user_id)',
        },
        {
          TableName: TABLE.Sessions,
          Item: { user_id: 'bob', session_key: '1#alice', session_type: 1, session_id: 'alice', conversation_id: 's#alice#bob', created_time: T_SECONDS },
          ConditionExpression: 'attribute_not_exists(user_id)',
        },
      ]),
    );
    const updates = inputsOf(UpdateCommand, 'Conversations');
    expect(updates).toHaveLength(2);
    expect(updates[1]).toEqual({
      TableName: TABLE.Conversations,
      Key: { conversation_id: 's#alice#bob' },
      UpdateExpression: 'SET sessions_created = :yes',
      ExpressionAttributeValues: { ':yes': true },
    });
    // Sessions and the mark before the message: a stored message always has its sessions, and the message put is
    // the last step, so a failure before it stores nothing the sender could be acked for.
    expect(timeline()).toEqual([
      'Update:RateLimits',
      'Update:Conversations',
      'Put:Sessions',
      'Put:Sessions',
      'Update:Conversations',
      'Put:Messages',
    ]);
  });

  it('also when sessions_created is present but not true', async () => {
    mockCounter({ last_msg_id: 3, sent_lo: 2, sessions_created: 'yes' });
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    expect(inputsOf(PutCommand, 'Sessions')).toHaveLength(2);
  });

  it('are skipped when the head says sessions_created: true', async () => {
    await acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) });
    expect(inputsOf(PutCommand, 'Sessions')).toHaveLength(0);
    expect(timeline()).toEqual(['Update:RateLimits', 'Update:Conversations', 'Put:Messages']);
  });

  it('an existing session row (condition failed) is not an error', async () => {
    mockCounter({ last_msg_id: 2, sent_lo: 2 });
    ddb.on(PutCommand, { TableName: TABLE.Sessions }).rejects(conditionFailed());
    await expect(acceptMessage(runtime, { connectionId: CONN, userId: 'alice', body: body({}) })).resolves.toMatchObject({
      message: { msgId: 2 },
    });
    expect(inputsOf(UpdateCommand, 'Conversations')).toHaveLength(2);
  });
});
