import { afterEach, describe, expect, it } from 'vitest';
import { FrameSizeMonitor } from '../../emulator/limits.js';
import { startStubApi, type StubApi } from './stub-api.js';
import { TestClient } from './support.js';

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

/** Sends one message as several frames (fragmentation), as a client may for messages over 32 KB. */
function sendFragmented(client: TestClient, parts: string[]): void {
  for (const [i, part] of parts.entries()) client.ws.send(part, { fin: i === parts.length - 1 });
}

const KB = 1024;

describe('payload limits', () => {
  it('closes with 1009 on a single frame over 32 KB, without invoking a route for it', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    client.send(JSON.stringify({ action: 'msg_data', pad: 'x'.repeat(32 * KB) }));
    expect((await client.closed).code).toBe(1009);
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.disconnectStatusCode).toBe(1009);
    expect(api.invocations.all.filter((i) => i.event.requestContext.eventType === 'MESSAGE')).toEqual([]);
  });

  it('accepts a frame of exactly 32 KB', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    const body = 'y'.repeat(32 * KB);
    client.send(body);
    const invocation = await api.invocations.take((i) => i.routeKey === '$default');
    expect(invocation.event.body).toBe(body);
  });

  it('accepts a fragmented message up to 128 KB as one event', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    const parts = [
      '{"action":"msg_data","pad":"',
      'a'.repeat(31 * KB),
      'b'.repeat(31 * KB),
      'c'.repeat(31 * KB),
      'd'.repeat(31 * KB),
      '"}',
    ];
    sendFragmented(client, parts);
    const invocation = await api.invocations.take((i) => i.routeKey === 'msg_data');
    expect(invocation.event.body).toBe(parts.join(''));
  });

  it('closes with 1009 on a message over 128 KB even when each frame is under 32 KB', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    sendFragmented(
      client,
      Array.from({ length: 5 }, () => 'z'.repeat(30 * KB)),
    );
    expect((await client.closed).code).toBe(1009);
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.disconnectStatusCode).toBe(1009);
    expect(api.invocations.all.filter((i) => i.event.requestContext.eventType === 'MESSAGE')).toEqual([]);
  });

  it('closes with 1003 on a binary frame, as API Gateway does', async () => {
    api = await startStubApi();
    const client = await open(api.urlFor('alice'));
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closed).code).toBe(1003);
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.disconnectStatusCode).toBe(1003);
    expect(api.invocations.all.filter((i) => i.event.requestContext.eventType === 'MESSAGE')).toEqual([]);
  });
});

describe('connection timers', () => {
  it('closes an idle connection with 1001 and fires $disconnect', async () => {
    api = await startStubApi({ limits: { idleTimeoutMs: 300 } });
    const client = await open(api.urlFor('alice'));
    const closed = await client.closed;
    expect(closed.code).toBe(1001);
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.disconnectStatusCode).toBe(1001);
    expect(api.emulator.connections()).toEqual([]);
  });

  it('counts a client frame as activity: the idle timer restarts from it', async () => {
    const idleTimeoutMs = 1_000;
    api = await startStubApi({ limits: { idleTimeoutMs } });
    const client = await open(api.urlFor('alice'));
    const lastFrame = await new Promise<number>((resolve) =>
      setTimeout(() => {
        client.send({ action: 'msg_data' });
        resolve(Date.now());
      }, 300),
    );
    await client.closed;
    // Closed no earlier than one idle period after the last frame (timers may fire a few ms early or late).
    expect(Date.now() - lastFrame).toBeGreaterThanOrEqual(idleTimeoutMs - 25);
  });

  it('closes every connection after the maximum duration even when active, and fires $disconnect', async () => {
    api = await startStubApi({ limits: { maxConnectionDurationMs: 400, idleTimeoutMs: 60_000 } });
    const opened = Date.now();
    const client = await open(api.urlFor('alice'));
    const keepAlive = setInterval(() => client.send({ action: 'msg_data' }), 50);
    try {
      expect((await client.closed).code).toBe(1001);
    } finally {
      clearInterval(keepAlive);
    }
    expect(Date.now() - opened).toBeGreaterThanOrEqual(400 - 25);
    const disconnect = await api.invocations.take((i) => i.routeKey === '$disconnect');
    expect(disconnect.event.requestContext.disconnectStatusCode).toBe(1001);
  });
});

describe('FrameSizeMonitor', () => {
  function frame(length: number, opcode = 0x1, masked = true): Buffer {
    const header: number[] = [0x80 | opcode];
    const maskBit = masked ? 0x80 : 0;
    if (length < 126) header.push(maskBit | length);
    else if (length < 65536) header.push(maskBit | 126, length >> 8, length & 0xff);
    else
      header.push(
        maskBit | 127,
        0,
        0,
        0,
        0,
        (length >>> 24) & 0xff,
        (length >> 16) & 0xff,
        (length >> 8) & 0xff,
        length & 0xff,
      );
    if (masked) header.push(1, 2, 3, 4);
    return Buffer.concat([Buffer.from(header), Buffer.alloc(length)]);
  }

  it('tracks frames split at any byte boundary', () => {
    const stream = Buffer.concat([frame(10), frame(300), frame(70_000, 0x2), frame(5)]);
    for (const step of [1, 3, 7, 1000]) {
      const monitor = new FrameSizeMonitor(70_000);
      let tripped = false;
      for (let i = 0; i < stream.length; i += step) tripped = monitor.feed(stream.subarray(i, i + step)) || tripped;
      expect(tripped, `step ${step}`).toBe(false);
    }
    const strict = new FrameSizeMonitor(1000);
    expect(strict.feed(Buffer.concat([frame(10), frame(300), frame(1000)]))).toBe(false);
    // Reported as soon as the header is complete (2 + 2 length bytes + 4 mask bytes), before the payload.
    const big = frame(1001);
    expect(strict.feed(big.subarray(0, 7))).toBe(false);
    expect(strict.feed(big.subarray(7, 8))).toBe(true);
    // 64-bit lengths too.
    expect(new FrameSizeMonitor(65_535).feed(frame(70_000).subarray(0, 14))).toBe(true);
  });

  it('ignores control frames', () => {
    const monitor = new FrameSizeMonitor(4);
    expect(monitor.feed(frame(100, 0x9))).toBe(false);
    expect(monitor.feed(frame(5, 0x1))).toBe(true);
  });
});
