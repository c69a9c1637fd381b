/**
 * Property-based fuzzing of the frame parser and of every route handler, built on a real runtime over DynamoDB Local
 * with a recording gateway. Every frame must get a contract error frame (seq echoed only when it was a valid
 * integer) or a valid reply/ack, never a crash; refused frames store nothing; Object.prototype stays clean.
 * Seed: FUZZ_SEED (default in arbitraries.ts), printed by fast-check with any counterexample.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AWS_LIMITS } from 'teamtalk-local';
import { MsgDataAckSchema, MsgDataSchema, parseFrame, seqOf, validateFrame } from '../../core/domain/client-frames.js';
import { FrameError } from '../../core/errors.js';
import { ACTION_ROUTES } from '../../core/routes.js';
import { ROUTE_FUNCTIONS, type RouteFunctionId } from '../../lambdas/route-handlers.js';
import { registerConnection } from '../../core/usecases/connections.js';
import type { WebSocketEvent, WebSocketResult } from '../../core/websocket-event.js';
import { createAckHandler } from '../../lambdas/ack/handler.js';
import { createDefaultHandler } from '../../lambdas/default/handler.js';
import { createSendHandler } from '../../lambdas/send/handler.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';
import {
  CONTRACT_CODES,
  nested,
  POLLUTION_KEYS,
  ROUTED_ACTIONS,
  SEED,
  anyBody,
  asObject,
  bodiesFor,
  expectedSeq,
  hasLoneSurrogate,
  isValidSeq,
  msgDataAckModel,
  typingModel,
  msgDataModel,
  msgDataShapeOk,
  parseModel,
  runs,
  uniquifyClientMsgId,
  type Expectation,
} from './arbitraries.js';

type Frame = Record<string, unknown>;
type Handler = (event: WebSocketEvent) => Promise<WebSocketResult | undefined>;

let framesRun = 0;
const started = Date.now();
afterAll(() => {
  console.info(
    `[fuzz] ${framesRun} generated frames in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED})`,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Oracles

const PROTOTYPES: readonly object[] = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
];
const prototypeSnapshot = () =>
  PROTOTYPES.map((p) =>
    Object.getOwnPropertyNames(p).map((name) => [name, Object.getOwnPropertyDescriptor(p, name)?.value] as const),
  );
const pristine = prototypeSnapshot();

function expectUnpolluted(): void {
  const now = prototypeSnapshot();
  now.forEach((props, i) => {
    expect(props.map(([n]) => n)).toEqual(pristine[i]!.map(([n]) => n));
    for (const [k, [name, value]] of props.entries())
      expect(value, `prototype member ${name}`).toBe(pristine[i]![k]![1]);
  });
  const probe: Record<string, unknown> = {};
  for (const key of ['polluted', 'isAdmin', 'userId', 'seq', 'action'])
    expect(probe[key], `Object.prototype.${key}`).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

const show = (body: string | undefined) =>
  body === undefined
    ? 'undefined body'
    : `${JSON.stringify(body.length > 300 ? `${body.slice(0, 300)}…` : body)} (${body.length} units)`;

function expectSeqRule(frame: Frame, body: string | undefined): void {
  const seq = expectedSeq(body);
  if (seq === undefined) expect(Object.hasOwn(frame, 'seq'), `no seq may be echoed for ${show(body)}`).toBe(false);
  else expect(frame['seq'], `seq echo for ${show(body)}`).toBe(seq);
}

function expectContractError(frame: Frame, body: string | undefined, codes?: ReadonlySet<string>): void {
  expect(frame['type'], `reply to ${show(body)}`).toBe('error');
  const code = frame['code'] as string;
  expect(CONTRACT_CODES.has(code), `code ${code} is not in the contract, for ${show(body)}`).toBe(true);
  // Nothing fails underneath these runs (no fault injected), so `internal` is a handler crash in disguise.
  expect(
    code,
    `internal error (a crash caught by the handler) for ${show(body)}: ${String(frame['message'])}`,
  ).not.toBe('internal');
  if (codes) expect([...codes], `code ${code} for ${show(body)}`).toContain(code);
  expect(typeof frame['message']).toBe('string');
  expectSeqRule(frame, body);
}

/** API Gateway's limit on a client message and on a @connections post, as the emulator enforces it. */
const API_GATEWAY_MAX_BYTES = AWS_LIMITS.maxPostBytes;

