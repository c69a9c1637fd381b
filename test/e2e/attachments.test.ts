/**
 * Pictures and voice notes end to end on the local S3 (local/s3-server.ts: s3rver behind a guard that checks
 * presigned URLs as S3 does): upload within the limits, refusals (size, type, another user's key, a missing key, a
 * description that is not the upload), downloads only for members of a conversation whose message references the key.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatClient, ChatServerError, attachmentOf, peer, type ReceivedMessage } from '../../client/index.js';
import { WRITE_ACTIONS } from '../../protocol/frames.js';
import type { Frame } from '../emulator/support.js';
import { msgData, runtimeWithGrantOf, startTestStack, type Device, type TestStack } from './harness.js';

let t: TestStack | undefined;
let seq = 1;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** Sends a request and resolves with its reply or error frame. */
async function ask(device: Device, frame: Frame): Promise<Frame> {
  const s = seq++;
  device.client.send({ ...frame, seq: s });
  return device.client.next(
    (f) => f['seq'] === s && (f['type'] === frame['action'] || f['type'] === 'error' || f['type'] === 'msg_data_ack'),
  );
}

async function upload(device: Device, contentType: string, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return (await uploadWithUrl(device, contentType, bytes)).key;
}

/** An upload, and a PUT of other bytes to its URL (still valid): what an attacker would try after the message. */
async function uploadWithUrl(
  device: Device,
  contentType: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ key: string; putAgain: (other: Uint8Array<ArrayBuffer>) => Promise<number> }> {
  const grant = await ask(device, { action: 'attachment_upload', content_type: contentType, size: bytes.length });
  expect(grant).toMatchObject({
    type: 'attachment_upload',
    method: 'PUT',
    key: expect.stringMatching(/^uploads\//),
    expires_in: 300,
  });
  const putBytes = async (body: Uint8Array<ArrayBuffer>) =>
    (await fetch(grant['url'] as string, { method: 'PUT', body, headers: grant['headers'] as Record<string, string> }))
      .status;
  expect(await putBytes(bytes)).toBe(200);
  return { key: grant['key'] as string, putAgain: putBytes };
}

/** The bytes `who` downloads for `key` in the session, or the error code it is refused with. */
async function download(who: Device, sessionId: string, key: string, sessionType = 1): Promise<Uint8Array | string> {
  const grant = await ask(who, { action: 'attachment_url', session_id: sessionId, session_type: sessionType, key });
  if (grant['type'] === 'error') return grant['code'] as string;
  const got = await fetch(grant['url'] as string);
  expect(got.status).toBe(200);
  return new Uint8Array(await got.arrayBuffer());
}

/** Keys of the objects under a prefix of the local bucket (a test's look behind the service). */
async function objectsUnder(prefix: string): Promise<string[]> {
  const s3 = new S3Client({
    endpoint: t!.stack.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    return (
      (await s3.send(new ListObjectsV2Command({ Bucket: t!.stack.attachmentBucket, Prefix: prefix }))).Contents ?? []
    ).map((o) => o.Key!);
  } finally {
    s3.destroy();
  }
}

const voice = (key: string, size: number, extra: Frame = {}) =>
  JSON.stringify({ attachment: 'voice', key, content_type: 'audio/webm', size, duration: 2.5, ...extra });
const picture = (key: string, size: number) =>
  JSON.stringify({ attachment: 'picture', key, content_type: 'image/png', size, width: 4, height: 3 });
const bytes = (n: number, fill = 7): Uint8Array<ArrayBuffer> => new Uint8Array(n).fill(fill);

describe('attachments through the local S3', () => {
  it('a voice note and a picture go from alice to bob, who downloads both; alice can too', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const clip = bytes(3000, 1);
    const image = bytes(2000, 2);
    const clipKey = await upload(alice, 'audio/webm;codecs=opus', clip);
    const imageKey = await upload(alice, 'image/png', image);

    expect(await ask(alice, { ...msgData('bob', 0, voice(clipKey, clip.length)), msg_type: 2 })).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 1,
    });
    expect(await ask(alice, msgData('bob', 0, picture(imageKey, image.length)))).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 2,
    });
    const delivered = [
      await bob.client.next((f) => f['type'] === 'msg_data'),
      await bob.client.next((f) => f['type'] === 'msg_data'),
    ];
    expect(delivered.map((f) => JSON.parse(f['msg_data'] as string)['key'])).toEqual([clipKey, imageKey]);

    for (const [who, peer] of [
      [bob, 'alice'],
      [alice, 'bob'],
    ] as const) {
      for (const [key, body] of [
        [clipKey, clip],
        [imageKey, image],
      ] as const) {
        const grant = await ask(who, { action: 'attachment_url', session_id: peer, session_type: 1, key });
        expect(grant).toMatchObject({ type: 'attachment_url', key, session_id: peer, expires_in: 300 });
        const got = await fetch(grant['url'] as string);
        expect(got.status).toBe(200);
        expect(new Uint8Array(await got.arrayBuffer())).toEqual(body);
      }
    }
  });

  it('refuses an upload over the limit or of a type that is not allowed, and S3 refuses bytes other than the signed ones', async () => {
    t = await startTestStack({ env: { MAX_IMAGE_BYTES: '1000', MAX_AUDIO_BYTES: '500' } });
    const alice = await t.connect('alice');
    expect(await ask(alice, { action: 'attachment_upload', content_type: 'image/png', size: 1001 })).toMatchObject({
      type: 'error',
      code: 'too_large',
    });
    expect(await ask(alice, { action: 'attachment_upload', content_type: 'audio/ogg', size: 501 })).toMatchObject({
      type: 'error',
      code: 'too_large',
    });
    for (const type of ['text/html', 'image/svg+xml', 'application/octet-stream', '']) {
      expect(await ask(alice, { action: 'attachment_upload', content_type: type, size: 10 }), type).toMatchObject({
        type: 'error',
        code: 'bad_request',
      });
    }
    expect(await ask(alice, { action: 'attachment_upload', content_type: 'image/png', size: 0 })).toMatchObject({
      type: 'error',
      code: 'bad_request',
    });

    const grant = await ask(alice, { action: 'attachment_upload', content_type: 'image/png', size: 1000 });
    const url = grant['url'] as string;
    const put = (body: Uint8Array<ArrayBuffer>, type: string) =>
      fetch(url, { method: 'PUT', body, headers: { 'Content-Type': type } });
    expect((await put(bytes(1001), 'image/png')).status).toBe(403); // more bytes than signed
    expect((await put(bytes(999), 'image/png')).status).toBe(403); // fewer
    expect((await put(bytes(1000), 'text/html')).status).toBe(403); // another type
    expect((await fetch(url.split('?')[0]!, { method: 'PUT', body: bytes(10) })).status).toBe(403); // unsigned
    expect((await put(bytes(1000), 'image/png')).status).toBe(200);
  });

  it("refuses a message referencing another user's key, a missing key, or a description that is not the upload; nothing is stored", async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const mallory = await t.connect('mallory');
    const clip = bytes(100);
    const key = await upload(alice, 'audio/mp4', clip);
    const mp4 = (k: string, size: number) => voice(k, size, { content_type: 'audio/mp4' });
    const missing = key.replace(/\/[^/]+$/, '/AAAAAAAAAAAAAAAAAAAAAA');

    const refused: [Device, Frame][] = [
      [mallory, { ...msgData('bob', 0, mp4(key, 100)), msg_type: 2 }], // alice's upload
      [alice, { ...msgData('bob', 0, mp4(missing, 100)), msg_type: 2 }], // never uploaded
      [alice, { ...msgData('bob', 0, mp4(key, 101)), msg_type: 2 }], // other size
      [alice, { ...msgData('bob', 0, voice(key, 100)), msg_type: 2 }], // other type (audio/webm)
      [alice, msgData('bob', 0, mp4(key, 100))], // a voice note in a text message
      [alice, { ...msgData('bob', 0, picture(key, 100)), msg_type: 2 }], // a picture in an audio message
      [
        alice,
        {
          ...msgData('bob', 0, JSON.stringify({ attachment: 'voice', key, content_type: 'audio/mp4', size: 100 })),
          msg_type: 2,
        },
      ], // no duration
      [
        alice,
        {
          ...msgData(
            'bob',
            0,
            JSON.stringify({
              attachment: 'voice',
              key: 'uploads/x/y',
              content_type: 'audio/mp4',
              size: 1,
              duration: 1,
            }),
          ),
          msg_type: 2,
        },
      ],
      [alice, { ...msgData('bob', 0, JSON.stringify({ attachment: 'sticker', key })), msg_type: 1 }],
      [alice, { ...msgData('bob', 0, mp4(key, 100).replace('{', '{"url":"http://x",')), msg_type: 2 }], // unknown field
    ];
    for (const [who, frame] of refused) {
      expect(await ask(who, frame), String(frame['msg_data'])).toMatchObject({ type: 'error', code: 'bad_request' });
    }
    // None took a msg_id or reached bob; text that merely looks like JSON, and an opaque audio string, still go.
    expect(await ask(alice, msgData('bob', 0, '{"key":"not an attachment"}'))).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 1,
    });
    expect(await ask(alice, { ...msgData('bob', 0, 'T2dnUw=='), msg_type: 2 })).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 2,
    });
    expect(await ask(alice, { ...msgData('bob', 0, mp4(key, 100)), msg_type: 2 })).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 3,
    });
    const seen = [await bob.client.next(), await bob.client.next(), await bob.client.next()];
    expect(seen.map((f) => f['msg_id'])).toEqual([1, 2, 3]);
  });

  it('signs a download only for members of a conversation in which a message references the key', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const carol = await t.connect('carol');
    const image = bytes(50);
    const key = await upload(alice, 'image/gif', image);
    const gif = JSON.stringify({ attachment: 'picture', key, content_type: 'image/gif', size: 50 });
    const urlFor = (who: Device, sessionId: string, sessionType = 1) =>
      ask(who, { action: 'attachment_url', session_id: sessionId, session_type: sessionType, key });

    // Uploaded, not referenced yet: nobody gets it, not even alice.
    expect(await urlFor(bob, 'alice')).toMatchObject({ type: 'error', code: 'not_member' });
    expect(await urlFor(alice, 'bob')).toMatchObject({ type: 'error', code: 'not_member' });

    const group = await ask(alice, { action: 'group_create', group_name: 'team', member_ids: ['bob'] });
    const groupId = group['group_id'] as string;
    expect(await ask(alice, { ...msgData(groupId, 0, gif), msg_type: 17 })).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 1,
    });

    // Referenced in the group: its members get it there, carol (who knows the key) gets nothing anywhere.
    expect(await urlFor(bob, groupId, 2)).toMatchObject({ type: 'attachment_url', key });
    expect(await urlFor(carol, groupId, 2)).toMatchObject({ type: 'error', code: 'not_member' });
    expect(await urlFor(carol, 'alice')).toMatchObject({ type: 'error', code: 'not_member' });
    // ... and not in the single chat between alice and bob, where no message references it.
    expect(await urlFor(bob, 'alice')).toMatchObject({ type: 'error', code: 'not_member' });
    expect(
      await ask(carol, { action: 'attachment_url', session_id: 'alice', session_type: 1, key: 'att/../x' }),
    ).toMatchObject({ type: 'error', code: 'bad_request' });

    // The object itself is private: the key alone, as a URL, opens nothing.
    const direct = await fetch(`${t.stack.s3Endpoint}/${t.stack.attachmentBucket}/${key}`);
    expect(direct.status).toBe(403);
  });

  it('the SDK sends a picture and a voice note; the peer reads them with attachmentOf and downloads them', async () => {
    t = await startTestStack();
    const open = async (userId: string) => {
      const client = new ChatClient({
        url: t!.stack.url,
        token: await t!.stack.mintToken(userId),
        WebSocket,
        reconnect: false,
      });
      await client.connect();
      return client;
    };
    const alice = await open('alice');
    const bob = await open('bob');
    const received: ReceivedMessage[] = [];
    const two = new Promise<void>((resolve) => bob.on('message', (m) => received.push(m) === 2 && resolve()));
    try {
      const photo = new Blob([bytes(640, 3)], { type: 'image/webp' });
      const clip = new Blob([bytes(900, 4)], { type: 'audio/ogg;codecs=opus' });
      expect(await alice.sendPicture({ to: peer('bob'), file: photo, width: 32, height: 20 })).toMatchObject({
        msg_id: 1,
      });
      expect(await alice.sendVoice({ to: peer('bob'), blob: clip, duration: 1.5 })).toMatchObject({ msg_id: 2 });
      await two;
      const [picture, voiceNote] = received.map((m) => ({ m, a: attachmentOf(m.msg_data)! }));
      expect(picture!.a).toMatchObject({
        attachment: 'picture',
        content_type: 'image/webp',
        size: 640,
        width: 32,
        height: 20,
      });
      expect(picture!.m.msg_type).toBe(1);
      expect(voiceNote!.a).toMatchObject({ attachment: 'voice', content_type: 'audio/ogg', size: 900, duration: 1.5 });
      expect(voiceNote!.m.msg_type).toBe(2);
      for (const { m, a } of [picture!, voiceNote!]) {
        const got = await fetch(await bob.attachmentUrl({ conversation: m.conversation, key: a.key }));
        expect(got.status).toBe(200);
        expect((await got.arrayBuffer()).byteLength).toBe(a.size);
      }
      expect(attachmentOf('hello')).toBeUndefined();
      // A type the server does not take: the server's bad_request, as docs/protocol.md says.
      await expect(
        alice.sendPicture({ to: peer('bob'), file: new Blob([bytes(10)], { type: 'image/bmp' }) }),
      ).rejects.toMatchObject({ name: 'ChatServerError', code: 'bad_request' });
      await expect(alice.attachmentUrl({ conversation: peer('carol'), key: picture!.a.key })).rejects.toBeInstanceOf(
        ChatServerError,
      );
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('a resend after the upload expired still gets its ack; a stored attachment stays referable, an upload never stored does not', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    await t.connect('bob');
    const clip = bytes(64);
    const key = await upload(alice, 'audio/aac', clip);
    const frame = {
      ...msgData('bob', 0, voice(key, 64, { content_type: 'audio/aac' })),
      msg_type: 2,
      client_msg_id: 'voice-1',
    };
    expect(await ask(alice, frame)).toMatchObject({ type: 'msg_data_ack', msg_id: 1 });

    const unsent = await upload(alice, 'audio/aac', clip);

    // The day passes: the lifecycle rule deletes the uploads (here by hand; local S3 has no lifecycle).
    const s3 = new S3Client({
      endpoint: t.stack.s3Endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    for (const k of [key, unsent]) await s3.send(new DeleteObjectCommand({ Bucket: t.stack.attachmentBucket, Key: k }));
    s3.destroy();

    expect(await ask(alice, frame)).toMatchObject({ type: 'msg_data_ack', msg_id: 1, client_msg_id: 'voice-1' });
    expect(await ask(alice, { ...frame, client_msg_id: 'voice-2' })).toMatchObject({ type: 'msg_data_ack', msg_id: 2 });
    // Forwarded: the stored copy, referenced from a second conversation.
    expect(await ask(alice, { ...frame, to_session_id: 'carol', client_msg_id: 'voice-3' })).toMatchObject({
      type: 'msg_data_ack',
      msg_id: 1,
    });
    const lost = { ...frame, msg_data: voice(unsent, 64, { content_type: 'audio/aac' }), client_msg_id: 'voice-4' };
    expect(await ask(alice, lost)).toMatchObject({ type: 'error', code: 'bad_request' });
  });

  it('what a message referenced never changes: a PUT to the upload URL afterwards, a resend, a refused frame change nothing', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const first = bytes(300, 1);
    const { key, putAgain } = await uploadWithUrl(alice, 'image/png', first);
    const frame = { ...msgData('bob', 0, picture(key, 300)), client_msg_id: 'pic-1' };
    expect(await ask(alice, frame)).toMatchObject({ type: 'msg_data_ack', msg_id: 1 });
    expect(await download(bob, 'alice', key)).toEqual(first);

    // The URL is still valid: alice swaps the upload's bytes, then every frame that could copy them again.
    expect(await putAgain(bytes(300, 9))).toBe(200);
    expect(await ask(alice, frame)).toMatchObject({ type: 'msg_data_ack', msg_id: 1 }); // a resend: its original ack
    const reused = { ...frame, msg_data: picture(key, 300).replace('"width":4', '"width":5') };
    expect(await ask(alice, reused)).toMatchObject({ type: 'error', code: 'client_msg_id_reused' });
    expect(await ask(alice, { ...frame, client_msg_id: 'pic-2' })).toMatchObject({ type: 'msg_data_ack', msg_id: 2 }); // the same picture again
    expect(await download(bob, 'alice', key)).toEqual(first);
    expect(await download(alice, 'bob', key)).toEqual(first);

    // A frame refused before it is stored references nothing: a fresh upload in it stays out of the conversation.
    const other = await upload(alice, 'image/png', bytes(300, 5));
    expect(await ask(alice, { ...frame, msg_data: picture(other, 300) })).toMatchObject({
      type: 'error',
      code: 'client_msg_id_reused',
    });
    expect(await download(bob, 'alice', other)).toBe('not_member');
  });

  it('bounds the bytes a user stores (limit_exceeded, nothing stored); a second conversation costs a reference, not a copy', async () => {
    t = await startTestStack({ env: { MAX_ATTACHMENT_BYTES_PER_USER: '250' } });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    await t.connect('carol');
    const one = await upload(alice, 'image/png', bytes(100, 1));
    expect(await ask(alice, msgData('bob', 0, picture(one, 100)))).toMatchObject({ type: 'msg_data_ack', msg_id: 1 });
    expect(await ask(alice, msgData('carol', 0, picture(one, 100)))).toMatchObject({ type: 'msg_data_ack', msg_id: 1 });
    expect(await objectsUnder('att/')).toHaveLength(1);
    const two = await upload(alice, 'image/png', bytes(100, 2));
    expect(await ask(alice, msgData('bob', 0, picture(two, 100)))).toMatchObject({ type: 'msg_data_ack', msg_id: 2 });

    // 300 bytes would be past the 250: refused before numbering, no copy, nothing delivered; bob's own quota is his.
    const three = await upload(alice, 'image/png', bytes(100, 3));
    expect(await ask(alice, msgData('bob', 0, picture(three, 100)))).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
    });
    expect(await objectsUnder('att/')).toHaveLength(2);
    expect(await ask(alice, msgData('bob', 0, 'text still goes'))).toMatchObject({ type: 'msg_data_ack', msg_id: 3 });
    expect((await bob.client.next((f) => f['type'] === 'msg_data' && f['msg_id'] === 3))['msg_data']).toBe(
      'text still goes',
    );
    const bobs = await upload(bob, 'image/png', bytes(200, 4));
    expect(await ask(bob, msgData('alice', 0, picture(bobs, 200)))).toMatchObject({ type: 'msg_data_ack', msg_id: 4 });
  });

  it('holds the quota under concurrent first references: of five 100-byte pictures sent at once, two fit in 250 bytes', async () => {
    t = await startTestStack({ env: { MAX_ATTACHMENT_BYTES_PER_USER: '250' } });
    const alice = await t.connect('alice');
    await t.connect('bob');
    const keys = [];
    for (let i = 0; i < 5; i++) keys.push(await upload(alice, 'image/png', bytes(100, i)));
    const answers = await Promise.all(
      keys.map((key, i) => ask(alice, { ...msgData('bob', 0, picture(key, 100)), client_msg_id: `p${i}` })),
    );
    expect(answers.map((a) => a['type']).sort()).toEqual(['error', 'error', 'error', 'msg_data_ack', 'msg_data_ack']);
    expect(answers.filter((a) => a['type'] === 'error').map((a) => a['code'])).toEqual([
      'limit_exceeded',
      'limit_exceeded',
      'limit_exceeded',
    ]);
    expect(await objectsUnder('att/')).toHaveLength(2);
  });

  it("the local S3 holds conditional writes to S3's rule: If-None-Match: * on an existing key is 412, and of racing ones one wins", async () => {
    t = await startTestStack();
    const s3 = new S3Client({
      endpoint: t.stack.s3Endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const Bucket = t.stack.attachmentBucket;
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
    try {
      expect(
        await status(s3.send(new PutObjectCommand({ Bucket, Key: 'att/t/a', Body: 'one', IfNoneMatch: '*' }))),
      ).toBe(200);
      expect(
        await status(s3.send(new PutObjectCommand({ Bucket, Key: 'att/t/a', Body: 'two', IfNoneMatch: '*' }))),
      ).toBe(412);
      expect(
        await status(
          s3.send(new CopyObjectCommand({ Bucket, Key: 'att/t/a', CopySource: `${Bucket}/att/t/a`, IfNoneMatch: '*' })),
        ),
      ).toBe(412);
      const races = await Promise.all(
        ['x', 'y', 'z'].map((body) =>
          status(s3.send(new PutObjectCommand({ Bucket, Key: 'att/t/b', Body: body, IfNoneMatch: '*' }))),
        ),
      );
      expect(races.sort()).toEqual([200, 412, 412]);
      expect(await status(s3.send(new PutObjectCommand({ Bucket, Key: 'att/t/a', Body: 'three' })))).toBe(200); // unconditional
    } finally {
      s3.destroy();
    }
  });

  it('holds each function to its attachment grant in lib/grants.ts, as IAM would on AWS (403, read as no object)', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice');
    const key = await upload(alice, 'image/jpeg', bytes(10));
    const { runtimes } = t.stack;
    expect(await runtimes.send.attachments!.head(key)).toMatchObject({ size: 10, contentType: 'image/jpeg' });
    expect(await runtimeWithGrantOf(t.stack, 'sync').attachments!.head(key)).toBeUndefined(); // sync has no attachment access
    expect(await runtimes.attachments.attachments!.head(key)).toBeUndefined(); // it reads att/ only
    expect(t.stack.s3Guard.violations.map((v) => [v.functionId, v.action])).toEqual([
      ['sync', 's3:GetObject'],
      ['attachments', 's3:GetObject'],
    ]);
    t.stack.s3Guard.violations.length = 0; // made on purpose here: not a failure of the stack
  });

  it('counts attachment_upload against the budget of writing requests', () => {
    expect(WRITE_ACTIONS).toContain('attachment_upload');
  });
});
