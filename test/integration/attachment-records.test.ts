/**
 * Attachment references and the byte quota on DynamoDB Local, with the bucket in memory (its S3 behaviour is tested
 * end to end in test/e2e/attachments.test.ts) and a manual clock, for what the local S3 cannot show: a message
 * retention (reference rows that expire, quota periods, stored copies refreshed before they could expire under a
 * message), reservations given back by refused or failed sends, and a copy that lost its race.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { FrameError } from '../../core/errors.js';
import type { AttachmentBlobs, AttachmentObject } from '../../core/ports/attachments.js';
import { downloadUrl, newUploadKey, quotaPeriod, storedKey } from '../../core/usecases/attachments.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import type { ManualClock } from '../support/fakes.js';
import { createTestRuntime, msgData, type TestRuntime } from '../support/runtime.js';

const DAY = 86_400_000;

/** The bucket in memory: objects by key, each with the time of its last write. */
class MemoryBlobs implements AttachmentBlobs {
  readonly objects = new Map<string, AttachmentObject & { readonly body: string }>();
  readonly writes: string[] = [];
  /** Set to make the next copy fail as S3 might (a 503). */
  failNextCopy = false;
  /** Set to make the next copy find its target written meanwhile (another send's copy won the race). */
  loseNextCopy = false;

  constructor(private readonly clock: ManualClock) {}

  put(key: string, size: number, body: string): void {
    this.objects.set(key, { size, contentType: 'image/png', lastModified: this.clock.now(), body });
  }

  async presignUpload(key: string): Promise<string> {
    return `https://s3.test/${key}?put`;
  }

  async presignDownload(key: string): Promise<string> {
    return `https://s3.test/${key}?get`;
  }

  async head(key: string): Promise<AttachmentObject | undefined> {
    return this.objects.get(key);
  }

