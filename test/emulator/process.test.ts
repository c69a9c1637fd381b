/**
 * The emulator's process survives what ended it before: handlers' stray
 * errors in a process like local mode's, and a fuzz run against `npm start`'s own process — WebSocket frames,
 * upgrade requests and HTTP requests to every port it serves (the API, the local S3, the fake FCM, APNs and Web
 * Push), bodies cut short and HTTP/2 streams reset — after which the process must still serve. Sizes are fixed
 * (FUZZ_RUNS scales them), so the run takes seconds, not minutes.
 */
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import http2 from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../local/token.js';
import { deepText, hostileString, keyArb, objectText, rawValue, runs, SEED } from '../fuzz/arbitraries.js';
import { markedProcesses, startStackProcess, type StackProcess } from './stack-process.js';
import { Queue, TestClient } from './support.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const stacks: StackProcess[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const stack of stacks.splice(0)) {
    for (const { pid } of stack.processes()) process.kill(pid, 'SIGKILL');
    rmSync(stack.tmp, { recursive: true, force: true });
  }
});

/** A dead or wedged process fails the test within seconds instead of at its timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function open(url: string): Promise<TestClient> {
  const client = await within(TestClient.open(url), 20_000, `connecting to ${url.slice(0, 40)}`);
  clients.push(client);
  return client;
}

describe('handlers running in the emulator process (local mode)', () => {
  it('fail only their own invocation with a stray error, and the process serves on', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/emulator/fixtures/stray-errors-server.ts'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = new Queue<string>();
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (chunk: Buffer) =>
        chunk
          .toString()
          .split('\n')
          .forEach((l) => {
            if (l) lines.push(l);
          }),
      );
    try {
      const url = /listening (\S+)/.exec(
        await lines.waitFor((l) => l.startsWith('listening'), 30_000, 'the server'),
      )![1]!;
      const client = await open(url);
      for (const what of ['throw_in_timer', 'reject_unawaited', 'late_throw']) {
        client.send({ what });
        const reply = await client.next(() => true, 15_000);
        if (what === 'late_throw') expect(reply).toEqual({ what });
        else expect(reply, what).toMatchObject({ message: 'Internal server error' });
      }
      await lines.waitFor(
        (l) => l.includes('uncaughtException in $default, after it ended'),
        10_000,
        'the late throw logged',
      );
      client.send({ what: 'echo' });
      expect(await client.next(() => true, 15_000)).toEqual({ what: 'echo' });
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

/** The ports of every server in the stack's process, from its banner. */
function servedPorts(output: string): { api: number; s3: number; fcm: number; apns: number; webPush: number } {
  const port = (pattern: RegExp) => Number(pattern.exec(output)![1]);
  return {
    api: port(/WebSocket API\s+ws:\/\/127\.0\.0\.1:(\d+)/),
    s3: port(/S3 \(attachments\)\s+http:\/\/127\.0\.0\.1:(\d+)/),
    fcm: port(/FCM http:\/\/127\.0\.0\.1:(\d+)/),
    apns: port(/APNs https:\/\/127\.0\.0\.1:(\d+)/),
    webPush: port(/Web Push http:\/\/127\.0\.0\.1:(\d+)/),
  };
}

const frameArb: fc.Arbitrary<string> = fc.oneof(
  rawValue,
  deepText.map((deep) => `{"action":${deep}}`),
  fc
    .array(fc.tuple(keyArb, rawValue), { maxLength: 4 })
    .map((entries) => objectText([['action', '"msg_data"'], ...entries])),
  fc
    .tuple(fc.oneof(rawValue, deepText), fc.array(fc.tuple(keyArb, rawValue), { maxLength: 3 }))
    .map(([action, rest]) => objectText([['action', action], ...rest])),
  hostileString,
);

const PATHS = [
  '/',
  '//a:b',
  '/%',
  '/%zz/%E0%A4%A',
  '/@connections/x',
  '/local/@connections/abc%3D',
  '/@connections/%E0%A4%A',
  '/other/@connections/a',
  '/local/token?user_id=__proto__',
  '/local/token?user_id=%00',
  '/app.js',
  '/sw.js',
  '/local/push-config',
  '/attachments',
  '/attachments/uploads/x',
  '/attachments?list-type=2',
  '/attachments/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Date=1&X-Amz-Expires=x&X-Amz-Signature=zz',
  '/push/abc',
  '/push/../../etc',
  '/token',
  '/v1/projects/local-project/messages:send',
  '/3/device/abc',
  `/${'x'.repeat(5000)}`,
  '/?constructor=1&__proto__=2',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'FOO'];
const HEADERS = [
  '',
  'Authorization: x\r\n',
  'Authorization: AWS4-HMAC-SHA256 Credential=/,,\r\n',
  'Authorization: vapid t=a.b.c, k=zz\r\n',
  'Authorization: Bearer \r\n',
  'Content-Type: text/html\r\n',
  'TTL: -1\r\nContent-Encoding: aes128gcm\r\n',
  '__proto__: 1\r\nconstructor: 2\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Expect: 100-continue\r\n',
];

