/**
 * API Gateway behaviours the emulator added for other apps than this one: two-way route
 * responses, other route selection expressions, the 4,096-character URL limit, @connections posts over 32 KB split
 * into frames, the stage-less @connections path refused as on AWS, and limits beyond setTimeout's range.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator, type RouteHandler } from 'teamtalk-local';
import { MAX_TIMER_DELAY_MS, setLongTimeout } from '../../emulator/timers.js';
import { routeSelector, UnsupportedSelectionExpressionError } from '../../emulator/routes.js';
import { silentLogger, startStubApi, type StubApi } from './stub-api.js';
import { TestClient } from './support.js';

let api: StubApi | undefined;
let bare: Emulator | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await api?.emulator.stop();
  await bare?.stop();
  api = bare = undefined;
});

async function open(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  clients.push(client);
  return client;
}

describe('two-way routes (a $default route response)', () => {
  it('sends the integration body back on a two-way route, and nothing on a one-way route', async () => {
    const answer: RouteHandler = async (event) => ({ statusCode: 200, body: `echo ${event.requestContext.routeKey}` });
    api = await startStubApi({
      extraRoutes: { ping: answer, quiet: answer, text: async () => 'plain string' },
      twoWayRoutes: ['ping', 'text', '$default'],
      routes: { $default: answer },
    });
    const client = await open(api.urlFor('alice'));
    client.send({ action: 'quiet' });
    client.send({ action: 'ping' });
    client.send({ action: 'text' });
    client.send('not json');
    const replies = await Promise.all([0, 1, 2].map(() => client.messages.take()));
    expect(replies.sort()).toEqual(['echo $default', 'echo ping', 'plain string']);
    // A heartbeat through a two-way route proves no answer of `quiet` is still on its way.
    client.send({ action: 'ping', again: true });
    expect(await client.messages.take()).toBe('echo ping');
    expect(client.messages.remaining()).toEqual([]);
  });
});

describe('route selection expressions', () => {
  it('evaluates nested paths, several variables with literal text, and escapes', () => {
    const keys = ['chat/join', 'v2', '$default', 'x$y'];
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an API Gateway route selection expression, not a template.
    const select = routeSelector('${request.body.service}/${request.body.data.kind}', keys);
    expect(select('{"service":"chat","data":{"kind":"join"}}')).toBe('chat/join');
    expect(select('{"service":"chat"}')).toBe('$default');
    expect(routeSelector('$request.body.items[1]', keys)('{"items":["v1","v2"]}')).toBe('v2');
    expect(routeSelector('x\\$y', keys)('{}')).toBe('x$y');
    expect(() => routeSelector('$context.connectionId', keys)).toThrow(UnsupportedSelectionExpressionError);
  });

  it('routes by the configured expression', async () => {
    api = await startStubApi({
      routeSelectionExpression: '$request.body.type',
      extraRoutes: {
        hello: async (event) => (api!.invocations.push({ routeKey: 'hello', event }), { statusCode: 200 }),
      },
    });
    const client = await open(api.urlFor('alice'));
    client.send({ type: 'hello' });
    client.send({ action: 'hello' });
    expect((await api.invocations.take((i) => i.event.body === '{"type":"hello"}')).routeKey).toBe('hello');
    expect((await api.invocations.take((i) => i.event.body === '{"action":"hello"}')).routeKey).toBe('$default');
  });
});

describe('URLs', () => {
  it('refuses an upgrade URL over 4,096 characters with 414, and accepts one of 4,096', async () => {
    api = await startStubApi();
    const base = api.urlFor('alice');
    const pathAndQuery = (url: string) => url.slice(url.indexOf('/', 'ws://'.length));
    const pad = (length: number) => `${base}&pad=${'p'.repeat(length - pathAndQuery(base).length - '&pad='.length)}`;
    expect(pathAndQuery(pad(4_096))).toHaveLength(4_096);
    await open(pad(4_096));
    expect((await TestClient.refusal(pad(4_097))).status).toBe(414);
  });
});

describe('@connections', () => {
  it('splits a post over 32 KB into frames of at most 32 KB that the client reads as one message', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    const connect = await api.invocations.take((i) => i.routeKey === '$connect');
    const frames: { fin: boolean; opcode: number; length: number }[] = [];
    (client.ws as unknown as { _socket: NodeJS.EventEmitter })._socket.prependListener('data', (chunk: Buffer) =>
      frames.push(...serverFrames(chunk)),
    );
    const message = 'é'.repeat(50 * 1024); // 100 KB of UTF-8, cut inside characters at frame boundaries
    const response = await fetch(
      `${api.emulator.httpUrl}/local/@connections/${encodeURIComponent(connect.event.requestContext.connectionId)}`,
      { method: 'POST', body: message },
    );
    expect(response.status).toBe(200);
    expect(await client.messages.take()).toBe(message);
    expect(frames.map((f) => [f.opcode, f.fin, f.length])).toEqual([
      [1, false, 32 * 1024],
      [0, false, 32 * 1024],
      [0, false, 32 * 1024],
      [0, true, 100 * 1024 - 3 * 32 * 1024],
    ]);
  });

  it('answers 403 on the stage-less path by default, as AWS does', async () => {
    bare = await startEmulator({ port: 0, routes: {}, logger: silentLogger });
    const staged = await fetch(`${bare.httpUrl}/local/@connections/abc%3D`, { method: 'POST', body: '{}' });
    expect(staged.status).toBe(410);
    const stageless = await fetch(`${bare.httpUrl}/@connections/abc%3D`, { method: 'POST', body: '{}' });
    expect(stageless.status).toBe(403);
    expect(stageless.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
  });
});

describe('limits beyond setTimeout range', () => {
  it('keeps a connection open under a 30-day maximum duration and an infinite idle timeout', async () => {
    api = await startStubApi({ limits: { maxConnectionDurationMs: 30 * 24 * 3600_000, idleTimeoutMs: Infinity } });
    const client = await open(api.urlFor('alice'));
    // Two round trips: a timer that overflowed would have fired after 1 ms, long before they finish.
    for (const n of [1, 2]) {
      client.send({ action: 'msg_data', n });
      await api.invocations.take((i) => i.routeKey === 'msg_data');
    }
    expect(api.emulator.connections()).toHaveLength(1);
  });

  it('waits a delay longer than 2^31-1 ms in steps, and never fires for Infinity', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    setLongTimeout(() => fired.push('30 days'), 30 * 24 * 3600_000);
    setLongTimeout(() => fired.push('never'), Infinity);
    const cancelled = setLongTimeout(() => fired.push('cancelled'), 10);
    cancelled.cancel();
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(30 * 24 * 3600_000 - MAX_TIMER_DELAY_MS);
    expect(fired).toEqual(['30 days']);
    vi.advanceTimersByTime(365 * 24 * 3600_000);
    expect(fired).toEqual(['30 days']);
  });
});

/** Parses the server's (unmasked) frames out of a chunk; enough for frames whose header is in one chunk. */
function serverFrames(chunk: Buffer): { fin: boolean; opcode: number; length: number }[] {
  const frames: { fin: boolean; opcode: number; length: number }[] = [];
  serverFrames.pending = Buffer.concat([serverFrames.pending, chunk]);
  for (;;) {
    const b = serverFrames.pending;
    if (b.length < 2) break;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) break;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) break;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) break;
    frames.push({ fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, length });
    serverFrames.pending = b.subarray(offset + length);
  }
  return frames;
}
serverFrames.pending = Buffer.alloc(0);
