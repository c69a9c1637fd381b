/**
 * Connection tokens: the authorizer (createAuthorizerHandler + createTokenVerifier) on its own, and end to end
 * through the emulator, where a refused token must be a 401 with no route handler ever invoked.
 * Issuer mode runs against a JWKS served from 127.0.0.1 by this test (a jose RS256 key pair), once as a plain OIDC
 * issuer and once under a Cognito user pool's issuer URL (whose keys the verifier is pointed at with jwksUrl).
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type InvocationRecord, type RouteHandler } from 'teamtalk-local';
import {
  AUTH_ENV,
  createTokenVerifier,
  tokenVerifierFromEnv,
  type TokenVerifierOptions,
} from '../../core/auth/verify-token.js';
import { InvalidTokenError } from '../../core/errors.js';
import { logger } from '../../core/observability.js';
import type { WebSocketEvent as HandlerEvent, WebSocketResult } from '../../core/websocket-event.js';
import { createAuthorizerHandler } from '../../lambdas/authorizer/handler.js';
import { createConnectHandler } from '../../lambdas/connect/handler.js';
import { createDefaultHandler } from '../../lambdas/default/handler.js';
import { Queue, TestClient } from '../emulator/support.js';
import { startTestStack, type TestStack } from '../e2e/harness.js';
import { createTestRuntime } from '../support/runtime.js';

logger.setLogLevel('SILENT');

const SECRET = 'local-dev-secret';
const AUDIENCES = ['web-app', 'cognito-app-client'];
const KID = 'key-1';
const COGNITO_ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

let jwks: Server;
let jwksRequests = 0;
let issuer: string;
let jwksUrl: string;
let signingKey: CryptoKey;
let publicJwk: JWK;
let publicPem: string;
let attackerKey: CryptoKey;
let attackerJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  publicPem = await exportSPKI(pair.publicKey);
  const attacker = await generateKeyPair('RS256', { extractable: true });
  attackerKey = attacker.privateKey;
  attackerJwk = await exportJWK(attacker.publicKey);

  jwks = createServer((req, res) => {
    jwksRequests++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  jwksUrl = `${issuer}/.well-known/jwks.json`;
});

afterAll(async () => {
  jwks.closeAllConnections();
  await new Promise<void>((resolve) => jwks.close(() => resolve()));
});

// ---------------------------------------------------------------------------------------------------------------
// Tokens

interface SignOptions {
  readonly alg?: string;
  readonly key?: CryptoKey | Uint8Array;
  readonly header?: Record<string, unknown>;
  /** Marks `x-unknown` as an understood critical extension when signing (the verifier does not understand it). */
  readonly crit?: boolean;
}
const critOptions = (options: SignOptions) => (options.crit ? { crit: { 'x-unknown': true } } : undefined);

/** An issuer-mode token: RS256 with the JWKS key, a valid `iss`, `aud`, `sub`, `exp`, unless the claims say otherwise. */
async function rs256(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const payload: JWTPayload = { iss: issuer, aud: 'web-app', sub: 'alice', iat: now(), exp: now() + 3600, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: KID, typ: 'JWT', ...options.header } as { alg: string })
    .sign(options.key ?? signingKey, critOptions(options));
}

