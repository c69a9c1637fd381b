/**
 * The connection's life: a dead connection noticed by a missed heartbeat reply, calls after close(), reconnecting
 * at once on demand or when the network is back, refused tokens on every platform, kicks, and the state model.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  AuthError,
  ChatClient,
  ConnectTimeoutError,
  ConnectionClosedError,
  KickedError,
  SendTimeoutError,
  group,
  peer,
  type KickFrame,
  type WebSocketConstructor,
} from '../../client/index.js';
import { AutoAck, ackFor } from './fake-server.js';
import { cleanUp, isOpen, makeClient, recordStates, settledNow, startServer } from './harness.js';

afterEach(cleanUp);

describe('a dead connection', () => {
  it('is closed when a heartbeat reply is missed, and reconnects', async () => {
    const server = await startServer();
    const client = makeClient(server, { heartbeatIntervalMs: 20, pingTimeoutMs: 50 });
    await client.connect();
    const frozen = await server.nextConnection(); // never answers a frame
    await frozen.nextAction('heartbeat');
    const second = await server.nextConnection();
    await isOpen(client);
    expect(second).not.toBe(frozen);
  });

  it('a send whose ack timed out is resent with the same client_msg_id after the reconnect, never rejected', async () => {
    const server = await startServer();
    const client = makeClient(server, {
      ackTimeoutMs: 30,
      pingTimeoutMs: 30,
      heartbeatIntervalMs: 0,
      // Enough transmissions that the 30 ms ack timeouts on the second connection, before the test acks, never use
      // them up however slow the machine: the point is the resend, not the bound (sending.test.ts has that).
      maxSendAttempts: 1_000,
    });
    await client.connect();
    const frozen = await server.nextConnection();
    const sent = client.send({ to: peer('bob'), msgData: 'may be stored' });
    const first = await frozen.nextAction('msg_data');
    const second = await server.nextConnection();
    const resent = await second.nextAction('msg_data');
    expect(resent['client_msg_id']).toBe(first['client_msg_id']);
    second.send(ackFor(resent, 9));
    await expect(sent).resolves.toMatchObject({ msg_id: 9 });
  });
});

describe('after close()', () => {
  it('send, request and sync reject at once with ConnectionClosedError', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    client.close();
    const calls = [client.send({ to: peer('bob'), msgData: 'late' }), client.request('unread_cnt'), client.sync()];
    for (const call of calls) {
      expect(await settledNow(call)).toBe('rejected');
      await expect(call).rejects.toBeInstanceOf(ConnectionClosedError);
    }
  });
});

describe('reconnecting now', () => {
  it('connect() during a long backoff connects at once', async () => {
    let refusals = 1;
    const server = await startServer({ refuse: () => (refusals-- > 0 ? 503 : undefined) });
    const client = makeClient(server, { reconnect: { initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: 0 } });
    const opened = client.connect();
    await client.waitFor('state', (s) => s === 'reconnecting');
    await client.connect();
    await opened;
    expect(server.upgrades).toHaveLength(2);
  });
});

/** A WebSocket whose upgrade is refused as React Native reports it: an error event with a message, then close 1006. */
function refusedLikeReactNative(message: string): WebSocketConstructor {
  return class {
    readyState = 0;
    onopen: ((event: never) => void) | null = null;
    onmessage: ((event: never) => void) | null = null;
    onclose: ((event: never) => void) | null = null;
    onerror: ((event: never) => void) | null = null;
    constructor(readonly url: string) {
      setTimeout(() => {
        (this.onerror as ((event: unknown) => void) | null)?.({ message });
        this.readyState = 3;
        (this.onclose as ((event: unknown) => void) | null)?.({ code: 1006, reason: '' });
      }, 0);
    }
    send(): void {}
    close(): void {}
  };
}

describe('a refused token', () => {
  for (const [platform, message] of [
    ['Android (OkHttp)', "Expected HTTP 101 response but was '401 Unauthorized'"],
    ['iOS (SocketRocket)', 'Received bad response code from server: 403.'],
  ] as const) {
    it(`on ${platform}: asks getToken once more, then stops with AuthError`, async () => {
      let calls = 0;
      const client = new ChatClient({
        url: 'wss://example.invalid/prod',
        getToken: () => `t${++calls}`,
        WebSocket: refusedLikeReactNative(message),
        reconnect: { initialDelayMs: 1, jitter: 0, maxAttempts: 5 },
        catchUp: false,
      });
      const error = await client.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect(calls).toBe(2);
    });
  }
});

