/**
 * ChatClient against a fake server (ws's WebSocketServer on a free loopback port): sends and acks, error frames,
 * incoming messages, resends, reconnects, refused upgrades, heartbeats and requests.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  AuthError,
  ChatClient,
  ChatServerError,
  ConnectionClosedError,
  RequestTimeoutError,
  SendTimeoutError,
  group,
  peer,
  type MsgDataFrame,
  type WebSocketConstructor,
} from '../../client/index.js';
import { ackFor, type Frame } from './fake-server.js';
import { cleanUp, makeClient, recordStates, startServer } from './harness.js';

afterEach(cleanUp);

function msgData(fields: Partial<MsgDataFrame> = {}): Frame {
  return {
    type: 'msg_data',
    from_user_id: 'bob',
    to_session_id: 'alice',
    msg_id: 12,
    create_time: 1_790_000_000,
    msg_type: 1,
    msg_data: 'hi',
    client_msg_id: 'c-bob-1',
    ...fields,
  };
}

describe('connecting', () => {
  it('puts the token and client_type in the query and reports connecting → open', async () => {
    const server = await startServer();
    const client = makeClient(server, { clientType: 17 });
    const states = recordStates(client);
    await client.connect();
    const connection = await server.nextConnection();
    expect(connection.query.get('token')).toBe('token-alice');
    expect(connection.query.get('client_type')).toBe('17');
    expect(states).toEqual(['connecting', 'open']);
    expect(client.state).toBe('open');
  });

  it('asks getToken before every attempt', async () => {
    const server = await startServer();
    let calls = 0;
    const client = makeClient(server, { token: undefined, getToken: async () => `t${++calls}` });
    await client.connect();
    (await server.nextConnection()).drop();
    const second = await server.nextConnection();
    expect(second.query.get('token')).toBe('t2');
  });

  it('requires a WebSocket implementation and a token', () => {
    expect(() => new ChatClient({ url: 'ws://127.0.0.1:1', token: 't', WebSocket: undefined })).toThrow(/WebSocket/);
    expect(() => new ChatClient({ url: 'ws://127.0.0.1:1', WebSocket })).toThrow(/token/);
  });
});

describe('send', () => {
  it('resolves with the msg_data_ack of the same seq and emits ack', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const acks: unknown[] = [];
    client.on('ack', (ack) => acks.push(ack));

    const sent = client.send({ to: peer('bob'), msgData: 'hello' });
    const frame = await connection.nextAction('msg_data');
    expect(frame).toMatchObject({ action: 'msg_data', to_session_id: 'bob', msg_type: 1, msg_data: 'hello' });
    expect(Number.isInteger(frame['seq'])).toBe(true);
    expect(frame['client_msg_id']).toMatch(/^[0-9a-f-]{36}$/);
    connection.send(ackFor(frame, 12));

    const ack = await sent;
    expect(ack).toMatchObject({ type: 'msg_data_ack', msg_id: 12, create_time: 1_790_000_000, session_id: 'bob' });
    expect(ack.client_msg_id).toBe(frame['client_msg_id']);
    expect(acks).toEqual([ack]);
    expect(client.userId).toBe('alice');
    expect(client.pendingSends).toBe(0);
  });

  it('uses increasing seqs and the given client_msg_id', async () => {
    const server = await startServer({
      onFrame: (c, f) => f['action'] === 'msg_data' && c.send(ackFor(f, Number(f['seq']))),
    });
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    await client.send({ to: peer('bob'), msgData: 'a', clientMsgId: 'mine-1' });
    await client.send({ to: peer('bob'), msgData: 'b', kind: 'audio' });
    const [first, second] = connection.frames;
    expect(first?.['client_msg_id']).toBe('mine-1');
    expect(second?.['msg_type']).toBe(2);
    expect(Number(second?.['seq'])).toBeGreaterThan(Number(first?.['seq']));
  });

  it('rejects with ChatServerError carrying the code of an error frame with the same seq; the connection stays usable', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));

    const refused = client.send({ to: peer('alice'), msgData: 'me' });
    const frame = await connection.nextAction('msg_data');
    connection.send({ type: 'error', seq: frame['seq'], code: 'self_message', message: 'single chat to oneself' });
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatServerError);
    expect((error as ChatServerError).code).toBe('self_message');
    expect((error as ChatServerError).seq).toBe(frame['seq']);

    const ok = client.send({ to: peer('bob'), msgData: 'fine' });
    const next = await connection.nextAction('msg_data');
    connection.send(ackFor(next, 1));
    await expect(ok).resolves.toMatchObject({ msg_id: 1 });
    expect(errors).toEqual([]);
  });

  it('reports error frames without a pending call on the error event', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const reported = client.waitFor('error');
    connection.send({ type: 'error', seq: 999, code: 'bad_request', message: 'not JSON' });
    const error = await reported;
    expect(error).toBeInstanceOf(ChatServerError);
    expect((error as ChatServerError).code).toBe('bad_request');
  });

  it('waits for the connection when sent before connect()', async () => {
    const server = await startServer({ onFrame: (c, f) => f['action'] === 'msg_data' && c.send(ackFor(f, 3)) });
    const client = makeClient(server);
    const sent = client.send({ to: peer('bob'), msgData: 'early' });
    await client.connect();
    await expect(sent).resolves.toMatchObject({ msg_id: 3 });
  });

  it('returns the same promise for the same pending clientMsgId', async () => {
    const server = await startServer();
    const client = makeClient(server);
    const a = client.send({ to: peer('bob'), msgData: 'x', clientMsgId: 'same' });
    const b = client.send({ to: peer('bob'), msgData: 'x', clientMsgId: 'same' });
    expect(a).toBe(b);
    client.close();
    await expect(a).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('rejects bad input without sending', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await expect(client.send({ to: { type: 'peer', id: '' }, msgData: 'x' })).rejects.toBeInstanceOf(TypeError);
    await expect(client.send({ to: peer('bob'), msgData: 'x', clientMsgId: 'x'.repeat(65) })).rejects.toBeInstanceOf(
      TypeError,
    );
    expect(() => peer('g:AAAAAAAAAAAAAAAAAAAAAA')).toThrow(TypeError); // a group id is never a peer
  });
});

describe('resending', () => {
  it('resends an unacked message after reconnect with the same client_msg_id and a new seq; resolves once', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const first = await server.nextConnection();

    let settled = 0;
    const sent = client.send({ to: peer('bob'), msgData: 'survives' }).finally(() => settled++);
    const original = await first.nextAction('msg_data');
    first.drop(); // No ack: the server went away.

    const second = await server.nextConnection();
    const resent = await second.nextAction('msg_data');
    expect(resent['client_msg_id']).toBe(original['client_msg_id']);
    expect(resent['msg_data']).toBe('survives');
    expect(resent['seq']).not.toBe(original['seq']);

    const duplicate = client.waitFor('frame', (f) => f.type === 'msg_data_ack');
    second.send(ackFor(resent, 7));
    second.send(ackFor(resent, 7)); // A duplicate ack changes nothing: it is just a frame.
    await expect(sent).resolves.toMatchObject({ msg_id: 7 });
    await duplicate;
    expect(settled).toBe(1);
  });

  it('after an ack timeout, checks the connection with a heartbeat; answered, resends with the same client_msg_id and takes a late ack of the first try', async () => {
    const server = await startServer();
    const client = makeClient(server, { ackTimeoutMs: 50 });
    await client.connect();
    const connection = await server.nextConnection();
    const acks: unknown[] = [];
    client.on('ack', (ack) => acks.push(ack));

    const sent = client.send({ to: peer('bob'), msgData: 'slow' });
    const original = await connection.nextAction('msg_data');
    const probe = await connection.nextAction('heartbeat');
    connection.send({ type: 'heartbeat', seq: probe['seq'] });
    const resent = await connection.nextAction('msg_data');
    expect(resent['client_msg_id']).toBe(original['client_msg_id']);
    expect(resent['seq']).not.toBe(original['seq']);

    connection.send(ackFor(original, 4)); // The first try's ack, late.
    await expect(sent).resolves.toMatchObject({ msg_id: 4, seq: original['seq'] });
    expect(acks).toHaveLength(1);
  });

  it('with maxSendAttempts set, gives up with SendTimeoutError after that many ack timeouts', async () => {
    const server = await startServer({
      onFrame: (c, f) => f['action'] === 'heartbeat' && c.send({ type: 'heartbeat', seq: f['seq'] }),
    });
    const client = makeClient(server, { ackTimeoutMs: 30, maxSendAttempts: 2 });
    await client.connect();
    const connection = await server.nextConnection();
    const error = await client.send({ to: peer('bob'), msgData: 'lost' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendTimeoutError);
    expect(connection.frames.filter((f) => f['action'] === 'msg_data')).toHaveLength(2);
    expect(client.pendingSends).toBe(0);
  });
});

describe('incoming messages', () => {
  it('fires message once for a redelivered msg_data but acknowledges each delivery', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const messages: MsgDataFrame[] = [];
    client.on('message', (message) => messages.push(message));

    const expected = { action: 'msg_data_ack', msg_id: 12, session_id: 'bob', session_type: 1 };
    connection.send(msgData());
    expect(await connection.nextAction('msg_data_ack')).toEqual(expected);
    connection.send(msgData()); // The server did not get the ack in time: a redelivery.
    expect(await connection.nextAction('msg_data_ack')).toEqual(expected);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      from_user_id: 'bob',
      msg_id: 12,
      msg_data: 'hi',
      live: true,
      conversation: peer('bob'),
    });
  });

  it('keys single chat by the unordered pair: the same msg_id in the other direction is the same message', async () => {
    const server = await startServer();
    const client = makeClient(server, { ackBatchMs: 0 });
    await client.connect();
    const connection = await server.nextConnection();
    const messages: MsgDataFrame[] = [];
    client.on('message', (message) => messages.push(message));

    connection.send(msgData({ from_user_id: 'bob', to_session_id: 'alice', msg_id: 5 }));
    connection.send(msgData({ from_user_id: 'alice', to_session_id: 'bob', msg_id: 5 })); // Same relation, same id.
    connection.send(msgData({ from_user_id: 'carol', to_session_id: 'alice', msg_id: 5 })); // Another relation.
    connection.send(msgData({ from_user_id: 'bob', to_session_id: 'alice', msg_id: 6 }));
    for (let i = 0; i < 4; i++) await connection.nextAction('msg_data_ack');
    expect(messages.map((m) => `${m.from_user_id}:${m.msg_id}`)).toEqual(['bob:5', 'carol:5', 'bob:6']);
  });

  it("acks a copy of its own message from another device with the peer as session_id (user from the token's sub)", async () => {
    const server = await startServer();
    const payload = Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url');
    const client = makeClient(server, { token: `eyJhbGciOiJIUzI1NiJ9.${payload}.sig` });
    await client.connect();
    const connection = await server.nextConnection();
    connection.send(msgData({ from_user_id: 'alice', to_session_id: 'bob', msg_id: 7 }));
    expect(await connection.nextAction('msg_data_ack')).toEqual({
      action: 'msg_data_ack',
      msg_id: 7,
      session_id: 'bob',
      session_type: 1,
    });
    expect(client.userId).toBe('alice');
  });

  it('acknowledges group messages with the group id and session_type 2', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const message = client.waitFor('message');
    connection.send(msgData({ to_session_id: 'g:GroupOne______________', msg_type: 17, msg_id: 3 }));
    expect(await message).toMatchObject({ conversation: group('g:GroupOne______________'), live: true });
    expect(await connection.nextAction('msg_data_ack')).toEqual({
      action: 'msg_data_ack',
      msg_id: 3,
      session_id: 'g:GroupOne______________',
      session_type: 2,
    });
  });

  it('passes other frames to the frame event and reports unreadable ones', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const frame = client.waitFor('frame');
    connection.send({ type: 'something_new', value: 9 });
    expect(await frame).toMatchObject({ type: 'something_new', value: 9 });
    const error = client.waitFor('error');
    connection.sendRaw('not json');
    expect((await error).name).toBe('ProtocolError');
    // API Gateway's own frame when a route's function fails: an internal server error, not tied to a call.
    const failed = client.waitFor('error');
    connection.send({ message: 'Internal server error', connectionId: 'c-1', requestId: 'r-1' });
    expect(await failed).toMatchObject({
      name: 'ChatServerError',
      code: 'internal',
      message: 'internal: API Gateway: Internal server error',
    });
  });
});

describe('reconnecting', () => {
  it('reconnects with backoff after the server drops the socket', async () => {
    const server = await startServer();
    const client = makeClient(server, { reconnect: { initialDelayMs: 80, jitter: 0 } });
    const states = recordStates(client);
    await client.connect();
    const first = await server.nextConnection();

    const reconnecting = client.waitFor('state', (s) => s === 'reconnecting');
    first.drop();
    await reconnecting;
    const droppedAt = performance.now();
    await client.waitFor('state', (s) => s === 'open');
    expect(performance.now() - droppedAt).toBeGreaterThanOrEqual(70);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(server.connections).toHaveLength(2);
  });

  it('backs off further while the server is unreachable, then connects when it returns', async () => {
    let refusals = 0;
    const upgradeTimes: number[] = [];
    const server = await startServer({
      refuse: () => {
        upgradeTimes.push(performance.now());
        return ++refusals <= 3 ? 503 : undefined; // 503 is not an auth refusal: the client keeps trying.
      },
    });
    const client = makeClient(server, { reconnect: { initialDelayMs: 20, factor: 2, jitter: 0 } });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    const states = recordStates(client);
    await client.connect();
    expect(server.upgrades).toHaveLength(4);
    // One `state` event per scheduled attempt: each tells a new `connection.nextAttemptAt`.
    expect(states).toEqual(['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'open']);
    expect(errors).toEqual([]);
    const gaps = upgradeTimes.slice(1).map((t, i) => t - upgradeTimes[i]!);
    // Timers never fire early, so the nominal delays (20, 40, 80 ms) are lower bounds whatever the machine's load.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
  });

  it('gives up after reconnect.maxAttempts with ConnectionClosedError', async () => {
    const server = await startServer({ refuse: () => 500 });
    const client = makeClient(server, { reconnect: { initialDelayMs: 5, maxAttempts: 2, jitter: 0 } });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(server.upgrades).toHaveLength(3); // The first attempt and two retries.
    expect(client.state).toBe('closed');
  });

  it('does not reconnect after close(), which rejects pending sends and requests', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const sent = client.send({ to: peer('bob'), msgData: 'never acked' });
    const asked = client.request('unread_cnt');
    await connection.nextAction('unread_cnt');
    client.close();
    await expect(sent).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(asked).rejects.toBeInstanceOf(ConnectionClosedError);
    await connection.closed;
    expect(client.state).toBe('closed');
    expect(server.upgrades).toHaveLength(1);
  });
});

describe('refused upgrade', () => {
  for (const status of [401, 403]) {
    it(`reports HTTP ${status} as AuthError and stops (static token: no retry)`, async () => {
      const server = await startServer({ refuse: () => status });
      const client = makeClient(server);
      const states = recordStates(client);
      const reported = client.waitFor('error');
      const error = await client.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).status).toBe(status);
      expect(await reported).toBe(error);
      expect(states).toEqual(['connecting', 'closed']);
      expect(server.upgrades).toHaveLength(1);
    });
  }

  it('with getToken, tries one fresh token, then stops with AuthError and rejects pending sends', async () => {
    const server = await startServer({ refuse: () => 401 });
    let calls = 0;
    const client = makeClient(server, { token: undefined, getToken: () => `expired-${++calls}` });
    const sent = client.send({ to: peer('bob'), msgData: 'x' });
    await expect(client.connect()).rejects.toBeInstanceOf(AuthError);
    await expect(sent).rejects.toBeInstanceOf(AuthError);
    expect(server.upgrades.map((q) => q.get('token'))).toEqual(['expired-1', 'expired-2']);
  });

  it('stops when getToken throws an AuthError', async () => {
    const server = await startServer();
    const client = makeClient(server, {
      token: undefined,
      getToken: () => Promise.reject(new AuthError('signed out')),
    });
    await expect(client.connect()).rejects.toThrow('signed out');
    expect(server.upgrades).toHaveLength(0);
  });
});

describe('heartbeat', () => {
  it('sends heartbeat frames with increasing seqs while open and swallows replies and unknown_action errors', async () => {
    const server = await startServer();
    const client = makeClient(server, { heartbeatIntervalMs: 20 });
    const errors: Error[] = [];
    const frames: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    client.on('frame', (frame) => frames.push(frame));
    await client.connect();
    const connection = await server.nextConnection();

    const first = await connection.nextAction('heartbeat');
    connection.send({ type: 'heartbeat', seq: first['seq'] });
    const second = await connection.nextAction('heartbeat');
    connection.send({ type: 'error', seq: second['seq'], code: 'unknown_action', message: 'no heartbeat route' });
    const third = await connection.nextAction('heartbeat');
    expect(Object.keys(first).sort()).toEqual(['action', 'seq']);
    expect(Number(second['seq'])).toBeGreaterThan(Number(first['seq']));
    expect(Number(third['seq'])).toBeGreaterThan(Number(second['seq']));
    expect(errors).toEqual([]);
    expect(frames).toEqual([]);
  });

  it('close() stops every timer: nothing is sent afterwards, however long', async () => {
    const sent: string[] = [];
    class RecordingWebSocket extends WebSocket {
      override send(data: string): void {
        sent.push(data);
        super.send(data);
      }
    }
    const server = await startServer({
      onFrame: (c, f) => f['action'] === 'heartbeat' && c.send({ type: 'heartbeat', seq: f['seq'] }),
    });
    const client = makeClient(server, {
      heartbeatIntervalMs: 1_000,
      WebSocket: RecordingWebSocket as unknown as WebSocketConstructor,
      reconnect: false,
    });
    await client.connect();
    const connection = await server.nextConnection();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      // Timers set from here on are fake; the heartbeat interval set at open is real, so open anew.
      connection.drop();
      await client.waitFor('state', (s) => s === 'closed');
      await client.connect();
      const second = await server.nextConnection();
      vi.advanceTimersByTime(1_000);
      await second.nextAction('heartbeat');
      client.send({ to: peer('bob'), msgData: 'pending' }).catch(() => undefined);
      client.close();
      const count = sent.length;
      vi.advanceTimersByTime(3_600_000);
      expect(sent.length).toBe(count);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('request', () => {
  it('resolves with the reply whose type is the action and whose seq matches', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();

    const reply = client.request('latest_msg_id', { session_id: 'bob', session_type: 1 });
    const frame = await connection.nextAction('latest_msg_id');
    expect(frame).toMatchObject({ action: 'latest_msg_id', session_id: 'bob', session_type: 1 });
    // A frame with the same seq but another type is not the reply.
    connection.send({
      type: 'msg_read_notify',
      seq: frame['seq'],
      user_id: 'alice',
      session_id: 'x',
      session_type: 1,
      msg_id: 1,
    });
    connection.send({
      type: 'latest_msg_id',
      seq: frame['seq'],
      session_id: 'bob',
      session_type: 1,
      latest_msg_id: 41,
    });
    const answer = await reply;
    expect(answer.latest_msg_id).toBe(41);
  });

  it('rejects with the error code, times out, and rejects when the connection drops', async () => {
    const server = await startServer();
    // A timeout long enough never to fire for the answered request, and a second client that times out at once on the
    // one the server never answers: neither outcome depends on how fast the machine answers.
    const client = makeClient(server, { requestTimeoutMs: 60_000 });
    await client.connect();
    const connection = await server.nextConnection();

    const refused = client.request('msg_list', { session_id: 'x', session_type: 1, msg_id_begin: 0, msg_cnt: 500 });
    const frame = await connection.nextAction('msg_list');
    connection.send({ type: 'error', seq: frame['seq'], code: 'bad_request', message: 'msg_cnt' });
    await expect(refused).rejects.toMatchObject({ name: 'ChatServerError', code: 'bad_request' });

    const impatient = makeClient(server, { requestTimeoutMs: 1 });
    await impatient.connect();
    await expect(impatient.request('group_list')).rejects.toBeInstanceOf(RequestTimeoutError);
    impatient.close();

    const dropped = client.request('unread_cnt');
    await connection.nextAction('unread_cnt');
    connection.drop();
    await expect(dropped).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('waits for the connection when made before connect(), and refuses msg_data', async () => {
    const server = await startServer({
      onFrame: (c, f) => f['action'] === 'group_list' && c.send({ type: 'group_list', seq: f['seq'], group_list: [] }),
    });
    const client = makeClient(server);
    const reply = client.request('group_list');
    await client.connect();
    await expect(reply).resolves.toMatchObject({ type: 'group_list', group_list: [] });
    // @ts-expect-error msg_data is not a request: send() sends messages.
    await expect(client.request('msg_data', {})).rejects.toBeInstanceOf(TypeError);
  });
});