/** A local-mode token: HS256 with the shared secret. */
async function hs256(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const payload: JWTPayload = { sub: 'alice', iat: now(), exp: now() + 3600, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT', ...options.header } as { alg: string })
    .sign(options.key ?? new TextEncoder().encode(SECRET), critOptions(options));
}

/** The `exp` claim of a token, read without verifying it. */
const expOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;

const unsecured = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
  header.kid === undefined ? new UnsecuredJWT(claims).encode() : `${b64({ alg: 'none', ...header })}.${b64(claims)}.`;

const TEN_YEARS = 10 * 365 * 86_400;
const SUB_129 = 'a'.repeat(129);
const BAD_SUBS: readonly [string, unknown][] = [
  ['missing sub', undefined],
  ['empty sub', ''],
  ['sub with a space', 'alice bob'],
  ['sub with #', 'alice#bob'],
  ['sub with a NUL', 'alice\u0000'],
  ['sub with a newline', 'alice\n'],
  ['sub with non-ASCII', 'ålice'],
  ['sub with a slash', 'alice/../bob'],
  ['sub of 129 characters', SUB_129],
  ['numeric sub', 12345],
  ['array sub', ['alice']],
];

const MALFORMED: readonly [string, string][] = [
  ['one segment', 'abc'],
  ['two segments', 'abc.def'],
  ['three junk segments', 'a.b.c'],
  ['dots only', '...'],
  ['JWE-shaped five segments', 'a.b.c.d.e'],
  ['header not JSON', `${b64('not json')}.${b64({ sub: 'alice' })}.c2ln`],
  ['payload not JSON', `${b64({ alg: 'HS256' })}.${b64('not json')}.c2ln`],
  ['10,000 characters', 'x'.repeat(10_000)],
  ['whitespace', '   '],
];

/** Cases refused in both modes (the token built by the mode's signer). */
async function commonRefusals(
  sign: (claims: JWTPayload, options?: SignOptions) => Promise<string>,
): Promise<[string, string][]> {
  return [
    ['alg none', unsecured({ iss: issuer, aud: 'web-app', sub: 'alice', exp: now() + 3600 })],
    ['alg none with a kid', unsecured({ iss: issuer, aud: 'web-app', sub: 'alice', exp: now() + 3600 }, { kid: KID })],
    ['alg "None"', `${b64({ alg: 'None', kid: KID })}.${b64({ iss: issuer, aud: 'web-app', sub: 'alice' })}.`],
    ['expired', await sign({ exp: now() - 60, iat: now() - 3600 })],
    ['no exp (a token that never expires)', await sign({ exp: undefined })],
    ['not yet valid (nbf in an hour)', await sign({ nbf: now() + 3600 })],
    ['not yet valid past the clock skew (nbf in 2 minutes)', await sign({ nbf: now() + 120 })],
    ['issued 10 years in the future', await sign({ iat: now() + TEN_YEARS, exp: now() + TEN_YEARS + 3600 })],
    ['issued past the clock skew (iat in 2 minutes)', await sign({ iat: now() + 120 })],
    ['signature stripped', (await sign({})).replace(/\.[^.]+$/, '.')],
    [
      'signature of another token',
      `${(await sign({ sub: 'mallory' })).split('.').slice(0, 2).join('.')}.${(await sign({})).split('.')[2]}`,
    ],
    [
      'payload swapped under a valid signature',
      (await sign({})).replace(
        /\.[^.]+\./,
        `.${b64({ iss: issuer, aud: 'web-app', sub: 'mallory', exp: now() + 3600 })}.`,
      ),
    ],
    ['unknown critical header', await sign({}, { header: { crit: ['x-unknown'], 'x-unknown': 1 }, crit: true })],
    ...(await Promise.all(
      BAD_SUBS.map(async ([what, sub]) => [what, await sign({ sub: sub as string })] as [string, string]),
    )),
    ...MALFORMED,
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The authorizer on its own

function authorizerEvent(query: Record<string, string> | null): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api/local/$connect',
    queryStringParameters: query,
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'c1=' },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** Refused the way API Gateway turns into 401: a thrown Error whose message is exactly "Unauthorized". */
async function expectUnauthorized(
  authorizer: ReturnType<typeof createAuthorizerHandler>,
  token: string | undefined,
  what: string,
) {
  const outcome = await authorizer(authorizerEvent(token === undefined ? {} : { token })).then(
    (result) => ({ allowed: result }),
    (error: unknown) => ({ error }),
  );
  expect(
    'allowed' in outcome ? `allowed as ${outcome.allowed.principalId}` : (outcome.error as Error).message,
    what,
  ).toBe('Unauthorized');
}

describe('authorizer, issuer mode (JWKS)', () => {
  const authorizer = () => createAuthorizerHandler(createTokenVerifier({ issuer, jwksUrl, audiences: AUDIENCES }));

  it('accepts RS256 tokens from the JWKS with an accepted audience', async () => {
    const handler = authorizer();
    const accepted: [string, string, string][] = [
      ['id token with aud', await rs256({}), 'alice'],
      ['aud list holding an accepted audience', await rs256({ aud: ['other', 'web-app'], sub: 'bob' }), 'bob'],
      [
        'any token_use (only Cognito issuers are held to id/access)',
        await rs256({ token_use: 'whatever', sub: 'carol' }),
        'carol',
      ],
      ['sub of 128 characters', await rs256({ sub: 'a'.repeat(128) }), 'a'.repeat(128)],
      ['sub of every allowed character', await rs256({ sub: 'Az09_.@-' }), 'Az09_.@-'],
    ];
    for (const [what, token, userId] of accepted) {
      const result = await handler(authorizerEvent({ token, client_type: '17' }));
      expect(result.principalId, what).toBe(userId);
      // tokenExpiresAt: the token's exp (unix seconds), for the connection's expiry kick.
      expect(result.context).toEqual({ userId, clientType: 17, tokenExpiresAt: expOf(token) });
      expect(result.policyDocument.Statement).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: 'execute-api:Invoke' }),
      ]);
    }
  });

  it('refuses alg none, wrong keys, HMAC confusion, bad times, wrong issuer or audience, bad subs, malformed and empty tokens', async () => {
    const handler = authorizer();
    const enc = new TextEncoder();
    const refused: [string, string | undefined][] = [
      ...(await commonRefusals(rs256)),
      ['wrong key (same kid)', await rs256({}, { key: attackerKey })],
      [
        'attacker key embedded in the header (jwk)',
        await rs256({}, { key: attackerKey, header: { jwk: attackerJwk, kid: 'attacker' } }),
      ],
      [
        'attacker key URL in the header (jku)',
        await rs256({}, { key: attackerKey, header: { jku: 'http://127.0.0.1:1/jwks.json', kid: 'attacker' } }),
      ],
      ['HS256 signed with the public key PEM as secret', await rs256({}, { alg: 'HS256', key: enc.encode(publicPem) })],
      [
        'HS256 signed with the public JWK JSON as secret',
        await rs256({}, { alg: 'HS256', key: enc.encode(JSON.stringify(publicJwk)) }),
      ],
      [
        'HS256 signed with the modulus as secret',
        await rs256({}, { alg: 'HS256', key: Buffer.from(publicJwk.n!, 'base64url') }),
      ],
      ['HS256 signed with the local secret', await hs256({ iss: issuer, aud: 'web-app' })],
      ['wrong issuer', await rs256({ iss: 'https://evil.example' })],
      ['issuer with a trailing slash', await rs256({ iss: `${issuer}/` })],
      ['no issuer', await rs256({ iss: undefined })],
      ['wrong audience', await rs256({ aud: 'other-app' })],
      ['no audience and no client_id', await rs256({ aud: undefined })],
      [
        'Cognito access token of another app client',
        await rs256({ aud: undefined, client_id: 'other-client', token_use: 'access' }),
      ],
      // client_id is an audience only in a Cognito user pool's access tokens, not for any other issuer.
      [
        'client_id of an accepted audience from a non-Cognito issuer',
        await rs256({ aud: undefined, client_id: 'cognito-app-client', token_use: 'access' }),
      ],
      ['client_id accepted but aud wrong, non-Cognito issuer', await rs256({ aud: 'other-app', client_id: 'web-app' })],
      ['empty token', ''],
      ['no token', undefined],
    ];
    for (const [what, token] of refused) await expectUnauthorized(handler, token, what);
    await expect(handler(authorizerEvent(null))).rejects.toThrow(/^Unauthorized$/);
  });

  it('accepts no token at all when no audience is configured (a misconfiguration, refused loudly)', async () => {
    for (const audiences of [undefined, [], ['']]) {
      const handler = createAuthorizerHandler(
        createTokenVerifier({ issuer, jwksUrl, ...(audiences ? { audiences } : {}) }),
      );
      await expect(handler(authorizerEvent({ token: await rs256({}) })), JSON.stringify(audiences)).rejects.toThrow(
        /audience/,
      );
    }
  });
});

