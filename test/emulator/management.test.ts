import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_LIMITS, type RouteHandler } from 'teamtalk-local';
import { startStubApi, type StubApi } from './stub-api.js';
import { deferred, TestClient } from './support.js';

let api: StubApi | undefined;
let sdk: ApiGatewayManagementApiClient | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  sdk?.destroy();
  sdk = undefined;
  await api?.emulator.stop();
  api = undefined;
});

function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

async function connected(userId: string): Promise<{ client: TestClient; connectionId: string }> {
  const client = await TestClient.open(api!.urlFor(userId), { headers: { 'User-Agent': `test-agent/${userId}` } });
  clients.push(client);
  const connect = await api!.invocations.take(
    (i) => i.routeKey === '$connect' && i.event.requestContext.authorizer?.['userId'] === userId,
  );
  return { client, connectionId: connect.event.requestContext.connectionId };
}

async function goneError(promise: Promise<unknown>): Promise<GoneException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GoneException);
  return error as GoneException;
}

describe('@connections management API through the SDK v3 client', () => {
  it('PostToConnection sends one text frame to that connection only', async () => {
    api = await startStubApi();
    sdk = managementClient(api.emulator.httpUrl);
    const alice = await connected('alice');
    const bob = await connected('bob');
    expect(alice.connectionId).toMatch(/=$/); // needs URL-encoding in the path
    const output = await sdk.send(
      new PostToConnectionCommand({ ConnectionId: alice.connectionId, Data: Buffer.from('{"type":"hello"}') }),
    );
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(await alice.client.next()).toEqual({ type: 'hello' });
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: bob.connectionId, Data: new TextEncoder().encode('{"to":"bob"}') }),
    );
    expect(await bob.client.next()).toEqual({ to: 'bob' });
    expect(alice.client.unread()).toEqual([]);
  });

  it('GetConnection answers connectedAt, identity and lastActiveAt', async () => {
    api = await startStubApi();
    sdk = managementClient(api.emulator.httpUrl);
    const before = Date.now();
    const alice = await connected('alice');
    const output = await sdk.send(new GetConnectionCommand({ ConnectionId: alice.connectionId }));
    expect(output.ConnectedAt).toBeInstanceOf(Date);
    expect(output.ConnectedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(output.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(output.ConnectedAt!.getTime());
    expect(output.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'test-agent/alice' });
  });

  it('DeleteConnection closes the socket, fires $disconnect, and the id is gone afterwards', async () => {
    api = await startStubApi();
    sdk = managementClient(api.emulator.httpUrl);
    const alice = await connected('alice');
    const output = await sdk.send(new DeleteConnectionCommand({ ConnectionId: alice.connectionId }));
    expect(output.$metadata.httpStatusCode).toBe(204);
    expect((await alice.client.closed).code).toBe(1000);
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.connectionId).toBe(alice.connectionId);
    const error = await goneError(
      sdk.send(new PostToConnectionCommand({ ConnectionId: alice.connectionId, Data: Buffer.from('x') })),
    );
    expect(error.$metadata.httpStatusCode).toBe(410);
    await goneError(sdk.send(new DeleteConnectionCommand({ ConnectionId: alice.connectionId })));
  });

  it('answers 410 GoneException for unknown and closed connections, on every method', async () => {
    api = await startStubApi();
    sdk = managementClient(api.emulator.httpUrl);
    for (const command of [
      new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAA=', Data: Buffer.from('x') }),
      new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAA=' }),
      new DeleteConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAA=' }),
    ]) {
      const error = await goneError(sdk.send(command as PostToConnectionCommand));
      expect(error.name).toBe('GoneException');
      expect(error.$metadata.httpStatusCode).toBe(410);
      expect((error as unknown as { statusCode?: number }).statusCode).toBeUndefined();
    }
    const alice = await connected('alice');
    await alice.client.close();
    await api.invocations.take((i) => i.routeKey === '$disconnect');
    await goneError(
      sdk.send(new PostToConnectionCommand({ ConnectionId: alice.connectionId, Data: Buffer.from('x') })),
    );
  });

  it('answers 413 PayloadTooLargeException over 128 KB', async () => {
    api = await startStubApi();
    sdk = managementClient(api.emulator.httpUrl);
    const alice = await connected('alice');
    const error = await sdk
      .send(
        new PostToConnectionCommand({
          ConnectionId: alice.connectionId,
          Data: Buffer.alloc(AWS_LIMITS.maxPostBytes + 1, 0x61),
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(PayloadTooLargeException);
    // Exactly 128 KB is fine.
    await sdk.send(
      new PostToConnectionCommand({
        ConnectionId: alice.connectionId,
        Data: Buffer.alloc(AWS_LIMITS.maxPostBytes, 0x61),
      }),
    );
    expect((await alice.client.messages.take()).length).toBe(AWS_LIMITS.maxPostBytes);
  });

  it('accepts the stage path ({domain}/{stage}/@connections/{id}), built from an event as AWS samples do', async () => {
    api = await startStubApi();
    const alice = await connected('alice');
    const connect = api.invocations.all.find((i) => i.routeKey === '$connect')!;
    const { domainName, stage } = connect.event.requestContext;
    sdk = managementClient(`http://${domainName}/${stage}`);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: alice.connectionId, Data: Buffer.from('{"ok":true}') }));
    expect(await alice.client.next()).toEqual({ ok: true });
  });

  it('answers 403 ForbiddenException under a wrong stage, on every method, as AWS does', async () => {
    api = await startStubApi();
    const alice = await connected('alice');
    const path = `/prod/@connections/${encodeURIComponent(alice.connectionId)}`;
    for (const method of ['POST', 'GET', 'DELETE']) {
      const response = await fetch(`${api.emulator.httpUrl}${path}`, {
        method,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(response.status, method).toBe(403);
      expect(response.headers.get('x-amzn-errortype'), method).toBe('ForbiddenException');
      expect(await response.json(), method).toEqual({ message: 'Forbidden' });
    }
    expect(api.emulator.connections().map((c) => c.connectionId)).toEqual([alice.connectionId]);
    expect(alice.client.unread()).toEqual([]);
  });

  it('answers 403 without a stage when asked to behave like AWS (stagelessManagementApi: false)', async () => {
    api = await startStubApi({ stagelessManagementApi: false });
    const alice = await connected('alice');
    const response = await fetch(`${api.emulator.httpUrl}/@connections/${encodeURIComponent(alice.connectionId)}`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(403);
    sdk = managementClient(`${api.emulator.httpUrl}/local`);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: alice.connectionId, Data: Buffer.from('{"ok":1}') }));
    expect(await alice.client.next()).toEqual({ ok: 1 });
  });

  it('answers 410 to a post from inside $connect, as API Gateway does', async () => {
    const result = deferred<unknown>();
    let inner: ApiGatewayManagementApiClient | undefined;
    const connect: RouteHandler = async (event) => {
      await inner!
        .send(
          new PostToConnectionCommand({ ConnectionId: event.requestContext.connectionId, Data: Buffer.from('early') }),
        )
        .then(
          () => result.resolve('delivered'),
          (e: unknown) => result.resolve(e),
        );
      return { statusCode: 200 };
    };
    api = await startStubApi({ routes: { $connect: connect } });
    inner = sdk = managementClient(api.emulator.httpUrl);
    const client = await TestClient.open(api.urlFor('alice'));
    clients.push(client);
    const error = await result.promise;
    expect(error).toBeInstanceOf(GoneException);
  });
});
