/**
 * acceptMessage on a real runtime over a mocked DocumentClient: refusals touch no table, sizes count UTF-8 bytes, the
 * rate limit is per user, and the order of a send's calls keeps the contract's promise (the message put is the last
 * step: a failure before it stores nothing). DynamoDB behaviour itself is tested on DynamoDB Local (test/integration).
 */
import './setup-env.js';
import { BatchWriteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../core/domain/frames.js';
import { FrameError, MessageAlreadyStoredError } from '../../core/errors.js';
import type { Runtime } from '../../core/runtime.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import {
  T,
  T_SECONDS,
  TABLE,
  conditionFailed,
  ddb,
  inputsOf,
  makeRuntime,
  resetMocks,
  throttled,
  timeline,
  writes,
} from './helpers.js';

const TODAY = Math.floor(T_SECONDS / 86_400);

const body = (fields: Record<string, unknown>): string =>
  JSON.stringify({ action: 'msg_data', seq: 7, to_session_id: 'bob', msg_type: 1, msg_data: 'hi', ...fields });

/** The conversation head as the counter UpdateItem returns it (ReturnValues ALL_NEW). */
function mockCounter(head: Record<string, unknown>): void {
  ddb.on(UpdateCommand, { TableName: TABLE.Conversations, ReturnValues: 'ALL_NEW' }).resolves({ Attributes: head });
}

async function refusal(runtime: Runtime, rawBody: string | undefined, userId = 'alice'): Promise<FrameError> {
  const error = await acceptMessage(runtime, { userId, body: rawBody }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FrameError);
  return error as FrameError;
}

const accept = (fields: Record<string, unknown> = {}, userId = 'alice') =>
  acceptMessage(runtime, { userId, body: body(fields) });

let runtime: Runtime;

/** Where in the timeline the last session row or index entry was written (-1: none). */
function lastSessionRowWrite(): number {
  const order = timeline();
  return Math.max(order.lastIndexOf('Put:Sessions'), order.lastIndexOf('BatchWrite'));
}

/** Requests of the BatchWriteItems on the Sessions table (the session index). */
function sessionBatchWrites(): Record<string, unknown>[] {
  return ddb
    .commandCalls(BatchWriteCommand)
    .flatMap((c) => (c.args[0].input.RequestItems?.[TABLE.Sessions] ?? []) as Record<string, unknown>[]);
}

beforeEach(() => {
  resetMocks();
  // Steady state: both session rows exist and today's index entries are written.
  mockCounter({
    conversation_id: 's#alice#bob',
    last_msg_id: 12,
    sent_lo: 5,
    sent_hi: 7,
    sessions_created: true,
    indexed_day: TODAY,
  });
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
    ['a single chat to a group id', body({ to_session_id: 'g:AAAAAAAAAAAAAAAAAAAAAA' }), 'bad_request'],
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
    ['a lone high surrogate in client_msg_id', body({ client_msg_id: 'id-\ud800' }), 'bad_request'],
    ['a lone low surrogate in msg_data', body({ msg_data: 'a\udc00b' }), 'bad_request'],
    ['a lone surrogate in an unknown field', body({ note: '\udbff' }), 'bad_request'],
    ['a seq that is not an integer', body({ seq: 1.5 }), 'bad_request'],
    ['an empty msg_data', body({ msg_data: '' }), 'empty_message'],
    ['a message to oneself', body({ to_session_id: 'alice' }), 'self_message'],
  ];

  it.each(cases)('%s → %s', async (_name, rawBody, code) => {
    const error = await refusal(runtime, rawBody);
    expect(error.code).toBe(code);
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    17, 18,
  ])('group type %i from a non-member → not_member after one membership GetItem, nothing written', async (msgType) => {
    ddb.on(GetCommand, { TableName: TABLE.GroupMembers }).resolves({});
    const error = await refusal(runtime, body({ msg_type: msgType, to_session_id: 'g:AAAAAAAAAAAAAAAAAAAAAA' }));
    expect(error.code).toBe('not_member');
    expect(inputsOf(GetCommand, 'GroupMembers').map((i) => i.ConsistentRead)).toEqual([true]);
    expect(writes()).toHaveLength(0);
  });

  it('names the offending field in a bad_request', async () => {
    expect((await refusal(runtime, body({ msg_type: 3 }))).message).toMatch(/^msg_type: /);
    expect((await refusal(runtime, body({ to_session_id: 42 }))).message).toMatch(/^to_session_id: /);
    expect((await refusal(runtime, body({ client_msg_id: 'x\ud800' }))).message).toMatch(
      /^client_msg_id: not well-formed Unicode/,
    );
  });
});

