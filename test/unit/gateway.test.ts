/**
 * ConnectionsApiGateway: how @connections answers map onto 'delivered' / 'gone' / GatewayUnavailableError / rethrow.
 * First on the mocked client (aws-sdk-client-mock stubs `send`, so the SDK's retry middleware does not run), then
 * against a real local HTTP server, where the SDK's own retries run (maxAttempts 4).
 */
import './setup-env.js';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ForbiddenException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../core/domain/frames.js';
import { ConnectionsApiGateway, GatewayUnavailableError, isGone } from '../../core/gateway/connections-api.js';
import { ENDPOINT, api, gone, limitExceeded, resetMocks, timeout } from './helpers.js';

const frame: ServerFrame = { type: 'heartbeat', seq: 3 };

describe('on the mocked client', () => {
  let gateway: ConnectionsApiGateway;

  beforeEach(() => {
    resetMocks();
    gateway = new ConnectionsApiGateway({ endpoint: ENDPOINT, region: 'us-east-1' });
  });

  it('posts the frame as JSON to the connection → delivered', async () => {
    await expect(gateway.post('c-1', frame)).resolves.toBe('delivered');
    const calls = api.commandCalls(PostToConnectionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ ConnectionId: 'c-1', Data: JSON.stringify(frame) });
  });

  it('GoneException → gone', async () => {
    api.on(PostToConnectionCommand).rejects(gone());
    await expect(gateway.post('c-1', frame)).resolves.toBe('gone');
  });

  it('a plain error with $metadata.httpStatusCode 410 → gone', async () => {
    api
      .on(PostToConnectionCommand)
      .rejects(Object.assign(new Error('Gone'), { name: 'UnknownError', $metadata: { httpStatusCode: 410 } }));
    await expect(gateway.post('c-1', frame)).resolves.toBe('gone');
  });

  it('an error with only a legacy statusCode 410 is not gone (SDK v3 puts the status in $metadata)', async () => {
    const error = Object.assign(new Error('Gone'), { statusCode: 410 });
    expect(isGone(error)).toBe(false);
  });

  it('403 ForbiddenException is rethrown as is, not GatewayUnavailableError', async () => {
    const forbidden = new ForbiddenException({ $metadata: { httpStatusCode: 403 }, message: 'forbidden' });
    api.on(PostToConnectionCommand).rejects(forbidden);
    const error = await gateway.post('c-1', frame).catch((e: unknown) => e);
    expect(error).toBe(forbidden);
    expect(error).not.toBeInstanceOf(GatewayUnavailableError);
  });

  it('413 PayloadTooLargeException is rethrown as is', async () => {
    const tooLarge = new PayloadTooLargeException({ $metadata: { httpStatusCode: 413 }, message: 'too large' });
    api.on(PostToConnectionCommand).rejects(tooLarge);
    await expect(gateway.post('c-1', frame)).rejects.toBe(tooLarge);
  });

  it.each([
    ['429 LimitExceededException', limitExceeded],
    ['a timeout (no HTTP status)', timeout],
    [
      '500',
      () => Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }),
    ],
    [
      '503',
      () => Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }),
    ],
  ])('%s → GatewayUnavailableError carrying the cause', async (_name, make) => {
    const cause = make();
    api.on(PostToConnectionCommand).rejects(cause);
    const error = await gateway.post('c-1', frame).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).toContain('c-1');
  });

  it('isGone recognises GoneException and 410 metadata only', () => {
    expect(isGone(gone())).toBe(true);
    expect(isGone({ $metadata: { httpStatusCode: 410 } })).toBe(true);
    expect(isGone(limitExceeded())).toBe(false);
    expect(isGone(undefined)).toBe(false);
    expect(isGone('410')).toBe(false);
  });
});

describe('against a local @connections endpoint (real SDK retries)', () => {
  let server: Server;
  let endpoint: string;
  let answer: { status: number; errorType?: string } = { status: 200 };
  const requests: { method: string; url: string; body: string }[] = [];

  const gatewayAt = (url: string) =>
    new ConnectionsApiGateway({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });

  beforeAll(async () => {
    api.restore(); // the real client from here on
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (answer.errorType) headers['x-amzn-errortype'] = answer.errorType;
        res.writeHead(answer.status, headers);
        res.end(answer.status === 200 ? '' : JSON.stringify({ message: answer.errorType ?? 'error' }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  beforeEach(() => {
    requests.length = 0;
  });

  it('200 → delivered, one POST /@connections/{id} with the frame', async () => {
    answer = { status: 200 };
    await expect(gatewayAt(endpoint).post('abc=', frame)).resolves.toBe('delivered');
    expect(requests).toEqual([{ method: 'POST', url: '/@connections/abc%3D', body: JSON.stringify(frame) }]);
  });

  it('410 → gone after a single request', async () => {
    answer = { status: 410, errorType: 'GoneException' };
    await expect(gatewayAt(endpoint).post('c-1', frame)).resolves.toBe('gone');
    expect(requests).toHaveLength(1);
  });

  it('403 → ForbiddenException after a single request', async () => {
    answer = { status: 403, errorType: 'ForbiddenException' };
    await expect(gatewayAt(endpoint).post('c-1', frame)).rejects.toBeInstanceOf(ForbiddenException);
    expect(requests).toHaveLength(1);
  });

  it('a persisting 429 is tried 4 times, then GatewayUnavailableError', async () => {
    answer = { status: 429, errorType: 'LimitExceededException' };
    const error = await gatewayAt(endpoint)
      .post('c-1', frame)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(((error as Error).cause as Error).name).toBe('LimitExceededException');
    expect(requests).toHaveLength(4);
  });

  it('a persisting 503 is tried 4 times, then GatewayUnavailableError', async () => {
    answer = { status: 503, errorType: 'ServiceUnavailableException' };
    await expect(gatewayAt(endpoint).post('c-1', frame)).rejects.toBeInstanceOf(GatewayUnavailableError);
    expect(requests).toHaveLength(4);
  });

  it('a refused connection → GatewayUnavailableError', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    closed.close();
    await once(closed, 'close');
    await expect(gatewayAt(url).post('c-1', frame)).rejects.toBeInstanceOf(GatewayUnavailableError);
  });
});
