/**
 * The fake push providers of local mode take requests cut short without failing anything but that request: an upload aborted mid-body to the HTTP fakes, an HTTP/2 stream reset mid-body to the APNs fake.
 * Before, each left a rejected promise nobody handled, which ends a Node process.
 */
import http2 from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApns } from '../../local/push/fake-apns.js';
import { FakeFcm } from '../../local/push/fake-fcm.js';
import { FakeWebPush } from '../../local/push/fake-web-push.js';

let fcm: FakeFcm;
let apns: FakeApns;
let webPush: FakeWebPush;
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', record);
  [fcm, apns, webPush] = await Promise.all([FakeFcm.start(), FakeApns.start(), FakeWebPush.start()]);
});

afterAll(async () => {
  process.off('unhandledRejection', record);
  await Promise.all([fcm.stop(), apns.stop(), webPush.stop()]);
});

/** Sends the head of a POST promising 10,000 bytes, 10 of them, and resets the connection. */
async function abortedUpload(origin: string, path: string): Promise<void> {
  const { hostname, port } = new URL(origin);
  const socket = connectTcp(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 10000\r\nTTL: 60\r\n\r\n0123456789`);
  // The fake is reading the body once its 404 for a wrong path or its answer cannot come before more bytes.
  await new Promise((resolve) => setImmediate(resolve));
  socket.resetAndDestroy();
}

/** Opens an HTTP/2 POST to the APNs fake, sends part of the body and resets the stream. */
async function resetStream(): Promise<void> {
  const session = http2.connect(apns.origin, { ca: apns.ca });
  session.on('error', () => undefined);
  const stream = session.request({
    ':method': 'POST',
    ':path': `/3/device/${'a'.repeat(64)}`,
    'content-length': '5000',
  });
  stream.on('error', () => undefined);
  stream.write('{"aps":');
  await new Promise<void>((resolve) => stream.once('ready', () => resolve()));
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await new Promise<void>((resolve) => stream.once('close', () => resolve()));
  session.close();
}

describe('fake push providers and requests cut short', () => {
  it('answer the next request after aborted uploads and a reset HTTP/2 stream, with no unhandled rejection', async () => {
    for (let round = 0; round < 3; round++) {
      await abortedUpload(webPush.origin, '/push/abc');
      await abortedUpload(fcm.origin, '/v1/projects/local-project/messages:send');
      await abortedUpload(fcm.origin, '/token');
      await resetStream();
    }
    expect((await fetch(`${webPush.origin}/push/abc`, { method: 'POST', body: 'x' })).status).toBe(400); // no TTL
    expect((await fetch(`${fcm.origin}/token`, { method: 'POST', body: 'grant_type=x' })).status).toBe(400);
    const session = http2.connect(apns.origin, { ca: apns.ca });
    const answer = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': `/3/device/${'a'.repeat(64)}` });
      stream.on('response', (headers) => resolve(Number(headers[':status'])));
      stream.on('error', reject);
      stream.end('{}');
    });
    session.close();
    expect(answer).toBe(403); // no provider token
    // Rejections surface on the next turns of the event loop: one HTTP round trip later they would have.
    await fetch(`${fcm.origin}/nothing`).then((r) => r.arrayBuffer());
    expect(unhandled).toEqual([]);
  });
});