/**
 * Every server frame must survive JSON; and a frame that API Gateway could have delivered (≤ 128 KB) must be answered
 * with frames it can post (≤ 128 KB), or the client never sees its reply.
 */
function expectPostable(frame: Frame, body: string | undefined): void {
  const bytes = Buffer.byteLength(JSON.stringify(frame), 'utf8');
  if (body !== undefined && Buffer.byteLength(body, 'utf8') <= API_GATEWAY_MAX_BYTES) {
    expect(
      bytes,
      `a ${String(frame['type'])} frame of ${bytes} bytes cannot be posted (limit 128 KB), in reply to ${show(body)}`,
    ).toBeLessThanOrEqual(API_GATEWAY_MAX_BYTES);
  }
}

/** Strings in a counterexample cut to 200 units, so a failure report stays readable. */
function brief(value: unknown): unknown {
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 200)}…(${value.length} units)` : value;
  if (Array.isArray(value)) return value.map(brief);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, brief(v)]));
  return value;
}

/** fast-check's report, with the seed and path to replay it, minus megabytes of generated strings. */
function reporter<Ts>(details: fc.RunDetails<Ts>): void {
  if (!details.failed) return;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `Property failed after ${details.numRuns} runs; replay with FUZZ_SEED=${details.seed} (path "${details.counterexamplePath}")\n` +
      `Counterexample: ${JSON.stringify(brief(details.counterexample)).slice(0, 6_000)}\n` +
      `Cause: ${cause.slice(0, 4_000)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers on a runtime

let connectionCounter = 0;
const freshConnectionId = () => `fz${(connectionCounter++).toString(36)}=`;

function wsEvent(routeKey: string, body: string | undefined, userId: string, connectionId: string): WebSocketEvent {
  return {
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: {
      routeKey,
      eventType: 'MESSAGE',
      connectionId,
      messageId: `m${connectionCounter}`,
      requestId: `r${connectionCounter}`,
      extendedRequestId: `r${connectionCounter}`,
      domainName: '127.0.0.1',
      stage: 'local',
      apiId: 'fuzz',
      requestTimeEpoch: Date.now(),
      connectedAt: Date.now(),
      messageDirection: 'IN',
      authorizer: { principalId: userId, userId },
    },
  } as unknown as WebSocketEvent;
}

interface Invocation {
  readonly toCaller: Frame[];
  readonly toOthers: { connectionId: string; frame: Frame }[];
}

async function invoke(
  t: TestRuntime,
  handler: Handler,
  routeKey: string,
  body: string | undefined,
  userId: string,
  connectionId: string,
): Promise<Invocation> {
  framesRun++;
  const before = t.gateway.posts.length;
  let result: WebSocketResult | undefined;
  try {
    result = await handler(wsEvent(routeKey, body, userId, connectionId));
  } catch (error) {
    throw new Error(`${routeKey} handler rejected for ${show(body)} from ${userId}: ${String(error)}`);
  }
  if (result !== undefined) expect(result.statusCode, `status for ${show(body)}`).toBe(200);
  const posts = t.gateway.posts.slice(before);
  for (const p of posts) expectPostable(p.frame as unknown as Frame, body);
  return {
    toCaller: posts.filter((p) => p.connectionId === connectionId).map((p) => p.frame as unknown as Frame),
    toOthers: posts
      .filter((p) => p.connectionId !== connectionId)
      .map((p) => ({ connectionId: p.connectionId, frame: p.frame as unknown as Frame })),
  };
}

async function scan(t: TestRuntime, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await t.tables.client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

/** Every table of the runtime (whatever the schema holds now), as sorted JSON lines, for before/after equality. */
async function snapshot(t: TestRuntime): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [id, name] of Object.entries(t.tables.names))
    out[id] = (await scan(t, name)).map((i) => JSON.stringify(i)).sort();
  return out;
}

/** Tables a refused frame could leave a trace in: they must stay empty (the test registers connections only). */
const MUST_STAY_EMPTY = ['Messages', 'Conversations', 'Sessions', 'RateLimits', 'PendingDeliveries'] as const;

/** After refused-only frames: those tables empty, and every table (whatever the schema holds now) as it was. */
async function expectNothingStored(t: TestRuntime, baseline: Record<string, string[]>, what: string): Promise<void> {
  const now = await snapshot(t);
  for (const id of MUST_STAY_EMPTY) expect(now[id], `${id} after ${what}`).toEqual([]);
  expect(now, `tables changed by ${what}`).toEqual(baseline);
}