describe('authorizer, issuer mode (Cognito user pool)', () => {
  const POOL_CLIENT = 'cognito-app-client';
  const cognitoToken = (claims: JWTPayload) => rs256({ iss: COGNITO_ISSUER, aud: undefined, ...claims });
  const authorizer = () =>
    createAuthorizerHandler(createTokenVerifier({ issuer: COGNITO_ISSUER, jwksUrl, audiences: [POOL_CLIENT] }));

  it('accepts id tokens by aud and access tokens by client_id, each with its token_use', async () => {
    const handler = authorizer();
    const accepted: [string, string, string][] = [
      ['id token', await cognitoToken({ aud: POOL_CLIENT, token_use: 'id', sub: 'alice' }), 'alice'],
      ['access token', await cognitoToken({ client_id: POOL_CLIENT, token_use: 'access', sub: 'bob' }), 'bob'],
    ];
    for (const [what, token, userId] of accepted) {
      const result = await handler(authorizerEvent({ token }));
      expect(result.principalId, what).toBe(userId);
      expect(result.context, what).toEqual({ userId, tokenExpiresAt: expOf(token) });
    }
  });

  it('refuses a token without token_use or with another one, an id token by client_id, an access token by aud', async () => {
    const handler = authorizer();
    const refused: [string, string][] = [
      ['no token_use', await cognitoToken({ aud: POOL_CLIENT })],
      ['no token_use, client_id', await cognitoToken({ client_id: POOL_CLIENT })],
      ['token_use refresh', await cognitoToken({ aud: POOL_CLIENT, client_id: POOL_CLIENT, token_use: 'refresh' })],
      ['id token whose only match is client_id', await cognitoToken({ client_id: POOL_CLIENT, token_use: 'id' })],
      ['access token whose only match is aud', await cognitoToken({ aud: POOL_CLIENT, token_use: 'access' })],
      ['access token of another app client', await cognitoToken({ client_id: 'other-client', token_use: 'access' })],
      ['id token of another app client', await cognitoToken({ aud: 'other-client', token_use: 'id' })],
      ['access token without exp', await cognitoToken({ client_id: POOL_CLIENT, token_use: 'access', exp: undefined })],
      [
        'the issuer of another pool',
        await rs256({ iss: `${COGNITO_ISSUER}x`, client_id: POOL_CLIENT, token_use: 'access', aud: undefined }),
      ],
    ];
    for (const [what, token] of refused) await expectUnauthorized(handler, token, what);
  });
});