describe('too_large counts UTF-8 bytes, not characters', () => {
  // 'é' is 2 bytes, '€' 3, '😀' 4 (and 2 UTF-16 units): character counts far below 4096 must still be refused.
  const accepted: [string, string][] = [
    ['4096 ASCII bytes', 'a'.repeat(4096)],
    ['2048 × é (4096 bytes)', 'é'.repeat(2048)],
    ['1365 × € + a (4096 bytes)', `${'€'.repeat(1365)}a`],
    ['1024 × 😀 (4096 bytes)', '😀'.repeat(1024)],
  ];
  const refused: [string, string][] = [
    ['4097 ASCII bytes', 'a'.repeat(4097)],
    ['2048 × é + a (4097 bytes, 2049 characters)', `${'é'.repeat(2048)}a`],
    ['1365 × € + ab (4097 bytes)', `${'€'.repeat(1365)}ab`],
    ['1024 × 😀 + a (4097 bytes)', `${'😀'.repeat(1024)}a`],
  ];

  it.each(accepted)('%s is accepted', async (_name, text) => {
    expect(Buffer.byteLength(text, 'utf8')).toBe(4096);
    expect((await accept({ msg_data: text })).message.msgData).toBe(text);
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(1);
  });

  it.each(refused)('%s is refused', async (_name, text) => {
    expect(Buffer.byteLength(text, 'utf8')).toBe(4097);
    expect((await refusal(runtime, body({ msg_data: text }))).code).toBe('too_large');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('follows MAX_MSG_BYTES', async () => {
    runtime = makeRuntime({ MAX_MSG_BYTES: '10' });
    expect((await refusal(runtime, body({ msg_data: `${'é'.repeat(5)}a` }))).code).toBe('too_large');
    expect((await accept({ msg_data: 'é'.repeat(5) })).message.msgData).toBe('é'.repeat(5));
  });
});

describe('rate limit', () => {
  it('is counted per user (whatever the connection), in the current second', async () => {
    await accept();
    const [update] = inputsOf(UpdateCommand, 'RateLimits');
    expect(update?.Key).toEqual({ bucket: `msg#alice#${T_SECONDS}` });
    // One write for both budgets: the 20th frame of the second, and its one receiver.
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':nRoom': 19, ':r': 1, ':dRoom': 999 });
  });

  it('a failed condition is rate_limited, and nothing but the rate-limit update is written', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.RateLimits }).rejects(conditionFailed());
    expect((await refusal(runtime, body({}))).code).toBe('rate_limited');
    expect(timeline()).toEqual(['Update:RateLimits']);
  });

  it('a throttled rate-limit update propagates (not rate_limited, nothing stored)', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.RateLimits }).rejects(throttled());
    const error = await accept().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(error).not.toBeInstanceOf(FrameError);
    expect(timeline()).toEqual(['Update:RateLimits']);
  });
});

