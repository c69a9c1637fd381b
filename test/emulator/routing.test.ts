import { afterEach, describe, expect, it } from 'vitest';
import type { RouteHandler } from 'teamtalk-local';
import { startStubApi, type StubApi } from './stub-api.js';
import { deferred, TestClient } from './support.js';

let api: StubApi | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await api?.emulator.stop();
  api = undefined;
});

async function open(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  clients.push(client);
  return client;
}

describe('$connect', () => {
  it('runs the authorizer, then $connect with an API Gateway-shaped CONNECT event', async () => {
    api = await startStubApi();
    await open(api.urlFor('alice', { client_type: '17' }));
    const auth = await api.authorizerCalls.take();
    expect(auth.type).toBe('REQUEST');
    expect(auth.methodArn).toBe(`arn:aws:execute-api:us-east-1:000000000000:${api.emulator.api.apiId}/local/$connect`);
    expect(auth.queryStringParameters).toEqual({ token: 'user:alice', client_type: '17' });
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    const ctx = connect.event.requestContext;
    expect(ctx).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'local',
      domainName: `127.0.0.1:${api.emulator.port}`,
      apiId: api.emulator.api.apiId,
      identity: { sourceIp: '127.0.0.1' },
    });
    // The authorizer's connection id is the connection's id, as on AWS.
    expect(ctx.connectionId).toBe((auth.requestContext as { connectionId?: string }).connectionId);
    // 16 characters like AWS's (`L0SM9cOFvHcCIhw=`), and requestId equals extendedRequestId as in real events.
    expect(ctx.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(ctx.messageId).toBeUndefined();
    expect(ctx.requestId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(ctx.extendedRequestId).toBe(ctx.requestId);
    expect(ctx.requestTime).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(ctx.requestTimeEpoch).toBeGreaterThanOrEqual(ctx.connectedAt);
    // Context values arrive stringified, with principalId and integrationLatency added.
    expect(ctx.authorizer).toMatchObject({ userId: 'alice', clientType: '17', principalId: 'alice' });
    expect(typeof ctx.authorizer?.['integrationLatency']).toBe('number');
    expect(connect.event.queryStringParameters).toEqual({ token: 'user:alice', client_type: '17' });
    expect(connect.event.headers?.['Host']).toBe(`127.0.0.1:${api.emulator.port}`);
    expect(connect.event.headers?.['Sec-WebSocket-Version']).toBe('13');
    expect(connect.event.headers?.['X-Forwarded-For']).toBe('127.0.0.1');
    expect(connect.event.isBase64Encoded).toBe(false);
    expect(api.emulator.connections().map((c) => c.connectionId)).toEqual([ctx.connectionId]);
  });

  it('refuses the upgrade with the status $connect returns when it is not 2xx', async () => {
    api = await startStubApi({
      routes: { $connect: async () => ({ statusCode: 429, body: '{"message":"slow down"}' }) },
    });
    const refusal = await TestClient.refusal(api.urlFor('alice'));
    expect(refusal).toEqual({ status: 429, body: '{"message":"slow down"}' });
    expect(api.emulator.connections()).toEqual([]);
  });

  it('refuses with 502 when $connect throws or answers without a statusCode', async () => {
    api = await startStubApi({
      routes: {
        $connect: async (event) => {
          if (event.queryStringParameters?.['mode'] === 'throw') throw new Error('boom');
          return {};
        },
      },
    });
    expect((await TestClient.refusal(api.urlFor('alice', { mode: 'throw' }))).status).toBe(502);
    expect((await TestClient.refusal(api.urlFor('alice', { mode: 'empty' }))).status).toBe(502);
    expect(api.invocations.all).toEqual([]);
  });

  it('hands the Sec-WebSocket-Protocol header $connect returns to the handshake', async () => {
    api = await startStubApi({
      routes: { $connect: async () => ({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'teamtalk.v1' } }) },
    });
    const client = await TestClient.open(api.urlFor('alice'), { protocols: ['other', 'teamtalk.v1'] });
    clients.push(client);
    expect(client.ws.protocol).toBe('teamtalk.v1');
  });
});

