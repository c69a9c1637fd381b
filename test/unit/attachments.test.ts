/**
 * Attachments without AWS: the description format (protocol/attachments.ts), keys, and the S3 adapter's requests
 * (aws-sdk-client-mock): a presigned PUT that signs Content-Length and Content-Type and no checksum of an empty
 * body, a HEAD that reads a missing object (404, or 403 without ListBucket) as none, a copy within the bucket.
 */
import './setup-env.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CopyObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3Attachments } from '../../core/blob/s3-attachments.js';
import { newUploadKey, quotaPeriod, storedKey, uploaderOf } from '../../core/usecases/attachments.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createAttachmentsHandler } from '../../lambdas/attachments/handler.js';
import { TABLE, conditionFailed, ddb, makeRuntime, posts, resetMocks } from './helpers.js';
import {
  attachmentKindOf,
  InvalidAttachmentError,
  kindFitsMsgType,
  parseAttachment,
  UPLOAD_KEY_PATTERN,
} from '../../protocol/attachments.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const KEY = newUploadKey('alice@example.com');

describe('attachment descriptions', () => {
  it('reads a voice note and a picture, and leaves any other msg_data alone', () => {
    expect(
      parseAttachment(
        JSON.stringify({ attachment: 'voice', key: KEY, content_type: 'audio/webm', size: 10, duration: 2 }),
      ),
    ).toMatchObject({ attachment: 'voice' });
    expect(
      parseAttachment(
        JSON.stringify({ attachment: 'picture', key: KEY, content_type: 'image/jpeg', size: 10, width: 3, height: 2 }),
      ),
    ).toMatchObject({ attachment: 'picture' });
    for (const text of ['hi', '{not json', '{"key":"x"}', '[1]', 'T2dnUw==', '{}'])
      expect(parseAttachment(text), text).toBeUndefined();
  });

  it.each([
    ['unknown kind', { attachment: 'video', key: KEY, content_type: 'audio/webm', size: 1, duration: 1 }],
    [
      'a key the server did not make',
      { attachment: 'voice', key: 'att/x/y', content_type: 'audio/webm', size: 1, duration: 1 },
    ],
    [
      'a type with parameters',
      { attachment: 'voice', key: KEY, content_type: 'audio/webm;codecs=opus', size: 1, duration: 1 },
    ],
    [
      'an image type for a voice note',
      { attachment: 'voice', key: KEY, content_type: 'image/png', size: 1, duration: 1 },
    ],
    ['no duration', { attachment: 'voice', key: KEY, content_type: 'audio/webm', size: 1 }],
    ['a duration over an hour', { attachment: 'voice', key: KEY, content_type: 'audio/webm', size: 1, duration: 3601 }],
    ['a picture with a duration', { attachment: 'picture', key: KEY, content_type: 'image/png', size: 1, duration: 1 }],
    ['a fractional size', { attachment: 'picture', key: KEY, content_type: 'image/png', size: 1.5 }],
    ['a zero width', { attachment: 'picture', key: KEY, content_type: 'image/png', size: 1, width: 0 }],
    ['an extra field', { attachment: 'picture', key: KEY, content_type: 'image/png', size: 1, url: 'https://x' }],
  ])('refuses %s', (_, description) => {
    expect(() => parseAttachment(JSON.stringify(description))).toThrow(InvalidAttachmentError);
  });

  it('allows the browser and phone recording types and the picture types, nothing else', () => {
    expect(attachmentKindOf('audio/webm;codecs=opus')).toBe('voice');
    expect(attachmentKindOf('audio/mp4')).toBe('voice');
    expect(attachmentKindOf('IMAGE/PNG')).toBe('picture');
    for (const type of ['image/svg+xml', 'text/html', 'video/mp4', 'application/pdf', ''])
      expect(attachmentKindOf(type), type).toBeUndefined();
    expect(
      kindFitsMsgType('voice', 2) &&
        kindFitsMsgType('voice', 18) &&
        kindFitsMsgType('picture', 1) &&
        kindFitsMsgType('picture', 17),
    ).toBe(true);
    expect(kindFitsMsgType('voice', 1) || kindFitsMsgType('picture', 18)).toBe(false);
  });

  it('makes fresh keys under the uploader, each stored once under att/ whatever the conversations', () => {
    expect(KEY).toMatch(UPLOAD_KEY_PATTERN);
    expect(uploaderOf(KEY)).toBe('alice@example.com');
    expect(newUploadKey('alice')).not.toBe(newUploadKey('alice'));
    expect(uploaderOf('uploads/zz/AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(storedKey(KEY)).toBe(KEY.replace(/^uploads\//, 'att/'));
  });

  it('counts the byte quota for ever, or with a retention in periods as long as a stored attachment lives', () => {
    const day = 86_400_000;
    expect(quotaPeriod(1000 * day, 0)).toEqual({ id: 'all' });
    // 30 days of retention: stored attachments live 31 days, so does a period; its count is kept two periods.
    expect(quotaPeriod(31 * day, 30)).toEqual({ id: '31d#1', expiresAt: 3 * 31 * 86_400 });
    expect(quotaPeriod(62 * day - 1, 30).id).toBe('31d#1');
    expect(quotaPeriod(62 * day, 30).id).toBe('31d#2');
  });
});

describe('S3Attachments', () => {
  const blobs = () =>
    new S3Attachments({
      bucket: 'chat-attachments',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    });

  it('signs a PUT bound to the length and type, with no checksum of an empty body', async () => {
    const url = new URL(await blobs().presignUpload(KEY, 'image/png', 1234, 300));
    expect(url.host).toBe('chat-attachments.s3.us-east-1.amazonaws.com');
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
  });

  it('reads a missing object as none, whether S3 says 404 or 403, and passes other failures on', async () => {
    const failure = (status: number, name: string) =>
      new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status } });
    s3.on(HeadObjectCommand, { Key: 'gone' }).rejects(failure(404, 'NotFound'));
    s3.on(HeadObjectCommand, { Key: 'denied' }).rejects(failure(403, 'Forbidden'));
    s3.on(HeadObjectCommand, { Key: 'slow' }).rejects(failure(503, 'SlowDown'));
    s3.on(HeadObjectCommand, { Key: 'there' }).resolves({
      ContentLength: 5,
      ContentType: 'image/png',
      LastModified: new Date(1_000),
    });
    expect(await blobs().head('gone')).toBeUndefined();
    expect(await blobs().head('denied')).toBeUndefined();
    expect(await blobs().head('there')).toEqual({ size: 5, contentType: 'image/png', lastModified: 1_000 });
    await expect(blobs().head('slow')).rejects.toThrow();
  });

  it('copies within the bucket only where nothing is (If-None-Match: *), and reads 412 as stored already', async () => {
    s3.on(CopyObjectCommand, { Key: 'att/x/y' }).resolves({});
    s3.on(CopyObjectCommand, { Key: 'att/x/z' }).rejects(
      new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }),
    );
    expect(await blobs().copyOnce(KEY, 'att/x/y')).toBe(true);
    expect(await blobs().copyOnce(KEY, 'att/x/z')).toBe(false);
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'chat-attachments',
      Key: 'att/x/y',
      CopySource: `chat-attachments/${KEY}`,
      IfNoneMatch: '*',
    });
  });

  it('refreshes an object by copying it onto itself with its own type (its bytes cannot change)', async () => {
    s3.on(CopyObjectCommand).resolves({});
    await blobs().refresh('att/x/y', 'image/png');
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'chat-attachments',
      Key: 'att/x/y',
      CopySource: 'chat-attachments/att/x/y',
      MetadataDirective: 'REPLACE',
      ContentType: 'image/png',
    });
  });
});

