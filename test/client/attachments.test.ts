/**
 * Uploads against the fake server and a local HTTP server standing in for S3: limits checked before any upload,
 * types the server does not take refused by the server (`bad_request`, as docs/protocol.md says), progress, a
 * cancelled upload, and the XMLHttpRequest path browsers and React Native take.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, ChatServerError, peer, type UploadProgress } from '../../client/index.js';
import type { FakeConnection, Frame } from './fake-server.js';
import { AutoAck } from './fake-server.js';
import { cleanUp, makeClient, startServer } from './harness.js';

let s3: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (s3 ? s3.close(resolve) : resolve(undefined)));
  s3 = undefined;
  await cleanUp();
});

/** A PUT target: records the bodies; `hold` keeps the answer back until released. */
async function startS3(hold = false): Promise<{ url: string; bodies: Buffer[]; release: () => void }> {
  const bodies: Buffer[] = [];
  const held: ServerResponse[] = [];
  let released = !hold;
  s3 = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      if (released) response.end();
      else held.push(response);
    });
  });
  await new Promise<void>((resolve) => s3!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(s3.address() as AddressInfo).port}/upload`;
  return {
    url,
    bodies,
    release: () => {
      released = true;
      for (const response of held.splice(0)) response.end();
    },
  };
}

const KEY = `uploads/616c696365/${'K'.repeat(22)}`;

/** Answers attachment_upload with a grant to `url` (refusing types the real server refuses), and acks messages. */
function uploadsTo(url: string) {
  const path = new AutoAck();
  return (connection: FakeConnection, frame: Frame) => {
    path.onFrame(connection, frame);
    if (frame['action'] !== 'attachment_upload') return;
    const type = String(frame['content_type']);
    if (type.startsWith('image/bmp'))
      return connection.send({ type: 'error', seq: frame['seq'], code: 'bad_request', message: 'content_type' });
    connection.send({
      type: 'attachment_upload',
      seq: frame['seq'],
      key: KEY,
      url,
      method: 'PUT',
      headers: { 'Content-Type': type },
      expires_in: 300,
    });
  };
}

describe('uploads', () => {
  it('a voice note over the length limit is refused before anything is uploaded', async () => {
    const server = await startServer();
    const client = makeClient(server, { requestTimeoutMs: 200 });
    await client.connect();
    const connection = await server.nextConnection();
    const clip = new Blob([new Uint8Array(10)], { type: 'audio/webm' });
    await expect(client.sendVoice({ to: peer('bob'), blob: clip, duration: 3601 })).rejects.toBeInstanceOf(TypeError);
    expect(connection.frames.filter((f) => f['action'] === 'attachment_upload')).toEqual([]);
  });

  it('a type the server does not take is refused by the server: ChatServerError bad_request, as documented', async () => {
    const { url } = await startS3();
    const server = await startServer({ onFrame: uploadsTo(url) });
    const client = makeClient(server);
    await client.connect();
    const bitmap = new Blob([new Uint8Array(10)], { type: 'image/bmp' });
    const error = await client.sendPicture({ to: peer('bob'), file: bitmap }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatServerError);
    expect((error as ChatServerError).code).toBe('bad_request');
    // An allowed type of the other kind is the app's mistake, caught before asking.
    const clip = new Blob([new Uint8Array(10)], { type: 'audio/webm' });
    await expect(client.sendPicture({ to: peer('bob'), file: clip })).rejects.toBeInstanceOf(TypeError);
  });

  it('reports progress, then sends the description; a cancelled upload rejects with AbortError and sends nothing', async () => {
    const s3Server = await startS3(true);
    const server = await startServer({ onFrame: uploadsTo(s3Server.url) });
    const client = makeClient(server);
    await client.connect();
    const connection = await server.nextConnection();
    const progress: UploadProgress[] = [];
    const photo = new Blob([new Uint8Array(1234)], { type: 'image/png' });
    const sent = client.sendPicture({ to: peer('bob'), file: photo, width: 2, onProgress: (p) => progress.push(p) });
    await connection.nextAction('attachment_upload');
    s3Server.release();
    await expect(sent).resolves.toMatchObject({ msg_id: 1 });
    expect(progress.at(-1)).toEqual({ loaded: 1234, total: 1234 });
    expect(s3Server.bodies[0]).toHaveLength(1234);
    expect(JSON.parse(String((await connection.nextAction('msg_data'))['msg_data']))).toEqual({
      attachment: 'picture',
      key: KEY,
      content_type: 'image/png',
      size: 1234,
      width: 2,
    });

    const held = await startS3(true);
    const heldServer = await startServer({ onFrame: uploadsTo(held.url) });
    const other = makeClient(heldServer);
    await other.connect();
    const controller = new AbortController();
    const cancelled = other.sendPicture({ to: peer('bob'), file: photo, signal: controller.signal });
    const otherConnection = await heldServer.nextConnection();
    await otherConnection.nextAction('attachment_upload');
    controller.abort();
    await expect(cancelled).rejects.toBeInstanceOf(AbortError);
    expect(otherConnection.frames.filter((f) => f['action'] === 'msg_data')).toEqual([]);
  });
});
