import { afterEach, describe, expect, it } from 'vitest';
import { startStubApi, type StubApi } from './stub-api.js';
import { TestClient } from './support.js';

let api: StubApi | undefined;

afterEach(async () => {
  await api?.emulator.stop();
  api = undefined;
});

describe('authorizer refusals', () => {
  it.each([
    ['a token the authorizer rejects (throws Unauthorized)', 'token=bad', 401, 'Unauthorized'],
    ['a Deny policy', 'token=deny', 403, 'Forbidden'],
    ['an authorizer error', 'token=boom', 500, 'Internal server error'],
    ['a context value that is an object', 'token=objctx', 500, 'Internal server error'],
  ])('refuses %s with %i, and no integration runs', async (_what, query, status, message) => {
    api = await startStubApi();
    const refusal = await TestClient.refusal(`${api.emulator.url}/?${query}`);
    expect(refusal.status).toBe(status);
    expect(JSON.parse(refusal.body)).toEqual({ message });
    expect(api.authorizerCalls.all).toHaveLength(1);
    expect(api.invocations.all).toEqual([]);
    expect(api.emulator.connections()).toEqual([]);
  });

  it('answers 401 without invoking the authorizer when an identity source is missing or empty', async () => {
    api = await startStubApi();
    expect((await TestClient.refusal(`${api.emulator.url}/`)).status).toBe(401);
    expect((await TestClient.refusal(`${api.emulator.url}/?token=`)).status).toBe(401);
    expect(api.authorizerCalls.all).toEqual([]);
    expect(api.invocations.all).toEqual([]);
  });

  it('refuses when the Allow policy does not cover the $connect method ARN', async () => {
    api = await startStubApi({
      authorizer: async (event) => ({
        principalId: 'alice',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn.replace('$connect', 'other') },
          ],
        },
      }),
    });
    expect((await TestClient.refusal(`${api.emulator.url}/?token=x`)).status).toBe(403);
    expect(api.invocations.all).toEqual([]);
  });

  it('accepts wildcard resources, as IAM does', async () => {
    api = await startStubApi({
      authorizer: async () => ({
        principalId: 'alice',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:*', Effect: 'Allow', Resource: 'arn:aws:execute-api:*' }],
        },
      }),
    });
    const client = await TestClient.open(`${api.emulator.url}/?token=x`);
    await api.invocations.take((i) => i.routeKey === '$connect');
    await client.close();
  });

  it('refuses a request that is not a WebSocket handshake with 400, before any authorizer', async () => {
    api = await startStubApi();
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${api!.emulator.httpUrl}/?token=user:alice`, {
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' },
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(api.authorizerCalls.all).toEqual([]);
  });
});