/**
 * Node's built-in WebSocket (undici) when the upgrade is refused or the server is unreachable: an error event whose
 * message says neither, and no close event ever; readyState stays CONNECTING.
 */
function failsLikeNodeBuiltIn(onAttempt: () => void = () => {}): WebSocketConstructor {
  return class {
    readyState = 0;
    onopen: ((event: never) => void) | null = null;
    onmessage: ((event: never) => void) | null = null;
    onclose: ((event: never) => void) | null = null;
    onerror: ((event: never) => void) | null = null;
    constructor(readonly url: string) {
      onAttempt();
      setTimeout(() => {
        (this.onerror as ((event: unknown) => void) | null)?.({
          type: 'error',
          message: 'Received network error or non-101 status code.',
        });
      }, 0);
    }
    send(): void {}
    close(): void {}
  };
}

describe('a connection that never opens', () => {
  const clients: ChatClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  const unreachable = (options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) => {
    const client = new ChatClient({
      url: 'ws://127.0.0.1:9',
      token: 't',
      WebSocket: failsLikeNodeBuiltIn(),
      catchUp: false,
      reconnect: { initialDelayMs: 600_000, maxDelayMs: 600_000 },
      ...options,
    });
    clients.push(client);
    return client;
  };

  it("with Node's built-in WebSocket (an error, never a close) each attempt ends at once, not after the connect timeout", async () => {
    let attempts = 0;
    const client = unreachable({
      WebSocket: failsLikeNodeBuiltIn(() => attempts++),
      connectTimeoutMs: 3_600_000,
      reconnect: { initialDelayMs: 1, jitter: 0, maxAttempts: 2 },
    });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(client.connection.reason).toBe('reconnect_exhausted');
    expect(attempts).toBe(3);
    expect(String((error as Error).cause)).toContain('non-101');
  });

  it('connect({ timeoutMs }) rejects with ConnectTimeoutError, and the client goes on trying', async () => {
    const client = unreachable();
    const error = await client.connect({ timeoutMs: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as ConnectTimeoutError).cause).toBeInstanceOf(Error);
    expect(client.state).toBe('reconnecting');
  });

  it('connect({ signal }) rejects with AbortError when the signal aborts (at once for an aborted one)', async () => {
    const client = unreachable();
    const controller = new AbortController();
    const connecting = client.connect({ signal: controller.signal });
    controller.abort();
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    await expect(client.connect({ signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
  });

  it('send({ timeoutMs }) and send({ signal }) settle while the server is unreachable and leave nothing queued', async () => {
    const client = unreachable();
    void client.connect().catch(() => undefined);
    const timedOut = client.send({ to: peer('bob'), msgData: 'a', timeoutMs: 20 });
    const controller = new AbortController();
    const aborted = client.send({ to: peer('bob'), msgData: 'b', signal: controller.signal });
    expect(client.pendingSends).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    await expect(timedOut).rejects.toBeInstanceOf(SendTimeoutError);
    expect(client.pendingSends).toBe(0);
  });
});

describe('kick', () => {
  it('token_expired: gets a fresh token and reconnects at once, sends waiting meanwhile', async () => {
    const path = new AutoAck();
    const server = await startServer({ onFrame: path.onFrame });
    let calls = 0;
    const client = makeClient(server, {
      token: undefined,
      getToken: () => `t${++calls}`,
      reconnect: { initialDelayMs: 600_000, maxDelayMs: 600_000 },
    });
    const kicks: KickFrame[] = [];
    client.on('kick', (kick) => kicks.push(kick));
    await client.connect();
    const first = await server.nextConnection();
    first.send({ type: 'kick', reason: 'token_expired' });
    const second = await server.nextConnection();
    expect(second.query.get('token')).toBe('t2');
    await isOpen(client);
    expect(kicks).toEqual([{ type: 'kick', reason: 'token_expired' }]);
    await expect(client.send({ to: peer('bob'), msgData: 'after the kick' })).resolves.toMatchObject({ msg_id: 1 });
  });

  it('token_expired with a fixed token: closed, auth_failed, AuthError', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const reported = client.waitFor('error');
    (await server.nextConnection()).send({ type: 'kick', reason: 'token_expired' });
    expect(await reported).toBeInstanceOf(AuthError);
    expect(client.connection).toMatchObject({ state: 'closed', reason: 'auth_failed' });
  });

  it('too_many_connections: closed with that reason and no reconnect; pending sends reject with KickedError; connect() again works', async () => {
    const server = await startServer();
    const client = makeClient(server);
    const states = recordStates(client);
    await client.connect();
    const first = await server.nextConnection();
    const pending = client.send({ to: peer('bob'), msgData: 'x' });
    await first.nextAction('msg_data');
    const reported = client.waitFor('error');
    first.send({ type: 'kick', reason: 'too_many_connections' });
    const error = await reported;
    expect(error).toBeInstanceOf(KickedError);
    expect((error as KickedError).reason).toBe('too_many_connections');
    await expect(pending).rejects.toBeInstanceOf(KickedError);
    expect(client.connection).toMatchObject({ state: 'closed', reason: 'too_many_connections', errorReason: error });
    expect(states).toEqual(['connecting', 'open', 'closed']);
    expect(server.upgrades).toHaveLength(1);
    await client.connect(); // The app decides to take over again.
    expect(server.upgrades).toHaveLength(2);
  });
});

describe('state model', () => {
  it('reconnecting tells when the next attempt starts; after suspendAfterMs of failures it is suspended; errorReason says why', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      let refuse = true;
      const server = await startServer({ refuse: () => (refuse ? 503 : undefined) });
      const client = makeClient(server, {
        reconnect: { initialDelayMs: 20, factor: 1, jitter: 0 },
        suspendAfterMs: 60_000,
      });
      expect(client.connection).toEqual({ state: 'initialized' });
      const opened = client.connect();
      await client.waitFor('state', (s) => s === 'reconnecting');
      expect(client.connection).toMatchObject({ state: 'reconnecting', nextAttemptAt: Date.now() + 20 });
      expect(client.connection.errorReason).toBeInstanceOf(ConnectionClosedError);
      vi.setSystemTime(Date.now() + 60_000);
      await client.waitFor('state', (s) => s === 'suspended');
      refuse = false;
      await opened;
      expect(client.connection).toEqual({ state: 'open' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('the online event starts a waiting reconnect at once', async () => {
    let refusals = 1;
    const server = await startServer({ refuse: () => (refusals-- > 0 ? 503 : undefined) });
    const network = new EventTarget();
    const client = makeClient(server, {
      reconnect: { initialDelayMs: 600_000, maxDelayMs: 600_000 },
      networkEvents: network,
    });
    const opened = client.connect();
    await client.waitFor('state', (s) => s === 'reconnecting');
    network.dispatchEvent(new Event('online'));
    await opened;
    expect(server.upgrades).toHaveLength(2);
  });

  it('reconnectNow() while open checks the connection: an unanswered heartbeat reopens it', async () => {
    const server = await startServer();
    const client = makeClient(server, { pingTimeoutMs: 30, heartbeatIntervalMs: 0 });
    await client.connect();
    const first = await server.nextConnection();
    client.reconnectNow();
    await first.nextAction('heartbeat');
    await server.nextConnection();
    await isOpen(client);
    // Answered, it changes nothing.
    const second = server.connections[1]!;
    client.reconnectNow();
    const probe = await second.nextAction('heartbeat');
    second.send({ type: 'heartbeat', seq: probe['seq'] });
    // A round trip behind the reply: by its end the client took the reply, so the next check is a new heartbeat.
    const asked = client.request('latest_msg_id', { session_id: 'bob', session_type: 1 });
    const request = await second.nextAction('latest_msg_id');
    second.send({ type: 'latest_msg_id', seq: request['seq'], session_id: 'bob', session_type: 1, latest_msg_id: 0 });
    await asked;
    client.reconnectNow();
    second.send({ type: 'heartbeat', seq: (await second.nextAction('heartbeat'))['seq'] });
    expect(client.state).toBe('open');
    expect(server.upgrades).toHaveLength(2);
  });
});

describe('conversations', () => {
  const groupId = 'g:AbCdEfGhIjKlMnOpQrStUv';

  it('a group is addressed as a group: send and the read helpers carry its session type', async () => {
    const server = await startServer();
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    client.send({ to: group(groupId), msgData: 'hi all' }).catch(() => undefined);
    expect(await connection.nextAction('msg_data')).toMatchObject({ to_session_id: groupId, msg_type: 17 });
    client.listMessages({ conversation: group(groupId) }).catch(() => undefined);
    expect(await connection.nextAction('msg_list')).toMatchObject({ session_id: groupId, session_type: 2 });
  });

  it('group() takes only a group id, so a user id cannot be addressed as a group', () => {
    expect(group(groupId)).toEqual({ type: 'group', id: groupId });
    for (const bad of ['bob', 'g1', 'g:short', '', `g:${'a'.repeat(23)}`])
      expect(() => group(bad), bad).toThrow(TypeError);
  });
});