/** One raw HTTP request: maybe a body shorter than announced, and the socket reset before the end. */
async function rawRequest(
  port: number,
  request: { method: string; path: string; headers: string; body: string; abort: boolean },
): Promise<void> {
  const socket = connectTcp(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const length = request.abort ? request.body.length + 10_000 : request.body.length;
  socket.write(
    `${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${request.headers}Content-Length: ${length}\r\n\r\n${request.body}`,
  );
  await new Promise<void>((resolve) => {
    socket.once('data', () => resolve());
    socket.once('close', () => resolve());
    if (request.abort) setImmediate(resolve);
  });
  socket.resetAndDestroy();
}

const rawRequestWithin = (port: number, request: Parameters<typeof rawRequest>[1]) =>
  within(rawRequest(port, request), 20_000, `${request.method} ${request.path.slice(0, 40)} on ${port}`);

const requestArb = fc.record({
  method: fc.constantFrom(...METHODS),
  path: fc.constantFrom(...PATHS),
  headers: fc.constantFrom(...HEADERS),
  body: fc.oneof(fc.constant(''), rawValue, hostileString),
  abort: fc.boolean(),
});

/** HTTP/2 streams to the APNs fake: complete, reset mid-body, or with hostile headers; then TLS garbage. */
async function hammerApns(port: number): Promise<void> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  session.on('error', () => undefined);
  const bodies = fc.sample(fc.oneof(rawValue, hostileString), { seed: SEED, numRuns: runs(20) });
  await Promise.all(
    bodies.map(
      (body, i) =>
        new Promise<void>((resolve) => {
          const stream = session.request({
            ':method': i % 3 === 0 ? 'GET' : 'POST',
            ':path': `/3/device/${i % 2 ? 'a'.repeat(64) : '%zz'}`,
            authorization: 'bearer x.y.z',
            'apns-topic': '__proto__',
          });
          stream.on('error', () => resolve());
          stream.on('close', () => resolve());
          stream.on('response', () => stream.resume());
          stream.write(body);
          if (i % 2 === 0) stream.close(http2.constants.NGHTTP2_CANCEL);
          else stream.end();
        }),
    ),
  );
  session.destroy();
  const garbage = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false });
  garbage.on('error', () => undefined);
  await new Promise<void>((resolve) => garbage.once('secureConnect', () => resolve()).once('error', () => resolve()));
  garbage.write('PRI * HTTP/2.0\r\n\r\nnot http2 at all');
  garbage.destroy();
  const plain = connectTcp(port, '127.0.0.1');
  plain.on('error', () => undefined);
  plain.end('GET / HTTP/1.1\r\n\r\n');
}

describe.skipIf(process.platform !== 'linux')("fuzz: npm start's process", () => {
  it('still serves after hostile frames, upgrades and requests to every port it listens on', async () => {
    const stack = startStackProcess(['--in-memory']);
    stacks.push(stack);
    await stack.ready();
    const ports = servedPorts(stack.output());
    const token = await mintToken('local-dev-secret', 'fuzzer');
    const api = `ws://127.0.0.1:${ports.api}`;

    // WebSocket frames, on connections reopened whenever the emulator closes one (an oversize or binary frame).
    let client = await open(`${api}/?token=${token}`);
    for (const frame of fc.sample(frameArb, { seed: SEED, numRuns: runs(300) })) {
      if (client.ws.readyState !== client.ws.OPEN) client = await open(`${api}/?token=${token}`);
      client.send(frame);
    }
    const raw = await open(`${api}/?token=${token}`);
    raw.ws.send(Buffer.from([0xff, 0xfe, 0xc0]), { binary: false }); // not UTF-8: ws closes with 1007
    await within(raw.closed, 20_000, 'the close of a non-UTF-8 frame');

    // Upgrade requests and HTTP requests to every port, some cut short.
    const upgrades = fc.sample(
      fc.record({ path: fc.constantFrom(...PATHS), headers: fc.constantFrom(...HEADERS), abort: fc.boolean() }),
      { seed: SEED, numRuns: runs(60) },
    );
    await Promise.all(
      upgrades.map((u) =>
        rawRequestWithin(ports.api, {
          method: 'GET',
          path: u.path,
          headers: `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${u.headers}`,
          body: '',
          abort: u.abort,
        }),
      ),
    );
    for (const port of [ports.api, ports.s3, ports.fcm, ports.webPush]) {
      await Promise.all(
        fc
          .sample(requestArb, { seed: SEED + port, numRuns: runs(60) })
          .map((request) => rawRequestWithin(port, request)),
      );
    }
    await within(hammerApns(ports.apns), 20_000, 'HTTP/2 to the APNs fake');

    // Still serving: a new client's round trip, and an answer on every port.
    expect(stack.nodePid(), stack.output().slice(-3000)).toBeDefined();
    const after = await open(`${api}/?token=${token}`);
    after.send({ action: 'heartbeat', seq: 42 });
    expect(await after.next((f) => f['seq'] === 42, 15_000)).toMatchObject({ type: 'heartbeat' });
    for (const port of [ports.api, ports.s3, ports.fcm, ports.webPush]) {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status, `port ${port}`).toBeLessThan(600);
    }
    expect(stack.output()).not.toMatch(/Uncaught|triggerUncaughtException|exiting now/);
    expect(markedProcesses(stack.mark).some((p) => p.command.includes('DynamoDBLocal'))).toBe(true);
  }, 180_000);
});
