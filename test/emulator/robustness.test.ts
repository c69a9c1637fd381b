/**
 * What a hostile or careless client cannot do to the emulator: each test drives the
 * in-process emulator the way the probe that once crashed or wedged it did, then checks it still serves.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteHandler } from 'teamtalk-local';
import { startStubApi, type StubApi } from './stub-api.js';
import { deferred, TestClient } from './support.js';

let api: StubApi | undefined;
const clients: TestClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await api?.emulator.stop();
  api = undefined;
});

async function open(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  clients.push(client);
  return client;
}

/** A round trip through the emulator: the frame reaches msg_data, so the process and the connection serve. */
async function stillServes(client: TestClient, marker: string): Promise<void> {
  client.send({ action: 'msg_data', marker });
  await api!.invocations.take(
    (i) => i.routeKey === 'msg_data' && i.event.body?.includes(marker) === true,
    10_000,
    `msg_data ${marker}`,
  );
}

function managementUrl(connectionId: string): string {
  return `${api!.emulator.httpUrl}/${api!.emulator.api.stage}/@connections/${encodeURIComponent(connectionId)}`;
}

describe('route selection never throws', () => {
  it('sends a frame whose action is an array nested 5,000 deep to $default, and keeps serving', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    const body = `{"action":${'['.repeat(5_000)}${']'.repeat(5_000)}}`;
    client.send(body);
    const invocation = await api.invocations.take((i) => i.event.body === body);
    expect(invocation.routeKey).toBe('$default');
    await stillServes(client, 'after-deep-action');
  });

  it('stringifies arrays as API Gateway documents ("[item1, item2]")', async () => {
    api = await startStubApi({
      extraRoutes: {
        '[a, b]': async (event) => (
          api!.invocations.push({ routeKey: event.requestContext.routeKey, event }), { statusCode: 200 }
        ),
      },
    });
    const client = await open(api.urlFor('alice'));
    client.send('{"action":["a","b"]}');
    const invocation = await api.invocations.take((i) => i.event.body === '{"action":["a","b"]}');
    expect(invocation.event.requestContext.routeKey).toBe('[a, b]');
  });
});

describe('upgrade requests with prototype-named parameters', () => {
  it('accepts queries and headers named constructor, toString and __proto__, and hands them on as own properties', async () => {
    api = await startStubApi();
    const url = `${api.urlFor('alice')}&constructor=c&toString=t&__proto__=p&hasOwnProperty=h`;
    // JSON.parse makes `__proto__` an own property (an object literal would set the prototype instead).
    const headers = JSON.parse('{"constructor":"hc","toString":"ht","__proto__":"hp"}') as Record<string, string>;
    clients.push(await TestClient.open(url, { headers }));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    const query = connect.event.queryStringParameters!;
    expect(Object.entries(query)).toEqual(
      expect.arrayContaining([
        ['constructor', 'c'],
        ['toString', 't'],
        ['__proto__', 'p'],
        ['hasOwnProperty', 'h'],
      ]),
    );
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    expect(connect.event.multiValueQueryStringParameters?.['constructor']).toEqual(['c']);
    expect(connect.event.headers?.['constructor']).toBe('hc');
    expect(Object.hasOwn(connect.event.headers!, '__proto__')).toBe(true);
  });
});

/** Opens a raw upgrade whose $connect the test holds; resolves once $connect is running. */
async function rawUpgrade(path: string): Promise<Socket> {
  const socket = connectTcp(api!.emulator.port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  return socket;
}

describe('a client that leaves while $connect runs', () => {
  for (const [how, leave] of [
    ['closes its end (FIN)', (s: Socket) => s.end()],
    ['resets the socket', (s: Socket) => s.resetAndDestroy()],
  ] as const) {
    it(`still gets its $disconnect when it ${how}`, async () => {
      const running = deferred<string>();
      const release = deferred();
      api = await startStubApi({
        routes: {
          $connect: async (event) => {
            running.resolve(event.requestContext.connectionId);
            await release.promise;
            api!.invocations.push({ routeKey: '$connect', event });
            return { statusCode: 200 };
          },
        },
      });
      const socket = await rawUpgrade(new URL(api.urlFor('alice')).pathname + new URL(api.urlFor('alice')).search);
      const connectionId = await running.promise;
      leave(socket);
      // An HTTP round trip on another socket: the emulator has handled the leaving socket's FIN or RST by then.
      await (await fetch(`${api.emulator.httpUrl}/barrier`)).arrayBuffer();
      release.resolve();
      const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect', 10_000, '$disconnect');
      expect(disconnect.event.requestContext.connectionId).toBe(connectionId);
      expect(api.emulator.connections()).toEqual([]);
    });
  }
});

describe('@connections POST to a client that stops reading', () => {
  it('answers 429 LimitExceededException once the client buffer is full, instead of hanging', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    (client.ws as unknown as { _socket: Socket })._socket.pause();
    const chunk = 'x'.repeat(100 * 1024);
    let status = 0;
    let errorType: string | null = null;
    let posts = 0;
    // A bounded number of posts: the kernel's socket buffers plus the emulator's own limit fill well before.
    while (posts < 1_000) {
      posts += 1;
      const response = await fetch(managementUrl(connect.event.requestContext.connectionId), {
        method: 'POST',
        body: chunk,
        signal: AbortSignal.timeout(5_000),
      });
      status = response.status;
      errorType = response.headers.get('x-amzn-errortype');
      await response.arrayBuffer();
      if (status !== 200) break;
    }
    expect(status).toBe(429);
    expect(errorType).toBe('LimitExceededException');
    // The connection is not dropped for it: once the client reads again, the frames queued so far arrive.
    (client.ws as unknown as { _socket: Socket })._socket.resume();
    await stillServes(client, 'after-full-buffer');
  });
});

describe('a burst of frames on one connection', () => {
  it('bounds the frames in flight per connection and answers every one of 5,000', async () => {
    const FRAMES = 5_000;
    let inFlight = 0;
    let maxInFlight = 0;
    // A two-way route: each frame's answer comes back as a frame, so every reply is counted without an HTTP call.
    const echo: RouteHandler = async (event) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return { statusCode: 200, body: event.body ?? '' };
    };
    const warnings: string[] = [];
    api = await startStubApi({
      extraRoutes: { echo },
      twoWayRoutes: ['echo'],
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    const client = await open(api.urlFor('alice'));
    for (let n = 0; n < FRAMES; n++) client.send(`{"action":"echo","n":${n}}`);
    await client.messages.waitFor(() => client.messages.all.length >= FRAMES, 60_000, `${FRAMES} echoes`);
    expect(new Set(client.messages.all).size).toBe(FRAMES);
    expect(maxInFlight).toBeLessThanOrEqual(api.emulator.limits.maxFramesInFlight);
    expect(warnings).toEqual([]);
  });
});