/** A custom route that records like the stub's own (the route key comes from the event). */
function recordRoute(): RouteHandler {
  return async (event) => {
    api!.invocations.push({ routeKey: event.requestContext.routeKey, event });
    return { statusCode: 200 };
  };
}

describe('route selection by $request.body.action', () => {
  it('routes custom actions to their route and everything else to $default', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    const frames: [string, string][] = [
      ['{"action":"msg_data","seq":1}', 'msg_data'],
      ['{"action":"msg_data_ack","msg_id":1}', 'msg_data_ack'],
      ['not json', '$default'],
      ['{"action":"no_such_route"}', '$default'],
      ['{"seq":3}', '$default'],
      ['[{"action":"msg_data"}]', '$default'],
      ['"msg_data"', '$default'],
      ['{"action":5}', '$default'],
      ['{"action":["msg_data"]}', '$default'],
      ['{"action":"$connect"}', '$default'],
      ['{"action":"$disconnect"}', '$default'],
      ['', '$default'],
    ];
    for (const [body] of frames) client.send(body);
    for (const [body, routeKey] of frames) {
      const invocation = await api.invocations.take((i) => i.event.body === body, 5_000, `frame ${body}`);
      expect(invocation.routeKey, body).toBe(routeKey);
      expect(invocation.event.requestContext).toMatchObject({
        routeKey,
        eventType: 'MESSAGE',
        connectionId: connect.event.requestContext.connectionId,
        connectedAt: connect.event.requestContext.connectedAt,
        authorizer: { userId: 'alice', principalId: 'alice' },
        stage: 'local',
      });
      expect(typeof invocation.event.requestContext.messageId).toBe('string');
      expect(invocation.event.requestContext.extendedRequestId).toBe(invocation.event.requestContext.requestId);
      expect(invocation.event.isBase64Encoded).toBe(false);
      expect(invocation.event.headers).toBeUndefined();
    }
  });

  it('stringifies a non-string action before selecting the route, as API Gateway does', async () => {
    api = await startStubApi({
      extraRoutes: { '5': recordRoute(), true: recordRoute(), '{a=1}': recordRoute(), null: recordRoute() },
    });
    const client = await open(api.urlFor('alice'));
    const frames: [string, string][] = [
      ['{"action":5}', '5'],
      ['{"action":true}', 'true'],
      ['{"action":{"a":1}}', '{a=1}'],
      ['{"action":null}', 'null'],
      ['{"action":"5"}', '5'],
      ['{"action":6}', '$default'],
    ];
    for (const [body] of frames) client.send(body);
    for (const [body, routeKey] of frames) {
      const invocation = await api.invocations.take((i) => i.event.body === body, 5_000, `frame ${body}`);
      expect(invocation.event.requestContext.routeKey, body).toBe(routeKey);
    }
  });

  it("sends API Gateway's own error frame when no route matches and there is no $default", async () => {
    api = await startStubApi({ routes: { $default: undefined as unknown as RouteHandler } });
    const client = await open(api.urlFor('alice'));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    client.send('hello');
    const frame = await client.next();
    expect(frame).toMatchObject({ message: 'Forbidden', connectionId: connect.event.requestContext.connectionId });
    expect(typeof frame['requestId']).toBe('string');
  });

  it('sends {"message":"Internal server error"} when a route integration throws', async () => {
    api = await startStubApi({ extraRoutes: { fail: async () => Promise.reject(new Error('handler bug')) } });
    const client = await open(api.urlFor('alice'));
    client.send({ action: 'fail' });
    expect(await client.next()).toMatchObject({ message: 'Internal server error' });
    // The connection stays usable.
    client.send({ action: 'msg_data' });
    await api.invocations.take((i) => i.routeKey === 'msg_data');
  });

  it("times an integration out after integrationTimeoutMs with API Gateway's timeout frame", async () => {
    const release = deferred();
    api = await startStubApi({
      limits: { integrationTimeoutMs: 200 },
      extraRoutes: { hang: async () => release.promise.then(() => ({ statusCode: 200 })) },
    });
    const client = await open(api.urlFor('alice'));
    client.send({ action: 'hang' });
    expect(await client.next()).toMatchObject({ message: 'Endpoint request timed out' });
    release.resolve();
  });
});