describe('authorizer, local mode (HS256 secret)', () => {
  it('accepts an HS256 token signed with the secret; refuses everything else', async () => {
    const handler = createAuthorizerHandler(createTokenVerifier({ secret: SECRET }));
    const token = await hs256({});
    const result = await handler(authorizerEvent({ token }));
    expect(result.principalId).toBe('alice');
    expect(result.context).toEqual({ userId: 'alice', tokenExpiresAt: expOf(token) });
    const refused: [string, string][] = [
      ...(await commonRefusals(hs256)),
      ['wrong secret', await hs256({}, { key: new TextEncoder().encode('not-the-secret') })],
      ['empty secret', await hs256({}, { key: new Uint8Array(32) })],
      ['HS512 with the secret', await hs256({}, { alg: 'HS512' })],
      ['RS256 from the issuer key', await rs256({})],
      ['empty token', ''],
    ];
    for (const [what, token] of refused) await expectUnauthorized(handler, token, what);
  });
});

describe('token times: clock skew and maximum age', () => {
  const verify = (token: string, options: Partial<TokenVerifierOptions> = {}) =>
    createTokenVerifier({ secret: SECRET, ...options })(token);

  it('accepts iat and nbf within the clock skew (an issuer whose clock runs ahead), never an exp that has passed', async () => {
    await expect(verify(await hs256({ iat: now() + 30, nbf: now() + 30 }))).resolves.toMatchObject({ userId: 'alice' });
    await expect(verify(await hs256({ iat: now() + 30 }), { clockSkewSeconds: 0 })).rejects.toThrow(InvalidTokenError);
    await expect(verify(await hs256({ nbf: now() + 30 }), { clockSkewSeconds: 0 })).rejects.toThrow(InvalidTokenError);
    await expect(verify(await hs256({ iat: now() - 60, exp: now() - 10 }))).rejects.toThrow(InvalidTokenError);
  });

  it('refuses a token older than the maximum age, or without iat, when one is set', async () => {
    const maxTokenAgeSeconds = 3600;
    await expect(verify(await hs256({ iat: now() - 600 }), { maxTokenAgeSeconds })).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(verify(await hs256({ iat: now() - 7200, exp: now() + 3600 }), { maxTokenAgeSeconds })).rejects.toThrow(
      InvalidTokenError,
    );
    await expect(verify(await hs256({ iat: undefined }), { maxTokenAgeSeconds })).rejects.toThrow(InvalidTokenError);
    // Without one, exp alone bounds a token's life.
    await expect(verify(await hs256({ iat: now() - 30 * 86_400 }))).resolves.toMatchObject({ userId: 'alice' });
  });

  it('reads the skew and the maximum age from the environment, and refuses values that are not whole seconds', async () => {
    const env = { [AUTH_ENV.secret]: SECRET, [AUTH_ENV.maxTokenAgeSeconds]: '3600', [AUTH_ENV.clockSkewSeconds]: '5' };
    await expect(tokenVerifierFromEnv(env)(await hs256({ iat: now() - 7200 }))).rejects.toThrow(InvalidTokenError);
    await expect(tokenVerifierFromEnv(env)(await hs256({ iat: now() + 30 }))).rejects.toThrow(InvalidTokenError);
    await expect(
      tokenVerifierFromEnv({ [AUTH_ENV.secret]: SECRET })(await hs256({ iat: now() + 30 })),
    ).resolves.toMatchObject({ userId: 'alice' });
    expect(() => tokenVerifierFromEnv({ ...env, [AUTH_ENV.maxTokenAgeSeconds]: '1h' })).toThrow(
      /JWT_MAX_TOKEN_AGE_SECONDS/,
    );
    expect(() => tokenVerifierFromEnv({ ...env, [AUTH_ENV.clockSkewSeconds]: '-1' })).toThrow(/JWT_CLOCK_SKEW_SECONDS/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// End to end: the upgrade is refused with 401 and no route handler runs

describe('through the emulator', () => {
  let t: TestStack | undefined;
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await t?.stop();
    await emulator?.stop();
    t = undefined;
    emulator = undefined;
  });

  async function expectRefusedUpgrades(
    url: string,
    cases: readonly [string, string | undefined][],
    invocations: () => readonly InvocationRecord[],
    live: () => unknown[],
  ) {
    for (const [what, token] of cases) {
      const target = token === undefined ? `${url}/` : `${url}/?${new URLSearchParams({ token })}`;
      const refusal = await TestClient.refusal(target);
      // A URL over API Gateway's 4,096 characters is refused before the authorizer (414), as on AWS.
      expect(refusal.status, what).toBe(target.length - url.length > 4_096 ? 414 : 401);
    }
    expect(invocations(), 'no route handler invoked').toEqual([]);
    expect(live()).toEqual([]);
  }

  it('local stack (HS256): every bad token is a 401, no handler runs, no connection is stored; a good one connects', async () => {
    t = await startTestStack();
    const stack = t.stack;
    const sign = (claims: JWTPayload, options: SignOptions = {}) =>
      hs256(claims, { ...options, key: options.key ?? new TextEncoder().encode(stack.jwtSecret) });
    const cases: [string, string | undefined][] = [
      ...(await commonRefusals(sign)),
      ['wrong key', await hs256({}, { key: new TextEncoder().encode('not-the-secret') })],
      ['HS512 with the secret', await sign({}, { alg: 'HS512' })],
      ['RS256 token', await rs256({})],
      ['empty token', ''],
      ['no token', undefined],
    ];
    await expectRefusedUpgrades(
      stack.url,
      cases,
      () => t!.invocations.all,
      () => stack.emulator.connections(),
    );
    // A valid token under another parameter name is no token at all.
    expect((await TestClient.refusal(`${stack.url}/?access_token=${await stack.mintToken('alice')}`)).status).toBe(401);
    expect(t.invocations.all).toEqual([]);
    expect(await stack.runtime.connections.listByUser('alice', Date.now())).toEqual([]);

    const alice = await t.connect('alice');
    expect(alice.userId).toBe('alice');
    // The token's expiry reaches every route of the connection in the authorizer context (stringified, as on AWS).
    const connect = t.invocations.all.find((r) => r.routeKey === '$connect' && r.connectionId === alice.connectionId)!;
    const expiresAt = Number(connect.event.requestContext.authorizer?.['tokenExpiresAt']);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(connect.event.requestContext.authorizer?.['tokenExpiresAt']).toBe(String(expiresAt));
  });

  it('issuer stack (JWKS, audiences): wrong issuer/audience/key/alg, no exp are 401s with no handler run; RS256 tokens connect', async () => {
    const tr = await createTestRuntime();
    const invocations = new Queue<InvocationRecord>();
    const handlerCalls: string[] = [];
    const connect = createConnectHandler(tr.runtime);
    const fallback = createDefaultHandler(tr.runtime);
    const route =
      (name: string, handler: (event: HandlerEvent) => Promise<WebSocketResult>): RouteHandler =>
      (event) => {
        handlerCalls.push(name);
        return handler(event as unknown as HandlerEvent);
      };
    emulator = await startEmulator({
      port: 0,
      authorizer: createAuthorizerHandler(createTokenVerifier({ issuer, jwksUrl, audiences: AUDIENCES })),
      identitySources: ['route.request.querystring.token'],
      routes: {
        $connect: route('$connect', connect),
        $disconnect: route('$disconnect', connect),
        $default: route('$default', fallback),
      },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      onInvocation: (record) => invocations.push(record),
    });
    const enc = new TextEncoder();
    const cases: [string, string | undefined][] = [
      ...(await commonRefusals(rs256)),
      ['wrong key (same kid)', await rs256({}, { key: attackerKey })],
      [
        'HS256 signed with the public key PEM (algorithm confusion)',
        await rs256({}, { alg: 'HS256', key: enc.encode(publicPem) }),
      ],
      ['HS256 local-mode token', await hs256({ iss: issuer, aud: 'web-app' })],
      ['wrong issuer', await rs256({ iss: 'https://evil.example' })],
      ['wrong audience', await rs256({ aud: 'other-app' })],
      ['token without exp', await rs256({ exp: undefined })],
      ['empty token', ''],
      ['no token', undefined],
    ];
    const before = jwksRequests;
    await expectRefusedUpgrades(
      emulator.url,
      cases,
      () => invocations.all,
      () => emulator!.connections(),
    );
    expect(handlerCalls).toEqual([]);
    expect(jwksRequests - before, 'the JWKS is cached, not fetched per token').toBeLessThanOrEqual(2);

    for (const [token, userId] of [
      [await rs256({ sub: 'alice' }), 'alice'],
      [await rs256({ aud: 'cognito-app-client', sub: 'carol' }), 'carol'],
    ] as const) {
      const client = await TestClient.open(`${emulator.url}/?${new URLSearchParams({ token })}`);
      try {
        const rows = await tr.runtime.connections.listByUser(userId, Date.now());
        expect(rows.map((r) => r.userId)).toEqual([userId]);
        // The routes see the token's user (the runtime's gateway records replies instead of posting them).
        client.send({ action: 'heartbeat', seq: 1 });
        const record = await invocations.take(
          (r) => r.routeKey === '$default' && r.connectionId === rows[0]!.connectionId,
        );
        expect(record.event.requestContext.authorizer?.['userId']).toBe(userId);
        expect(tr.gateway.framesTo(rows[0]!.connectionId)).toEqual([{ type: 'heartbeat', seq: 1 }]);
      } finally {
        await client.close();
      }
    }
    expect(handlerCalls.filter((c) => c === '$connect')).toHaveLength(2);
  });
});
