/** The Lambda handlers, built by their factories on a real runtime over mocked clients. */
import './setup-env.js';
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { BatchWriteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../core/auth/verify-token.js';
import type { Runtime } from '../../core/runtime.js';
import { MissingIdentityError } from '../../core/errors.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createAuthorizerHandler } from '../../lambdas/authorizer/handler.js';
import { createDefaultHandler } from '../../lambdas/default/handler.js';
import { createSendHandler } from '../../lambdas/send/handler.js';
import {
  T_SECONDS,
  TABLE,
  api,
  conditionFailed,
  ddb,
  inputsOf,
  makeRuntime,
  mockConnections,
  posts,
  resetMocks,
  throttled,
  timeline,
} from './helpers.js';

function wsEvent(
  body: string | undefined,
  options: { connectionId?: string; userId?: string | null } = {},
): WebSocketEvent {
  const userId = options.userId === undefined ? 'alice' : options.userId;
  return {
    body,
    isBase64Encoded: false,
    requestContext: {
      connectionId: options.connectionId ?? 'c-a1',
      routeKey: '$default',
      eventType: 'MESSAGE',
      ...(userId === null ? {} : { authorizer: { principalId: userId, userId } }),
    },
  } as unknown as WebSocketEvent;
}

let runtime: Runtime;

beforeEach(() => {
  resetMocks();
  runtime = makeRuntime();
});

describe('$default handler', () => {
  const handle = (body: string | undefined) => createDefaultHandler(runtime)(wsEvent(body));

  it.each([
    ['not JSON', 'hello'],
    ['an empty body', ''],
    ['no body', undefined],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a number', '42'],
  ])('%s → bad_request to the calling connection', async (_name, body) => {
    await expect(handle(body)).resolves.toEqual({ statusCode: 200 });
    expect(posts()).toEqual([
      { connectionId: 'c-a1', frame: { type: 'error', code: 'bad_request', message: expect.any(String) } },
    ]);
  });

  it('an unknown action → unknown_action, echoing seq', async () => {
    await handle(JSON.stringify({ action: 'group_dance', seq: 5 }));
    expect(posts()).toEqual([
      {
        connectionId: 'c-a1',
        frame: { type: 'error', seq: 5, code: 'unknown_action', message: expect.stringContaining('group_dance') },
      },
    ]);
  });

  it('a missing or non-string action → bad_request, echoing seq', async () => {
    await handle(JSON.stringify({ seq: 3 }));
    await handle(JSON.stringify({ action: 7, seq: 4 }));
    expect(posts().map((p) => p.frame)).toEqual([
      { type: 'error', seq: 3, code: 'bad_request', message: expect.any(String) },
      { type: 'error', seq: 4, code: 'bad_request', message: expect.any(String) },
    ]);
  });

  it('heartbeat → heartbeat frame with seq, and without seq when none was sent', async () => {
    await handle(JSON.stringify({ action: 'heartbeat', seq: 9 }));
    await handle(JSON.stringify({ action: 'heartbeat' }));
    expect(posts()).toEqual([
      { connectionId: 'c-a1', frame: { type: 'heartbeat', seq: 9 } },
      { connectionId: 'c-a1', frame: { type: 'heartbeat' } },
    ]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['a string', '7'],
    ['over 2^32 - 1', 2 ** 32],
  ])('a seq that is %s is not echoed', async (_name, seq) => {
    await handle(JSON.stringify({ action: 'nope', seq }));
    expect(posts()[0]?.frame).toEqual({ type: 'error', code: 'unknown_action', message: expect.any(String) });
  });

  it('a caller that cannot be reached does not fail the invocation', async () => {
    api.onAnyCommand().rejects(Object.assign(new Error('gone'), { $metadata: { httpStatusCode: 410 } }));
    await expect(handle('hello')).resolves.toEqual({ statusCode: 200 });
  });
});

describe('send handler', () => {
  const body = (fields: Record<string, unknown> = {}) =>
    JSON.stringify({
      action: 'msg_data',
      seq: 7,
      to_session_id: 'bob',
      msg_type: 1,
      msg_data: 'hi',
      client_msg_id: 'c-123',
      ...fields,
    });
  const handle = (rawBody: string | undefined, userId: string | null = 'alice') =>
    createSendHandler(runtime)(wsEvent(rawBody, { connectionId: 'c-a1', userId }));

  beforeEach(() => {
    ddb.on(UpdateCommand, { TableName: TABLE.Conversations, ReturnValues: 'ALL_NEW' }).resolves({
      Attributes: {
        last_msg_id: 12,
        sent_lo: 1,
        sent_hi: 0,
        sessions_created: true,
        indexed_day: Math.floor(T_SECONDS / 86_400),
      },
    });
    mockConnections('alice', 'c-a1', 'c-a2');
    mockConnections('bob', 'c-b1');
  });

  it('stores, records the deliveries, acks the sender only then, and delivers to the others after the ack', async () => {
    await expect(handle(body({ from_user_id: 'mallory' }))).resolves.toEqual({ statusCode: 200 });
    const order = timeline();
    const stored = order.indexOf('Put:Messages');
    const recorded = order.indexOf('BatchWrite');
    const acked = order.indexOf('Post:c-a1');
    expect(stored).toBeGreaterThan(-1);
    // Durable before the ack: the message, then its pending deliveries (found after the store by strong Queries).
    expect(order.indexOf('Query:Connections')).toBeGreaterThan(stored);
    expect(recorded).toBeGreaterThan(order.lastIndexOf('Query:Connections'));
    expect(acked).toBeGreaterThan(recorded);
    expect(order.indexOf('Post:c-b1')).toBeGreaterThan(acked);
    expect(posts().find((p) => p.connectionId === 'c-a1')?.frame).toEqual({
      type: 'msg_data_ack',
      seq: 7,
      user_id: 'alice',
      session_id: 'bob',
      msg_id: 12,
      session_type: 1,
      create_time: T_SECONDS,
      client_msg_id: 'c-123',
    });
    expect(
      posts()
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['c-a1', 'c-a2', 'c-b1']);
    expect(posts().filter((p) => p.connectionId === 'c-a1')).toHaveLength(1);
  });

  it('the ack waits for the message PutItem to complete', async () => {
    let release!: () => void;
    ddb
      .on(PutCommand, { TableName: TABLE.Messages })
      .callsFake(() => new Promise((resolve) => (release = () => resolve({}))));
    const handling = handle(body());
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(1);
    expect(api.calls()).toHaveLength(0);
    release();
    await handling;
    expect(posts()[0]).toMatchObject({ connectionId: 'c-a1', frame: { type: 'msg_data_ack', msg_id: 12 } });
  });

  it('a refused frame gets its error code with seq, and nothing is stored', async () => {
    await handle(body({ to_session_id: 'alice' }));
    expect(posts()).toEqual([
      { connectionId: 'c-a1', frame: { type: 'error', seq: 7, code: 'self_message', message: expect.any(String) } },
    ]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('a non-JSON frame gets bad_request without seq', async () => {
    await handle('{"action":"msg_data","seq":7');
    expect(posts()).toEqual([
      { connectionId: 'c-a1', frame: { type: 'error', code: 'bad_request', message: expect.any(String) } },
    ]);
  });

  it('rate limited → rate_limited error frame, no ack', async () => {
    ddb.on(UpdateCommand, { TableName: TABLE.RateLimits }).rejects(conditionFailed());
    await handle(body());
    expect(posts().map((p) => p.frame)).toEqual([
      { type: 'error', seq: 7, code: 'rate_limited', message: expect.any(String) },
    ]);
  });

  it.each([
    ['the rate-limit update', { TableName: TABLE.RateLimits }, UpdateCommand],
    ['the counter update', { TableName: TABLE.Conversations }, UpdateCommand],
    ['the message put', { TableName: TABLE.Messages }, PutCommand],
  ] as const)('DynamoDB failing at %s (before storing) → internal with seq, never an ack, no fan-out', async (_name, input, command) => {
    ddb.on(command as typeof UpdateCommand, input).rejects(throttled());
    await expect(handle(body())).resolves.toEqual({ statusCode: 200 });
    expect(posts()).toEqual([
      { connectionId: 'c-a1', frame: { type: 'error', seq: 7, code: 'internal', message: expect.any(String) } },
    ]);
    expect(inputsOf(QueryCommand, 'Connections')).toHaveLength(0);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('a msg_id already stored (conditional put failed) → internal, never an ack', async () => {
    ddb.on(PutCommand, { TableName: TABLE.Messages }).rejects(conditionFailed());
    await handle(body());
    expect(posts().map((p) => p.frame.type)).toEqual(['error']);
    expect(posts()[0]?.frame).toMatchObject({ code: 'internal', seq: 7 });
  });

  it('a session row failure before the message is stored answers internal, stores no message and sends no ack', async () => {
    ddb
      .on(UpdateCommand, { TableName: TABLE.Conversations, ReturnValues: 'ALL_NEW' })
      .resolves({ Attributes: { last_msg_id: 1, sent_lo: 1 } });
    ddb.on(PutCommand, { TableName: TABLE.Sessions }).rejects(throttled());
    await handle(body());
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(0);
    expect(posts().map((p) => p.frame)).toEqual([expect.objectContaining({ type: 'error', code: 'internal', seq: 7 })]);
  });

  it('deliveries that cannot be recorded get no ack: the stored message is resent by the client and finished then', async () => {
    ddb.on(BatchWriteCommand).rejects(throttled());
    await expect(handle(body())).resolves.toEqual({ statusCode: 200 });
    expect(inputsOf(PutCommand, 'Messages')).toHaveLength(1);
    expect(posts().map((p) => p.frame)).toEqual([expect.objectContaining({ type: 'error', code: 'internal', seq: 7 })]);
  });

  it('a failed post after the ack does not fail the invocation (the pending row stays for the sweeper)', async () => {
    api.on(PostToConnectionCommand, { ConnectionId: 'c-b1' }).rejects(new Error('socket hang up'));
    await expect(handle(body())).resolves.toEqual({ statusCode: 200 });
    expect(posts().find((p) => p.connectionId === 'c-a1')?.frame.type).toBe('msg_data_ack');
  });

  it('an event without authorizer identity is refused before touching anything', async () => {
    await expect(handle(body(), null)).rejects.toBeInstanceOf(MissingIdentityError);
    expect(ddb.calls()).toHaveLength(0);
    expect(api.calls()).toHaveLength(0);
  });
});

describe('authorizer', () => {
  const SECRET = 'unit-test-secret';
  const key = new TextEncoder().encode(SECRET);
  const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$connect';
  const authorize = createAuthorizerHandler(createTokenVerifier({ secret: SECRET }));

  const authEvent = (query: Record<string, string> | null): APIGatewayRequestAuthorizerEvent =>
    ({
      type: 'REQUEST',
      methodArn: METHOD_ARN,
      queryStringParameters: query,
    }) as unknown as APIGatewayRequestAuthorizerEvent;

  const sign = (
    claims: Record<string, unknown>,
    options: { secret?: Uint8Array; alg?: string; exp?: number | string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: options.alg ?? 'HS256' })
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '1h')
      .sign(options.secret ?? key);

  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  const expOf = (token: string): number =>
    (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;

  it('a valid HS256 token → Allow on the method ARN, context.userId = sub, context.tokenExpiresAt = exp', async () => {
    const token = await sign({ sub: 'alice' });
    await expect(authorize(authEvent({ token }))).resolves.toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { userId: 'alice', tokenExpiresAt: expOf(token) },
    });
  });

  it('passes a known client_type on, ignores an unknown one', async () => {
    const token = await sign({ sub: 'a.b_c-d@e' });
    const tokenExpiresAt = expOf(token);
    expect((await authorize(authEvent({ token, client_type: '17' }))).context).toEqual({
      userId: 'a.b_c-d@e',
      clientType: 17,
      tokenExpiresAt,
    });
    expect((await authorize(authEvent({ token, client_type: '3' }))).context).toEqual({
      userId: 'a.b_c-d@e',
      tokenExpiresAt,
    });
  });

  const refused: [string, () => Promise<Record<string, string> | null>][] = [
    ['no query string', async () => null],
    ['no token', async () => ({ client_type: '1' })],
    ['an empty token', async () => ({ token: '' })],
    ['garbage', async () => ({ token: 'not.a.jwt' })],
    [
      'an expired token',
      async () => ({ token: await sign({ sub: 'alice' }, { exp: Math.floor(Date.now() / 1000) - 60 }) }),
    ],
    [
      'a token signed with another secret',
      async () => ({ token: await sign({ sub: 'alice' }, { secret: new TextEncoder().encode('other') }) }),
    ],
    ['an HS512 token with the right secret', async () => ({ token: await sign({ sub: 'alice' }, { alg: 'HS512' }) })],
    [
      'alg none',
      async () => ({
        token: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 })}.`,
      }),
    ],
    [
      'a valid signature with the payload swapped',
      async () => {
        const [header, , signature] = (await sign({ sub: 'bob' })).split('.');
        return {
          token: `${header}.${b64url({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 })}.${signature}`,
        };
      },
    ],
    ['no sub', async () => ({ token: await sign({}) })],
    ['an empty sub', async () => ({ token: await sign({ sub: '' }) })],
    ['a sub with #', async () => ({ token: await sign({ sub: 'alice#bob' }) })],
    ['a sub with a space', async () => ({ token: await sign({ sub: 'alice bob' }) })],
    ['a sub of 129 characters', async () => ({ token: await sign({ sub: 'a'.repeat(129) }) })],
  ];

  it.each(refused)('%s → throws "Unauthorized"', async (_name, query) => {
    const error = await authorize(authEvent(await query())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Unauthorized');
  });

  it('a sub of exactly 128 characters is accepted', async () => {
    const token = await sign({ sub: 'a'.repeat(128) });
    await expect(authorize(authEvent({ token }))).resolves.toMatchObject({ principalId: 'a'.repeat(128) });
  });
});
