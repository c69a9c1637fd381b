/**
 * The local S3's guard (local/s3-server.ts, local/s3-auth.ts), the S3 the end-to-end tests trust: requests signed in the Authorization header are verified like presigned URLs, anything else is refused
 * 403, and a request the URL parser cannot read is answered, not fatal.
 */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../local/s3-server.js';

const BUCKET = 'attachments';
const KEYS = { accessKeyId: 'local', secretAccessKey: 'local' };
let s3: LocalS3;
let client: S3Client;

beforeAll(async () => {
  s3 = await startLocalS3({ bucket: BUCKET, ...KEYS });
  client = s3Client(KEYS);
  await client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'att/s#a#b/secret.png',
      Body: 'secret bytes',
      ContentType: 'image/png',
    }),
  );
});

afterAll(async () => {
  client.destroy();
  await s3.stop();
});

function s3Client(credentials: { accessKeyId: string; secretAccessKey: string }, systemClockOffset = 0): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    systemClockOffset,
    maxAttempts: 1,
  });
}

/** A raw HTTP request (fetch would refuse some of these URLs itself). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(s3.endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bogus =
  'AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=' +
  '0'.repeat(64);

describe('requests signed in the Authorization header', () => {
  it('serves the SDK signed with the local keys: put, head, get, copy, list', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/u/x y+z.bin', Body: 'hello' }));
    expect(
      (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/u/x y+z.bin' }))).ContentLength,
    ).toBe(5);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/u/x y+z.bin' }));
    expect(await got.Body?.transformToString()).toBe('hello');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/u/plain.bin', Body: 'plain' }));
    await client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'att/c/x.bin', CopySource: `${BUCKET}/uploads/u/plain.bin` }),
    );
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'att/c/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['att/c/x.bin']);
  });

  it('refuses 403 any Authorization header that is not a valid signature: list, read, or PUT text/html', async () => {
    for (const authorization of [bogus, 'anything', 'AWS local:abc']) {
      expect((await raw('GET', `/${BUCKET}?list-type=2`, { authorization })).status, authorization).toBe(403);
      expect((await raw('GET', `/${BUCKET}/att/s%23a%23b/secret.png`, { authorization })).status).toBe(403);
      const put = await raw(
        'PUT',
        `/${BUCKET}/att/s%23a%23b/page.html`,
        { authorization, 'content-type': 'text/html' },
        '<script>1</script>',
      );
      expect(put.status).toBe(403);
    }
    await expect(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'att/s#a#b/page.html' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('refuses a signature made with another secret, another access key, or a date 20 minutes off', async () => {
    for (const [what, other] of [
      ['other secret', s3Client({ accessKeyId: 'local', secretAccessKey: 'guess' })],
      ['other key', s3Client({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'local' })],
      ['skewed clock', s3Client(KEYS, -20 * 60 * 1000)],
    ] as const) {
      await expect(
        other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'att/s#a#b/secret.png' })),
        what,
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      other.destroy();
    }
  });

  it('refuses a header signature replayed on another key or method', async () => {
    let captured: Record<string, string> = {};
    const spy = s3Client(KEYS);
    spy.middlewareStack.add(
      (next) => async (args) => {
        captured = { ...(args.request as { headers: Record<string, string> }).headers };
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'capture' },
    );
    await spy.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'att/s#a#b/secret.png' }));
    spy.destroy();
    expect((await raw('HEAD', `/${BUCKET}/att/s%23a%23b/secret.png`, captured)).status).toBe(200);
    expect((await raw('HEAD', `/${BUCKET}/att/s%23a%23b/other.png`, captured)).status).toBe(403);
    expect((await raw('GET', `/${BUCKET}/att/s%23a%23b/secret.png`, captured)).status).toBe(403);
  });
});

describe('presigned URLs and malformed requests', () => {
  it('serves a presigned GET and refuses it for another key or once tampered', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'att/s#a#b/secret.png' }), {
      expiresIn: 60,
    });
    expect(await (await fetch(url)).text()).toBe('secret bytes');
    expect((await fetch(url.replace('secret.png', 'other.png'))).status).toBe(403);
    expect((await fetch(url.replace('X-Amz-Expires=60', 'X-Amz-Expires=61'))).status).toBe(403);
  });

  it('answers a request whose URL does not parse (//a:b) and keeps serving', async () => {
    expect((await raw('GET', '//a:b')).status).toBe(403);
    expect((await raw('GET', '//a:b', { authorization: bogus })).status).toBe(403);
    expect(
      (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'att/s#a#b/secret.png' }))).ContentLength,
    ).toBe(12);
  });
});