describe('storing', () => {
  it('takes the sender from the token, never from the frame’s from_user_id', async () => {
    const accepted = await accept({ from_user_id: 'mallory', client_msg_id: 'c-123' });
    expect(accepted.message).toEqual({
      conversationId: 's#alice#bob',
      msgId: 12,
      fromUserId: 'alice',
      toSessionId: 'bob',
      msgType: 1,
      msgData: 'hi',
      createTime: T_SECONDS,
      clientMsgId: 'c-123',
      counts: { sentLo: 5, sentHi: 7 },
    });
    expect(accepted).toMatchObject({ sessionType: 1, seq: 7, attempt: 'first' });
    expect(inputsOf(PutCommand, 'Messages')[0]?.Item?.['from_user_id']).toBe('alice');
    expect(JSON.stringify(ddb.calls().map((c) => c.args[0].input))).not.toContain('mallory');
  });

  it('both directions of a pair share one counter, ordered by code unit (upper case sorts first)', async () => {
    expect((await accept({ to_session_id: 'alice' }, 'bob')).message.conversationId).toBe('s#alice#bob');
    await accept({ to_session_id: 'Zed' });
    expect(inputsOf(UpdateCommand, 'Conversations').map((u) => u.Key)).toEqual([
      { conversation_id: 's#alice#bob' },
      { conversation_id: 's#Zed#alice' },
    ]);
  });

  it('with a client_msg_id: numbers (no read first), claims the key, then stores the message last', async () => {
    await accept({ client_msg_id: 'c-1' });
    expect(timeline()).toEqual(['Update:RateLimits', 'Update:Conversations', 'Put:SentMessages', 'Put:Messages']);
    expect(inputsOf(PutCommand, 'SentMessages')[0]?.Item?.['sender_key']).toBe('alice#s#alice#bob#c-1');
  });

  it('create_time is the clock’s unix seconds, rounded down', async () => {
    runtime = makeRuntime({}, T_SECONDS * 1000 + 999);
    expect((await accept()).message.createTime).toBe(T_SECONDS);
    expect(T % 1000).not.toBe(0);
  });

  it('another message already stored under the msg_id surfaces as MessageAlreadyStoredError', async () => {
    ddb.on(PutCommand, { TableName: TABLE.Messages }).rejects(conditionFailed());
    await expect(accept()).rejects.toBeInstanceOf(MessageAlreadyStoredError);
  });

  it('a throttled counter update propagates and no message is put', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.Conversations }).rejects(throttled());
    const error = await accept().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(timeline()).toEqual(['Update:RateLimits', 'Update:Conversations']);
  });

  it('a throttled message put propagates (not MessageAlreadyStoredError)', async () => {
    ddb.on(PutCommand, { TableName: TABLE.Messages }).rejects(throttled());
    const error = await accept().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(error).not.toBeInstanceOf(MessageAlreadyStoredError);
  });
});

describe('session rows and the session index', () => {
  it('a pair’s first message creates both session rows and the day’s index entries before the message is stored', async () => {
    mockCounter({ last_msg_id: 1, sent_lo: 1 });
    await accept();
    expect(
      inputsOf(PutCommand, 'Sessions')
        .map((p) => [p.Item?.['user_id'], p.Item?.['session_key']])
        .sort(),
    ).toEqual([
      ['alice', '1#bob'],
      ['bob', '1#alice'],
    ]);
    expect(sessionBatchWrites().map((r) => Object.keys(r)[0])).toEqual(['PutRequest', 'PutRequest']); // no older day to remove
    // The rows before the message (a failure before it stores nothing to ack); the head's marks beside its put.
    expect(timeline().indexOf('Put:Messages')).toBeGreaterThan(lastSessionRowWrite());
    expect(timeline().filter((c) => c === 'Update:Conversations')).toHaveLength(3); // counter, sessions_created, indexed_day
  });

  it('the first message of a new day writes the index entries again (and removes the day before’s)', async () => {
    mockCounter({ last_msg_id: 9, sent_lo: 5, sessions_created: true, indexed_day: TODAY - 3 });
    await accept();
    expect(inputsOf(PutCommand, 'Sessions')).toHaveLength(0);
    const requests = sessionBatchWrites();
    expect(requests.filter((r) => 'PutRequest' in r)).toHaveLength(2);
    expect(requests.filter((r) => 'DeleteRequest' in r)).toHaveLength(2);
    expect(timeline().indexOf('Put:Messages')).toBeGreaterThan(lastSessionRowWrite());
  });

  it('a steady-state message writes no session row and no index entry', async () => {
    await accept();
    expect(timeline()).toEqual(['Update:RateLimits', 'Update:Conversations', 'Put:Messages']);
  });

  it('a throttled session row put propagates before the message is stored', async () => {
    mockCounter({ last_msg_id: 1, sent_lo: 1 });
    ddb.on(PutCommand, { TableName: TABLE.Sessions }).rejects(throttled());
    await expect(accept()).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(0);
  });
});