const conversationOf = (a: string, b: string) => (a < b ? `s#${a}#${b}` : `s#${b}#${a}`);

/** Users with one live connection each, registered on the runtime: every accepted message is fanned out to them. */
const LIVE_USERS = [
  'alice',
  'bob',
  'carol',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'a'.repeat(128),
] as const;

async function registerLiveUsers(t: TestRuntime): Promise<Map<string, string[]>> {
  const live = new Map<string, string[]>();
  for (const [i, userId] of LIVE_USERS.entries()) {
    const connectionId = `live${i}=`;
    await registerConnection(t.runtime, { userId, connectionId });
    live.set(userId, [connectionId]);
  }
  return live;
}

const callerArb = fc.constantFrom(...LIVE_USERS);
/** Properties run for seconds, and for much longer on a loaded machine: their own timeout, not the 60 s default. */
const PROPERTY_TEST = { timeout: 240_000 };
const DB_RUN = { seed: SEED, endOnFailure: true, reporter } as const;

// ---------------------------------------------------------------------------------------------------------------

describe('frame parser (pure)', () => {
  it('parseFrame / seqOf / validateFrame agree with the contract on any body', PROPERTY_TEST, () => {
    const allowedMsgData = new Set(['action', 'seq', 'to_session_id', 'msg_type', 'msg_data', 'client_msg_id']);
    const allowedAck = new Set(['action', 'seq', 'msg_id', 'msg_ids', 'session_id', 'session_type']);
    fc.assert(
      fc.property(anyBody, (body) => {
        framesRun++;
        const object = asObject(parseModel(body));
        const seq = expectedSeq(body);
        expect(seqOf(body), show(body)).toBe(seq);
        if (!object || hasLoneSurrogate(object)) {
          expect(() => parseFrame(body)).toThrow(FrameError);
          try {
            parseFrame(body);
          } catch (error) {
            expect((error as FrameError).code).toBe('bad_request');
          }
          return;
        }
        const raw = parseFrame(body);
        expect(raw.seq).toBe(seq);
        expect(Object.keys(raw.fields)).toEqual(Object.keys(object));

        const ackModel = msgDataAckModel(body);
        for (const [schema, allowed, shapeOk] of [
          [MsgDataSchema, allowedMsgData, msgDataShapeOk(body)],
          [MsgDataAckSchema, allowedAck, ackModel.accept || !ackModel.codes.has('bad_request')],
        ] as const) {
          let output: Record<string, unknown> | undefined;
          try {
            output = validateFrame(schema, raw) as Record<string, unknown>;
          } catch (error) {
            expect(error, show(body)).toBeInstanceOf(FrameError);
            expect((error as FrameError).code).toBe('bad_request');
            expect(shapeOk, `refused a well-formed frame: ${show(body)}`).toBe(false);
            continue;
          }
          expect(shapeOk, `accepted a malformed frame: ${show(body)}`).toBe(true);
          // Only the schema's fields come out, with the frame's values, on a plain object: extra fields (from_user_id,
          // __proto__, constructor) are dropped and cannot reach the use-cases.
          expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
          for (const key of Object.keys(output)) {
            expect(allowed.has(key), `unexpected output field ${key}`).toBe(true);
            if (Array.isArray(output[key])) expect(output[key], `field ${key}`).toEqual(object[key]);
            else expect(Object.is(output[key], object[key]), `field ${key}`).toBe(true);
          }
          for (const key of [...POLLUTION_KEYS, 'from_user_id']) expect(Object.hasOwn(output, key)).toBe(false);
        }
      }),
      { seed: SEED, numRuns: runs(3_000), reporter },
    );
    expectUnpolluted();
  });

  it('parses 100,000 and 1,000,000 levels of nesting without throwing anything but bad_request', () => {
    // The properties nest up to 10,000 levels; deeper here, once each (JSON.parse is iterative, JSON.stringify is not).
    for (const depth of [100_000, 1_000_000]) {
      for (const body of [
        '['.repeat(depth) + ']'.repeat(depth),
        ...(depth > 100_000
          ? []
          : [
              `{"action":"msg_data","seq":3,"msg_data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
              `{"action":"msg_data","seq":3,"x":${'{"__proto__":'.repeat(depth)}1${'}'.repeat(depth)}}`,
            ]),
      ]) {
        framesRun++;
        const object = asObject(parseModel(body));
        if (!object || hasLoneSurrogate(object)) {
          expect(() => parseFrame(body)).toThrow(FrameError);
          continue;
        }
        expect(seqOf(body)).toBe(3);
        expect(() => validateFrame(MsgDataSchema, parseFrame(body))).toThrow(FrameError);
      }
    }
    expectUnpolluted();
  });
});

describe('route $default', () => {
  it('answers every frame with exactly one contract error or a heartbeat, storing nothing', PROPERTY_TEST, async () => {
    const t = await createTestRuntime();
    const handler = createDefaultHandler(t.runtime) as Handler;
    const baseline = await snapshot(t);
    const body = fc.oneof(
      { weight: 3, arbitrary: bodiesFor('heartbeat', { maxMutations: 2 }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(...ROUTED_ACTIONS).chain((a) => bodiesFor(a, { maxMutations: 1, junkWeight: 0 })),
      },
      { weight: 2, arbitrary: anyBody },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(callerArb, body), { minLength: 50, maxLength: 50 }), async (batch) => {
        for (const [caller, frame] of batch) {
          const connectionId = freshConnectionId();
          const { toCaller, toOthers } = await invoke(t, handler, '$default', frame, caller, connectionId);
          expect(toOthers).toEqual([]);
          expect(toCaller, show(frame)).toHaveLength(1);
          const reply = toCaller[0]!;
          const object = asObject(parseModel(frame));
          const action = object?.['action'];
          if (!object || typeof action !== 'string' || hasLoneSurrogate(object))
            expectContractError(reply, frame, new Set(['bad_request']));
          else if (action === 'heartbeat') {
            // An invalid seq on a heartbeat may be refused or answered without it.
            if (reply['type'] === 'error') expectContractError(reply, frame, new Set(['bad_request']));
            else {
              expect(reply['type']).toBe('heartbeat');
              expectSeqRule(reply, frame);
            }
          } else if ((ROUTED_ACTIONS as readonly string[]).includes(action) && reply['type'] === action)
            expectSeqRule(reply, frame);
          else
            expectContractError(
              reply,
              frame,
              (ROUTED_ACTIONS as readonly string[]).includes(action) ? undefined : new Set(['unknown_action']),
            );
        }
        await expectNothingStored(t, baseline, '$default frames');
      }),
      { ...DB_RUN, numRuns: runs(20) },
    );
    expectUnpolluted();
  });
});

describe('route msg_data', () => {
  it('refused frames: a contract error each, nothing stored, nothing delivered', PROPERTY_TEST, async () => {
    const t = await createTestRuntime();
    await registerLiveUsers(t);
    const handler = createSendHandler(t.runtime) as Handler;
    const maxBytes = t.runtime.config.maxMsgBytes;
    const baseline = await snapshot(t);
    const refusedFrame = fc
      .tuple(callerArb, bodiesFor('msg_data', { maxMutations: 3 }))
      .map(([caller, body]) => ({ caller, body, model: msgDataModel(body, caller, maxBytes) }))
      .filter((f): f is typeof f & { model: Extract<Expectation, { accept: false }> } => !f.model.accept);
    await fc.assert(
      fc.asyncProperty(fc.array(refusedFrame, { minLength: 20, maxLength: 20 }), async (batch) => {
        for (const { caller, body, model } of batch) {
          const { toCaller, toOthers } = await invoke(t, handler, 'msg_data', body, caller, freshConnectionId());
          expect(toOthers, `delivered a refused frame ${show(body)}`).toEqual([]);
          expect(toCaller, show(body)).toHaveLength(1);
          expectContractError(toCaller[0]!, body, model.codes);
        }
        await expectNothingStored(t, baseline, 'refused msg_data frames');
      }),
      { ...DB_RUN, numRuns: runs(25) },
    );
    expectUnpolluted();
  });

  it(
    'mixed frames: accepted ones stored once with the token user, acked, delivered; refused ones leave no trace',
    PROPERTY_TEST,
    async () => {
      // The rate limit is per user, and this property is about storage: its own test below checks the limit.
      const t = await createTestRuntime({ RATE_LIMIT_PER_SECOND: '100000' });
      const live = await registerLiveUsers(t);
      const handler = createSendHandler(t.runtime) as Handler;
      const maxBytes = t.runtime.config.maxMsgBytes;
      interface Accepted {
        caller: string;
        to: string;
        msgId: number;
        data: string;
        clientMsgId: string | undefined;
      }
      const accepted: Accepted[] = [];
      let expectedPending = 0;
      let refused = 0;
      const frame = fc.tuple(
        callerArb,
        bodiesFor('msg_data', { maxMutations: 1, junkWeight: 1 }).map(uniquifyClientMsgId),
      );

      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 10, maxLength: 10 }), async (batch) => {
          for (const [caller, body] of batch) {
            const model = msgDataModel(body, caller, maxBytes);
            const { toCaller, toOthers } = await invoke(t, handler, 'msg_data', body, caller, freshConnectionId());
            expect(toCaller, show(body)).toHaveLength(1);
            const reply = toCaller[0]!;
            if (!model.accept) {
              refused++;
              expectContractError(reply, body, model.codes);
              expect(toOthers).toEqual([]);
              continue;
            }
            const o = asObject(parseModel(body))!;
            const to = o['to_session_id'] as string;
            const data = o['msg_data'] as string;
            const clientMsgId = o['client_msg_id'] as string | undefined;
            expect(reply['type'], `reply to accepted ${show(body)}: ${JSON.stringify(reply).slice(0, 300)}`).toBe(
              'msg_data_ack',
            );
            expectSeqRule(reply, body);
            expect(reply['user_id'], 'ack names the token user, never from_user_id').toBe(caller);
            expect(reply['session_id']).toBe(to);
            expect(reply['session_type']).toBe(1);
            expect(reply['client_msg_id']).toBe(clientMsgId);
            const msgId = reply['msg_id'] as number;
            expect(Number.isSafeInteger(msgId) && msgId >= 1).toBe(true);
            expect(Number.isSafeInteger(reply['create_time'])).toBe(true);
            const previous = accepted.filter((a) => conversationOf(a.caller, a.to) === conversationOf(caller, to));
            expect(msgId, 'msg_id increases per relation').toBeGreaterThan(
              Math.max(0, ...previous.map((a) => a.msgId)),
            );
            accepted.push({ caller, to, msgId, data, clientMsgId });

            const targets = [...(live.get(caller) ?? []), ...(live.get(to) ?? [])];
            expectedPending += targets.length;
            expect(toOthers.map((p) => p.connectionId).sort()).toEqual([...targets].sort());
            for (const { frame: delivered } of toOthers) {
              expect(delivered).toEqual({
                type: 'msg_data',
                from_user_id: caller,
                to_session_id: to,
                msg_id: msgId,
                create_time: reply['create_time'],
                msg_type: o['msg_type'],
                msg_data: data,
                ...(clientMsgId === undefined ? {} : { client_msg_id: clientMsgId }),
              });
            }
          }

          // Storage holds exactly the accepted messages, as sent, and the rows they need; nothing of refused frames.
          const conversations = new Set(accepted.map((a) => conversationOf(a.caller, a.to)));
          const messages = await scan(t, t.tables.names.Messages);
          expect(messages).toHaveLength(accepted.length);
          const byKey = new Map(messages.map((m) => [`${String(m['conversation_id'])}|${String(m['msg_id'])}`, m]));
          for (const a of accepted) {
            const stored = byKey.get(`${conversationOf(a.caller, a.to)}|${a.msgId}`);
            expect(stored, `message ${a.msgId} of ${a.caller}→${a.to}`).toBeDefined();
            expect(stored!['from_user_id']).toBe(a.caller);
            expect(stored!['to_session_id']).toBe(a.to);
            expect(
              stored!['msg_data'] === a.data,
              `msg_data stored as sent (${show(a.data)} vs ${show(stored!['msg_data'] as string)})`,
            ).toBe(true);
            expect(stored!['client_msg_id']).toBe(a.clientMsgId);
          }
          expect((await scan(t, t.tables.names.Conversations)).length).toBe(conversations.size);
          // Both users' session rows and index entries of the day, for each conversation.
          expect((await scan(t, t.tables.names.Sessions)).length).toBe(4 * conversations.size);
          expect((await scan(t, t.tables.names.PendingDeliveries)).length).toBe(expectedPending);
        }),
        { ...DB_RUN, numRuns: runs(20) },
      );
      // Both kinds well represented in the runs (10 frames a run).
      expect(accepted.length).toBeGreaterThan(runs(20));
      expect(refused).toBeGreaterThan(runs(20));
      expectUnpolluted();
    },
  );

  it('over 20 a second from one user: rate_limited, and the refused ones store nothing', async () => {
    const t = await createTestRuntime();
    const handler = createSendHandler(t.runtime) as Handler;
    const codes: string[] = [];
    for (let seq = 0; seq < 25; seq++) {
      const body = JSON.stringify({ action: 'msg_data', seq, to_session_id: 'bob', msg_type: 1, msg_data: `m${seq}` });
      const { toCaller } = await invoke(t, handler, 'msg_data', body, 'alice', 'rate-1');
      codes.push(String(toCaller[0]?.['type'] === 'error' ? toCaller[0]['code'] : toCaller[0]?.['type']));
    }
    expect(codes).toEqual([...Array<string>(20).fill('msg_data_ack'), ...Array<string>(5).fill('rate_limited')]);
    expect(await scan(t, t.tables.names.Messages)).toHaveLength(20);
  });
});

describe('error frames of frames near the 128 KB limit', () => {
  it('a refused frame API Gateway could deliver gets an error frame API Gateway can post', async () => {
    const t = await createTestRuntime();
    const routes: [string, Handler][] = [
      ['msg_data', createSendHandler(t.runtime) as Handler],
      ['msg_data_ack', createAckHandler(t.runtime) as Handler],
    ];
    for (const [routeKey, handler] of routes) {
      for (const field of ['seq', 'action', 'to_session_id', 'msg_type', 'msg_id', 'session_type']) {
        const frame = (value: string) =>
          `{"action":"${routeKey}","${field}":"${value}"}`.replace(`"action":"${routeKey}","action"`, '"action"');
        // As long as API Gateway still delivers: the frame with an empty value, filled up to 128 KB.
        const body = frame('x'.repeat(API_GATEWAY_MAX_BYTES - Buffer.byteLength(frame(''))));
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(API_GATEWAY_MAX_BYTES);
        const { toCaller } = await invoke(t, handler, routeKey, body, 'alice', freshConnectionId());
        expect(toCaller, `${routeKey} with a long ${field}`).toHaveLength(1);
        expectContractError(toCaller[0]!, body, new Set(['bad_request']));
      }
    }
  });
});

describe('route msg_data_ack', () => {
  it(
    'no frame of another connection or user removes a pending delivery, and only bad frames get an error',
    PROPERTY_TEST,
    async () => {
      const t = await createTestRuntime();
      const send = createSendHandler(t.runtime) as Handler;
      const handler = createAckHandler(t.runtime) as Handler;
      for (const [userId, connectionId] of [
        ['alice', 'a1='],
        ['bob', 'b1='],
        ['bob', 'b2='],
      ] as const) {
        await registerConnection(t.runtime, { userId, connectionId });
      }
      for (let i = 1; i <= 3; i++) {
        await invoke(
          t,
          send,
          'msg_data',
          JSON.stringify({ action: 'msg_data', to_session_id: 'bob', msg_type: 1, msg_data: `s${i}` }),
          'alice',
          'a-send=',
        );
      }
      // Attackers: another user, the receiver's connection that got nothing, the sender's sending connection, odd ids.
      await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b3=' });
      await registerConnection(t.runtime, { userId: 'carol', connectionId: 'c1=' });
      const attackers = [
        ['carol', 'c1='],
        ['bob', 'b3='],
        ['bob', 'b-unregistered='],
        ['alice', 'a-send='],
        ['__proto__', 'p1='],
        ['constructor', 'k1='],
      ] as const;
      const before = await snapshot(t);
      expect(before['PendingDeliveries']).toHaveLength(9);

      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom(...attackers), bodiesFor('msg_data_ack', { maxMutations: 2 })), {
            minLength: 20,
            maxLength: 20,
          }),
          async (batch) => {
            for (const [[caller, connectionId], body] of batch) {
              const model = msgDataAckModel(body);
              const { toCaller, toOthers } = await invoke(t, handler, 'msg_data_ack', body, caller, connectionId);
              expect(toOthers).toEqual([]);
              if (model.accept) {
                // No reply; a session the caller is not part of may be answered not_member.
                for (const reply of toCaller) expectContractError(reply, body, new Set(['not_member']));
                expect(toCaller.length).toBeLessThanOrEqual(1);
              } else {
                expect(toCaller, show(body)).toHaveLength(1);
                expectContractError(toCaller[0]!, body, model.codes);
              }
            }
            expect(await snapshot(t)).toEqual(before);
          },
        ),
        { ...DB_RUN, numRuns: runs(20) },
      );

      // The owner's ack still works, and removes only its own row.
      const { toCaller } = await invoke(
        t,
        handler,
        'msg_data_ack',
        JSON.stringify({ action: 'msg_data_ack', seq: 1, msg_id: 1, session_id: 'alice', session_type: 1 }),
        'bob',
        'b1=',
      );
      expect(toCaller).toEqual([]);
      const pending = await scan(t, t.tables.names.PendingDeliveries);
      expect(pending).toHaveLength(8);
      expect(pending.some((p) => String(p['delivery_key']).startsWith('b1=#') && p['msg_id'] === 1)).toBe(false);
      expectUnpolluted();
    },
  );
});

describe('route typing', () => {
  it(
    'a malformed frame gets one contract error; a well-formed one no reply, only typing frames to others, nothing stored',
    PROPERTY_TEST,
    async () => {
      const t = await createTestRuntime();
      const handler = ROUTE_FUNCTIONS.typing.create(t.runtime) as Handler;
      for (const [userId, connectionId] of [
        ['alice', 'a1='],
        ['bob', 'b1='],
        ['carol', 'c1='],
        ['mallory', 'm1='],
      ] as const) {
        await registerConnection(t.runtime, { userId, connectionId });
      }
      const callers = [
        ['carol', 'c1='],
        ['mallory', 'm1='],
        ['__proto__', 'p1='],
        ['alice', 'a1='],
      ] as const;
      const before = await snapshot(t);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom(...callers), bodiesFor('typing', { maxMutations: 2 })), {
            minLength: 10,
            maxLength: 10,
          }),
          async (batch) => {
            for (const [[caller, connectionId], body] of batch) {
              const model = typingModel(body, caller);
              const { toCaller, toOthers } = await invoke(t, handler, 'typing', body, caller, connectionId);
              for (const { frame } of toOthers) expect(frame).toMatchObject({ type: 'typing', user_id: caller });
              if (model.accept) {
                for (const reply of toCaller) expectContractError(reply, body, new Set(['not_member']));
                expect(toCaller.length).toBeLessThanOrEqual(1);
              } else {
                expect(toCaller, show(body)).toHaveLength(1);
                expectContractError(toCaller[0]!, body, model.codes);
              }
            }
            // Only the throttle's items and the budget's windows (RateLimits) are written.
            expect({ ...(await snapshot(t)), RateLimits: [] }).toEqual({ ...before, RateLimits: [] });
          },
        ),
        { ...DB_RUN, numRuns: runs(20) },
      );
      expectUnpolluted();
    },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Every other function behind a route, from the route table (core/routes.ts) and the one table of handler factories.
// account: its one action has no fields, and an accepted one closes the caller's connections and starts a job
// (test/e2e/account-lifecycle.test.ts, test/integration/account-deletion.test.ts). typing: a well-formed frame gets
// no reply (its own property below).
const extraFunctions: RouteFunctionId[] = [...new Set<RouteFunctionId>(Object.values(ACTION_ROUTES))].filter(
  (fn) => fn !== 'send' && fn !== 'ack' && fn !== 'account' && fn !== 'typing',
);
const SECRET = 'SECRET-alice-bob';

function actionsOf(functionId: string): string[] {
  return Object.entries(ACTION_ROUTES)
    .filter(([, fn]) => fn === functionId)
    .map(([action]) => action);
}

function extraHandler(functionId: RouteFunctionId, runtime: TestRuntime['runtime']): Handler {
  return ROUTE_FUNCTIONS[functionId].create(runtime) as Handler;
}

describe('read-side, group and device routes', () => {
  it('covers every function behind a route', () => {
    expect(extraFunctions.sort()).toEqual([
      'attachments',
      'blocks',
      'devices',
      'edits',
      'groups',
      'presence',
      'reports',
      'sync',
    ]);
  });

  for (const functionId of extraFunctions) {
    it(`lambdas/${functionId}: a non-string action is bad_request or unknown_action, not a crash`, async () => {
      const t = await createTestRuntime();
      const handler = extraHandler(functionId, t.runtime);
      for (const body of [
        '{"action":{"toString":null},"seq":1}',
        '{"action":{"toString":{},"valueOf":{}},"seq":2}',
        `{"action":${nested('array', 100_000)},"seq":3}`,
        '{"action":null,"seq":4}',
      ]) {
        const { toCaller } = await invoke(t, handler, '$default', body, 'carol', freshConnectionId());
        expect(toCaller, show(body)).toHaveLength(1);
        expectContractError(toCaller[0]!, body, new Set(['bad_request', 'unknown_action']));
      }
    });
  }
  it('msg_read_ack with a huge msg_id does not freeze the read mark: a later real read still clears unread', async () => {
    const t = await createTestRuntime();
    const sync = extraHandler('sync', t.runtime);
    const send = createSendHandler(t.runtime) as Handler;
    const text = (n: number) =>
      JSON.stringify({ action: 'msg_data', to_session_id: 'bob', msg_type: 1, msg_data: `m${n}` });
    const readAck = (msgId: number) =>
      JSON.stringify({
        action: 'msg_read_ack',
        seq: msgId % 1000,
        session_id: 'alice',
        session_type: 1,
        msg_id: msgId,
      });
    await invoke(t, send, 'msg_data', text(1), 'alice', 'a1=');
    await invoke(t, sync, 'msg_read_ack', readAck(Number.MAX_SAFE_INTEGER), 'bob', 'b1=');
    await invoke(t, send, 'msg_data', text(2), 'alice', 'a1=');
    const { toCaller: read } = await invoke(t, sync, 'msg_read_ack', readAck(2), 'bob', 'b1=');
    expect(read).toEqual([{ type: 'msg_read_ack', seq: 2 }]);
    const { toCaller } = await invoke(t, sync, 'unread_cnt', '{"action":"unread_cnt","seq":9}', 'bob', 'b1=');
    expect(toCaller[0], 'bob read msg 2 of 2 after a read ack for msg_id 2^53-1').toMatchObject({
      type: 'unread_cnt',
      seq: 9,
      total_cnt: 0,
    });
  });

  for (const functionId of extraFunctions) {
    it(
      `lambdas/${functionId}: a reply of the action's type or a contract error; attackers read nothing of alice↔bob`,
      PROPERTY_TEST,
      async () => {
        const t = await createTestRuntime();
        const handler = extraHandler(functionId, t.runtime);
        const send = createSendHandler(t.runtime) as Handler;
        for (const [userId, connectionId] of [
          ['alice', 'a1='],
          ['bob', 'b1='],
          ['carol', 'c2='],
        ] as const) {
          await registerConnection(t.runtime, { userId, connectionId });
        }
        for (let i = 1; i <= 3; i++) {
          const body = JSON.stringify({
            action: 'msg_data',
            to_session_id: i === 2 ? 'alice' : 'bob',
            msg_type: 1,
            msg_data: `${SECRET}-${i}`,
          });
          await invoke(t, send, 'msg_data', body, i === 2 ? 'bob' : 'alice', 'seed=');
        }
        const actions = actionsOf(functionId);
        const attackers = [
          ['carol', 'c1='],
          ['mallory', 'm1='],
          ['__proto__', 'p1='],
          ['carol', 'c2='],
        ] as const;
        let baseline = await snapshot(t);
        const posted = t.gateway.posts.length;

        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.tuple(
                fc.constantFrom(...attackers),
                fc.constantFrom(...actions).chain((a) => bodiesFor(a, { maxMutations: 2 }).map((b) => [a, b] as const)),
              ),
              {
                minLength: 10,
                maxLength: 10,
              },
            ),
            async (batch) => {
              let allRefused = true;
              for (const [[caller, connectionId], [action, body]] of batch) {
                const { toCaller, toOthers } = await invoke(t, handler, action, body, caller, connectionId);
                expect(toCaller, `${action} ${show(body)}`).toHaveLength(1);
                const reply = toCaller[0]!;
                if (reply['type'] === 'error') expectContractError(reply, body);
                else {
                  allRefused = false;
                  const o = asObject(parseModel(body));
                  expect(reply['type'], show(body)).toBe(o?.['action']);
                  expect(
                    !Object.hasOwn(o!, 'seq') || isValidSeq(o!['seq']),
                    `accepted an invalid seq: ${show(body)}`,
                  ).toBe(true);
                  expectSeqRule(reply, body);
                }
                for (const { frame } of toOthers) expect(frame['type']).not.toBe('error');
              }
              const leaked = t.gateway.posts.slice(posted).filter((p) => JSON.stringify(p.frame).includes(SECRET));
              expect(leaked, 'alice↔bob messages reached someone else').toEqual([]);
              // A refused writing request still counts against the user's rate (RateLimits): it is not stored data.
              const now = await snapshot(t);
              if (allRefused)
                expect({ ...now, RateLimits: [] }, 'refused requests changed a table').toEqual({
                  ...baseline,
                  RateLimits: [],
                });
              baseline = now;
            },
          ),
          { ...DB_RUN, numRuns: runs(25) },
        );
        expectUnpolluted();
      },
    );
  }
});