  async copyOnce(fromKey: string, toKey: string): Promise<boolean> {
    if (this.failNextCopy) {
      this.failNextCopy = false;
      throw new Error('SlowDown');
    }
    if (this.loseNextCopy) {
      this.loseNextCopy = false;
      this.objects.set(toKey, { ...this.objects.get(fromKey)!, lastModified: this.clock.now() });
    }
    if (this.objects.has(toKey)) return false;
    this.objects.set(toKey, { ...this.objects.get(fromKey)!, lastModified: this.clock.now() });
    this.writes.push(`copy ${toKey}`);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async refresh(key: string): Promise<void> {
    this.objects.set(key, { ...this.objects.get(key)!, lastModified: this.clock.now() });
    this.writes.push(`refresh ${key}`);
  }
}

let t: TestRuntime;
let blobs: MemoryBlobs;

async function setUp(env: Record<string, string>): Promise<void> {
  t = await createTestRuntime({ MAX_ATTACHMENT_BYTES_PER_USER: '1000', ...env });
  blobs = new MemoryBlobs(t.clock);
  t = { ...t, runtime: { ...t.runtime, attachments: blobs } };
}

/** An upload of alice's, in the bucket. */
function uploaded(size: number): string {
  const key = newUploadKey('alice');
  blobs.put(key, size, `bytes of ${key}`);
  return key;
}

const picture = (key: string, size: number) =>
  JSON.stringify({ attachment: 'picture', key, content_type: 'image/png', size });
const send = (to: string, key: string, size: number, extra: Record<string, unknown> = {}) =>
  acceptMessage(t.runtime, {
    userId: 'alice',
    body: msgData({ to_session_id: to, msg_data: picture(key, size), ...extra }),
  });

/** Bytes counted against alice's quota in the current period. */
async function counted(): Promise<number> {
  const period = quotaPeriod(t.clock.now(), t.runtime.config.messageRetentionDays);
  const row = (await t.items('Sessions')).find(
    (i) => i['user_id'] === 'alice' && i['session_key'] === `q#attachments#${period.id}`,
  );
  return (row?.['bytes'] as number | undefined) ?? 0;
}

const canDownload = (userId: string, peer: string, key: string) =>
  downloadUrl(t.runtime, userId, { session_id: peer, session_type: 1, key }).then(
    () => true,
    (error: unknown) => (error instanceof FrameError && error.code === 'not_member' ? false : Promise.reject(error)),
  );

describe('without a retention', () => {
  beforeEach(() => setUp({}));

  it('stores an upload once and counts it once, however many conversations reference it', async () => {
    const key = uploaded(300);
    for (const peer of ['bob', 'carol', 'dave']) await send(peer, key, 300);
    expect(blobs.writes).toEqual([`copy ${storedKey(key)}`]);
    expect(await counted()).toBe(300);
    expect(await canDownload('carol', 'alice', key)).toBe(true);
    expect(await canDownload('erin', 'alice', key)).toBe(false);
  });

  it('gives back what a refused or failed send reserved; a copy that lost its race is counted once', async () => {
    const first = uploaded(300);
    await send('bob', first, 300, { client_msg_id: 'c1' });
    const fresh = uploaded(400);
    // Refused after the reservation (the key was sent with other content): nothing stored, nothing counted.
    await expect(send('bob', fresh, 400, { client_msg_id: 'c1' })).rejects.toMatchObject({
      code: 'client_msg_id_reused',
    });
    expect(await counted()).toBe(300);
    expect(await canDownload('bob', 'alice', fresh)).toBe(false);
    // An S3 fault during the copy: the send fails, the bytes come back, its resend stores it.
    blobs.failNextCopy = true;
    await expect(send('bob', fresh, 400, { client_msg_id: 'c2' })).rejects.toThrow('SlowDown');
    expect(await counted()).toBe(300);
    expect((await send('bob', fresh, 400, { client_msg_id: 'c2' })).message.msgId).toBe(2); // the failed try's numbering
    expect(await counted()).toBe(700);
    // Another send stored this one first: this send references that copy and gives its reservation back.
    const raced = uploaded(200);
    blobs.loseNextCopy = true;
    await send('carol', raced, 200);
    expect(await counted()).toBe(700);
    expect(await canDownload('carol', 'alice', raced)).toBe(true);
  });

  it('refuses past the quota with limit_exceeded before numbering', async () => {
    await send('bob', uploaded(600), 600);
    await expect(send('bob', uploaded(600), 600)).rejects.toMatchObject({
      constructor: FrameError,
      code: 'limit_exceeded',
    });
    expect(
      (await acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob' }) })).message.msgId,
    ).toBe(2);
    expect(await counted()).toBe(600);
  });
});

describe('with a retention of 30 days', () => {
  beforeEach(() => setUp({ MESSAGE_RETENTION_DAYS: '30' }));

  it('references expire with the messages; a copy a new message references after a day is refreshed and counted again', async () => {
    const key = uploaded(300);
    await send('bob', key, 300, { client_msg_id: 'p1' });
    t.clock.advance(2 * DAY);
    await send('bob', key, 300, { client_msg_id: 'p1' }); // a resend: its message is stored, nothing is written
    expect(blobs.writes).toEqual([`copy ${storedKey(key)}`]);
    await send('carol', key, 300); // a new message: the copy must outlive it
    expect(blobs.writes).toEqual([`copy ${storedKey(key)}`, `refresh ${storedKey(key)}`]);
    expect(await counted()).toBe(600);

    // Past the first message's retention bob's reference has expired (TTL deletes lazily; reads say absent), carol's not.
    t.clock.advance(29 * DAY);
    expect(await canDownload('bob', 'alice', key)).toBe(false);
    expect(await canDownload('carol', 'alice', key)).toBe(true);
  });

  it('past the quota, a copy older than a day is not refreshed, and neither a resend nor a new message is refused', async () => {
    t.clock.ms = 31 * DAY * Math.ceil(t.clock.ms / (31 * DAY)); // the start of a period
    const key = uploaded(600);
    await send('bob', key, 600, { client_msg_id: 'p1' });
    t.clock.advance(2 * DAY);
    await send('bob', uploaded(300), 300); // 900 of 1000 counted
    expect((await send('bob', key, 600, { client_msg_id: 'p1' })).message.msgId).toBe(1);
    expect((await send('carol', key, 600)).message.msgId).toBe(1);
    expect(blobs.writes.filter((w) => w.startsWith('refresh'))).toEqual([]);
    expect(await counted()).toBe(900);
  });

  it('counts per period of 31 days: the next period starts from zero', async () => {
    t.clock.ms = 31 * DAY * Math.ceil(t.clock.ms / (31 * DAY)); // the start of a period
    await send('bob', uploaded(900), 900);
    await expect(send('bob', uploaded(200), 200)).rejects.toMatchObject({ code: 'limit_exceeded' });
    t.clock.advance(31 * DAY);
    expect((await send('bob', uploaded(200), 200)).message.msgId).toBe(2);
    expect(await counted()).toBe(200);
  });
});