describe('concurrency', () => {
  it('invokes the frames of one connection concurrently, without a per-connection queue', async () => {
    const bothInFlight = deferred();
    let inFlight = 0;
    let maxInFlight = 0;
    const slow: RouteHandler = async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (inFlight === 2) bothInFlight.resolve();
      // Each invocation waits until the other one is running too: a serial emulator would never get there.
      await bothInFlight.promise;
      inFlight -= 1;
      return { statusCode: 200 };
    };
    const finished: string[] = [];
    api = await startStubApi({
      extraRoutes: {
        slow: async (event, context) => {
          const result = await slow(event, context);
          finished.push(event.body ?? '');
          return result;
        },
      },
    });
    const client = await open(api.urlFor('alice'));
    client.send({ action: 'slow', n: 1 });
    client.send({ action: 'slow', n: 2 });
    await bothInFlight.promise;
    expect(maxInFlight).toBe(2);
  });

  it('invokes frames of different connections independently too', async () => {
    const gate = deferred();
    api = await startStubApi({ extraRoutes: { block: async () => gate.promise.then(() => ({ statusCode: 200 })) } });
    const a = await open(api.urlFor('alice'));
    const b = await open(api.urlFor('bob'));
    a.send({ action: 'block' });
    b.send({ action: 'msg_data' });
    const invocation = await api.invocations.take((i) => i.routeKey === 'msg_data');
    expect(invocation.event.requestContext.authorizer?.['userId']).toBe('bob');
    gate.resolve();
  });
});

describe('$disconnect', () => {
  it('reports a close frame without a status code as AWS does: 1005, "Client-side close frame status not set"', async () => {
    api = await startStubApi();
    const client = await TestClient.open(api.urlFor('alice'));
    await api.invocations.take((i) => i.routeKey === '$connect');
    client.ws.close();
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext).toMatchObject({
      disconnectStatusCode: 1005,
      disconnectReason: 'Client-side close frame status not set',
    });
  });

  it('fires DISCONNECT with the close code when the client closes', async () => {
    api = await startStubApi();
    const client = await TestClient.open(api.urlFor('alice'));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    client.ws.close(4000, 'bye');
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId: connect.event.requestContext.connectionId,
      disconnectStatusCode: 4000,
      disconnectReason: 'bye',
      authorizer: { userId: 'alice', principalId: 'alice' },
    });
    expect(api.emulator.connections()).toEqual([]);
  });

  it('fires DISCONNECT with 1006 when the client drops the socket', async () => {
    api = await startStubApi();
    const client = await TestClient.open(api.urlFor('alice'));
    client.ws.terminate();
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.disconnectStatusCode).toBe(1006);
  });

  it('a failing $disconnect is only logged', async () => {
    const errors: string[] = [];
    const failed = deferred();
    api = await startStubApi({
      logger: { info: () => undefined, warn: () => undefined, error: (m) => (errors.push(m), failed.resolve()) },
      routes: { $disconnect: async () => Promise.reject(new Error('table gone')) },
    });
    const client = await TestClient.open(api.urlFor('alice'));
    await client.close();
    await failed.promise;
    expect(errors).toEqual(['$disconnect failed']);
  });

  it('dropConnection ends a connection without $disconnect (a lost $disconnect)', async () => {
    api = await startStubApi();
    const dropped = await TestClient.open(api.urlFor('alice'));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    const id = connect.event.requestContext.connectionId;
    expect(api.emulator.dropConnection(id)).toBe(true);
    expect((await dropped.closed).code).toBe(1006);
    // A later connection's full cycle completes; the dropped one never produced a $disconnect.
    const other = await TestClient.open(api.urlFor('bob'));
    await other.close();
    await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(
      api.invocations.all.filter((i) => i.routeKey === '$disconnect' && i.event.requestContext.connectionId === id),
    ).toEqual([]);
  });

  it('stop() closes every connection with 1001 and fires their $disconnect', async () => {
    api = await startStubApi();
    const client = await TestClient.open(api.urlFor('alice'));
    await api.emulator.stop();
    expect((await client.closed).code).toBe(1001);
    expect(api.invocations.all.filter((i) => i.routeKey === '$disconnect')).toHaveLength(1);
  });
});