describe('attachment_upload and the write budget', () => {
  const upload = (seq: number) =>
    createAttachmentsHandler(makeRuntime({ ATTACHMENT_BUCKET: 'chat-attachments' }))({
      body: JSON.stringify({ action: 'attachment_upload', seq, content_type: 'image/png', size: 100 }),
      isBase64Encoded: false,
      requestContext: {
        connectionId: 'c-a1',
        routeKey: 'attachment_upload',
        eventType: 'MESSAGE',
        authorizer: { principalId: 'alice', userId: 'alice' },
      },
    } as unknown as WebSocketEvent);

  it("takes one write from the user's budget of writing requests, and past it answers rate_limited with no URL", async () => {
    // The signing credentials, as a Lambda role's reach the SDK.
    process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIDUNIT';
    process.env['AWS_SECRET_ACCESS_KEY'] ??= 'unit-secret';
    resetMocks();
    await upload(1);
    const budget = ddb.commandCalls(UpdateCommand).filter((c) => c.args[0].input.TableName === TABLE.RateLimits);
    expect(budget).toHaveLength(1);
    expect(posts().map((p) => p.frame)).toEqual([
      expect.objectContaining({ type: 'attachment_upload', seq: 1, url: expect.stringContaining('X-Amz-Signature') }),
    ]);

    resetMocks();
    ddb.on(UpdateCommand, { TableName: TABLE.RateLimits }).rejects(conditionFailed());
    await upload(2);
    expect(posts().map((p) => p.frame)).toEqual([
      { type: 'error', seq: 2, code: 'rate_limited', message: expect.any(String) },
    ]);
  });
});
