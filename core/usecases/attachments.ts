/**
 * Pictures and voice notes through S3 (docs/protocol.md "Attachments"):
 * - `attachment_upload` signs a PUT of one fresh key under the caller (`uploads/<user>/<random>`), bound to the
 *   content type and byte count asked for, within the kind's limit;
 * - a message whose msg_data describes an attachment is checked before it is numbered: the key is under the sender,
 *   and the attachment is stored already or its upload exists, with what the description says. The first message
 *   that references an upload stores it: a copy to `att/<user>/<random>` written once (`If-None-Match: *`), counted
 *   against the sender's byte quota. From then on the upload is consumed: every message referencing the key, in any
 *   conversation, references that stored copy, which nothing rewrites. A PUT to the upload URL afterwards changes
 *   nothing a message shows. Each conversation that references it gets a reference row (one write unit) instead of
 *   a copy of the bytes;
 * - what a send writes here (the copy, the reference row) is written only after every check that could refuse the
 *   frame (`client_msg_id_reused` included), just before the message is stored: a refused frame stores nothing and
 *   gives back the bytes it reserved;
 * - `attachment_url` resolves the asked session as the caller (members only) and signs a GET of the stored copy if a
 *   message of that conversation references the key (one GetItem). A leaked key alone opens nothing.
 */
import { randomBytes } from 'node:crypto';
import {
  attachmentKindOf,
  baseContentType,
  InvalidAttachmentError,
  kindFitsMsgType,
  parseAttachment,
  UPLOAD_KEY_PATTERN,
  type AttachmentDescription,
  type AttachmentKind,
} from '../../protocol/attachments.js';
import { FrameError } from '../errors.js';
import { logger } from '../observability.js';
import type { AttachmentBlobs, AttachmentRecordStore } from '../ports/attachments.js';
import type { Clock } from '../ports/clock.js';
import type { GroupStore } from '../ports/stores.js';
import type { QuotaPeriod } from '../domain/attachment-quota.js';
import { resolveConversation } from './conversation-access.js';

export interface AttachmentConfig {
  readonly maxImageBytes: number;
  readonly maxAudioBytes: number;
  readonly attachmentUrlTtlSeconds: number;
  readonly maxAttachmentBytesPerUser: number;
  /** 0: messages, and so attachments, are kept for ever. */
  readonly messageRetentionDays: number;
}

export interface AttachmentPorts {
  /** Undefined when the stack has no attachment bucket. */
  readonly attachments: AttachmentBlobs | undefined;
  readonly attachmentRecords: AttachmentRecordStore;
  readonly clock: Clock;
  readonly config: AttachmentConfig;
}

/** Where uploads land; a lifecycle rule deletes them a day later, referenced or not (the stored copy is what stays). */
export const UPLOADS_PREFIX = 'uploads/';
/** Where referenced attachments are stored, one object per upload; they follow message retention. */
export const REFERENCED_PREFIX = 'att/';
/**
 * With a retention, a stored attachment a new message references is rewritten (its age restarted) once it is older
 * than this, and the lifecycle keeps stored attachments this much longer than messages, so an attachment always
 * outlives the messages that reference it.
 */
export const STORED_REFRESH_DAYS = 1;
const DAY_SECONDS = 86_400;

/** A fresh upload key under the user (protocol/attachments.ts UPLOAD_KEY_PATTERN): 128 random bits. */
export function newUploadKey(userId: string): string {
  return `${UPLOADS_PREFIX}${Buffer.from(userId).toString('hex')}/${randomBytes(16).toString('base64url')}`;
}

/** The user whose upload a key is, or undefined for a key the server did not make. */
export function uploaderOf(key: string): string | undefined {
  const hex = UPLOAD_KEY_PATTERN.exec(key)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('utf8');
}

/** Where an upload is stored once a message references it: `att/<user, hex>/<random>`. */
export function storedKey(uploadKey: string): string {
  return `${REFERENCED_PREFIX}${uploadKey.slice(UPLOADS_PREFIX.length)}`;
}

/** The random part of an upload key: with the uploader, what names it in the uploader's records. */
const uploadIdOf = (uploadKey: string) => uploadKey.slice(uploadKey.lastIndexOf('/') + 1);

/**
 * The stretch the byte quota counts over: for ever without a retention; with one, periods as long as a stored
 * attachment lives (retention + STORED_REFRESH_DAYS), so what a user has stored at any time was counted in at most
 * two periods: at most twice the quota.
 */
export function quotaPeriod(nowMs: number, retentionDays: number): QuotaPeriod {
  if (retentionDays === 0) return { id: 'all' };
  const days = retentionDays + STORED_REFRESH_DAYS;
  const index = Math.floor(nowMs / 1000 / DAY_SECONDS / days);
  return { id: `${days}d#${index}`, expiresAt: (index + 2) * days * DAY_SECONDS };
}

const limitOf = (config: AttachmentConfig, kind: AttachmentKind) =>
  kind === 'picture' ? config.maxImageBytes : config.maxAudioBytes;

function blobsOf(ports: AttachmentPorts): AttachmentBlobs {
  if (!ports.attachments) throw new FrameError('bad_request', 'attachments are not enabled on this stack');
  return ports.attachments;
}

export interface UploadGrant {
  readonly key: string;
  readonly url: string;
  readonly method: 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  readonly expires_in: number;
}

/** attachment_upload: a presigned PUT for exactly `size` bytes of `contentType` under a fresh key of the user's. */
export async function requestUpload(
  ports: AttachmentPorts,
  userId: string,
  request: { readonly content_type: string; readonly size: number },
): Promise<UploadGrant> {
  const kind = attachmentKindOf(request.content_type);
  if (!kind)
    throw new FrameError(
      'bad_request',
      'content_type: not an image or audio type attachments accept (see docs/protocol.md)',
    );
  const limit = limitOf(ports.config, kind);
  if (request.size > limit)
    throw new FrameError('too_large', `a ${kind} is at most ${limit} bytes, asked for ${request.size}`);
  const blobs = blobsOf(ports);
  const key = newUploadKey(userId);
  const contentType = baseContentType(request.content_type);
  const ttl = ports.config.attachmentUrlTtlSeconds;
  const url = await blobs.presignUpload(key, contentType, request.size, ttl);
  return { key, url, method: 'PUT', headers: { 'Content-Type': contentType }, expires_in: ttl };
}

export interface ReferencingSend {
  readonly senderId: string;
  readonly conversationId: string;
  readonly msgType: number;
  readonly msgData: string;
}

/** The attachment a send's msg_data describes, checked against its msg_type and sender; undefined for none. */
function describedAttachment(send: ReferencingSend): AttachmentDescription | undefined {
  let description;
  try {
    description = parseAttachment(send.msgData);
  } catch (error) {
    if (error instanceof InvalidAttachmentError) throw new FrameError('bad_request', error.message);
    throw error;
  }
  if (!description) return undefined;
  if (!kindFitsMsgType(description.attachment, send.msgType)) {
    throw new FrameError(
      'bad_request',
      `a ${description.attachment} rides in a ${description.attachment === 'voice' ? 'audio (2 or 18)' : 'text (1 or 17)'} message`,
    );
  }
  if (uploaderOf(description.key) !== send.senderId)
    throw new FrameError('bad_request', "attachment key: a message may reference only its sender's uploads");
  return description;
}

/**
 * Before a message is numbered: if its msg_data describes an attachment, the key must be the sender's own, stored
 * already or uploaded (and not yet consumed), of the described size and type and within its limit (S3 enforces the
 * signed length on AWS; this check holds on any S3-compatible server too); bytes it will store are reserved against
 * the sender's quota. Throws FrameError (`bad_request`, `limit_exceeded`); nothing is stored then. The caller
 * commits the returned reference right before it stores the message and releases it in any case (a no-op once
 * committed).
 */
export async function prepareAttachmentReference(
  ports: AttachmentPorts,
  send: ReferencingSend,
): Promise<AttachmentReference | undefined> {
  const description = describedAttachment(send);
  if (!description) return undefined;
  const blobs = blobsOf(ports);
  const stored = await blobs.head(storedKey(description.key));
  // Not stored yet: this would be the first reference, which stores the upload as it is now.
  const object = stored ?? (await blobs.head(description.key));
  if (!object)
    throw new FrameError('bad_request', 'attachment key: no such upload (never uploaded, or older than a day)');
  const limit = limitOf(ports.config, description.attachment);
  if (
    object.size !== description.size ||
    baseContentType(object.contentType) !== description.content_type ||
    object.size > limit
  ) {
    throw new FrameError(
      'bad_request',
      `attachment: the upload is ${object.size} bytes of ${object.contentType || 'unknown type'}, not what the description says (or over ${limit} bytes)`,
    );
  }
  const now = ports.clock.now();
  const { messageRetentionDays, maxAttachmentBytesPerUser } = ports.config;
  const period = quotaPeriod(now, messageRetentionDays);
  const reserve = () =>
    ports.attachmentRecords.reserveBytes(send.senderId, period, object.size, maxAttachmentBytesPerUser);
  let write: StoreWrite = 'none';
  if (!stored) {
    if (!(await reserve()))
      throw new FrameError(
        'limit_exceeded',
        `attachments: storing ${object.size} more bytes would pass this user's ${maxAttachmentBytesPerUser} bytes`,
      );
    write = 'copy';
  } else if (
    messageRetentionDays > 0 &&
    now - stored.lastModified > STORED_REFRESH_DAYS * DAY_SECONDS * 1000 &&
    (await reserve())
  ) {
    // Past the quota the copy is not refreshed, and the message is not refused: a resend of a stored message must get
    // its ack. A new message may then outlive the attachment it forwards.
    write = 'refresh';
  }
  const expiresAt = messageRetentionDays > 0 ? Math.floor(now / 1000) + messageRetentionDays * DAY_SECONDS : undefined;
  const charge = write === 'none' ? 0 : object.size;
  return new AttachmentReference(ports, {
    send,
    uploadKey: description.key,
    contentType: description.content_type,
    write,
    period,
    charge,
    expiresAt,
  });
}

/** What committing a reference writes to S3: a first copy, a rewrite that restarts the copy's age, or nothing. */
type StoreWrite = 'copy' | 'refresh' | 'none';

interface ReferencePlan {
  readonly send: ReferencingSend;
  readonly uploadKey: string;
  readonly contentType: string;
  readonly write: StoreWrite;
  readonly period: QuotaPeriod;
  /** Bytes reserved against the sender's quota. */
  readonly charge: number;
  readonly expiresAt: number | undefined;
}

/** A checked attachment reference of a send not stored yet: what storing the message will write, and its reservation. */
export class AttachmentReference {
  #settled = false;

  constructor(
    private readonly ports: AttachmentPorts,
    private readonly plan: ReferencePlan,
  ) {}

  /** Stores the attachment if this is its first reference (never over a stored one) and records the reference. */
  async commit(): Promise<void> {
    const { plan } = this;
    const blobs = blobsOf(this.ports);
    const stored = storedKey(plan.uploadKey);
    if (plan.write === 'copy' && !(await blobs.copyOnce(plan.uploadKey, stored))) await this.release(); // another reference stored it first
    if (plan.write === 'refresh') await blobs.refresh(stored, plan.contentType);
    this.#settled = true; // the bytes are stored: the reservation stays
    await this.ports.attachmentRecords.putReference(
      plan.send.senderId,
      uploadIdOf(plan.uploadKey),
      plan.send.conversationId,
      plan.expiresAt,
    );
  }

  /** Gives back the reserved bytes unless commit stored them; best effort (a failure over-counts, never under-counts). */
  async release(): Promise<void> {
    if (this.#settled || this.plan.charge === 0) return;
    this.#settled = true;
    await this.ports.attachmentRecords
      .releaseBytes(this.plan.send.senderId, this.plan.period, this.plan.charge)
      .catch((error: unknown) => {
        logger.warn('attachment bytes not given back', {
          userId: this.plan.send.senderId,
          bytes: this.plan.charge,
          error: String(error),
        });
      });
  }
}

export interface DownloadGrant {
  readonly session_id: string;
  readonly session_type: number;
  readonly key: string;
  readonly url: string;
  readonly expires_in: number;
}

/** attachment_url: a presigned GET of the stored attachment, for members of a conversation that references it. */
export async function downloadUrl(
  ports: AttachmentPorts & { readonly groups: GroupStore },
  userId: string,
  request: { readonly session_id: string; readonly session_type: number; readonly key: string },
): Promise<DownloadGrant> {
  const uploader = uploaderOf(request.key);
  if (uploader === undefined) throw new FrameError('bad_request', 'key: not an attachment key');
  const conversation = await resolveConversation(ports, userId, request.session_type, request.session_id);
  const blobs = blobsOf(ports);
  const nowSeconds = Math.floor(ports.clock.now() / 1000);
  if (
    !(await ports.attachmentRecords.isReferenced(
      uploader,
      uploadIdOf(request.key),
      conversation.conversationId,
      nowSeconds,
    ))
  ) {
    throw new FrameError('not_member', 'no message of this session references that attachment');
  }
  const ttl = ports.config.attachmentUrlTtlSeconds;
  return {
    session_id: request.session_id,
    session_type: request.session_type,
    key: request.key,
    url: await blobs.presignDownload(storedKey(request.key), ttl),
    expires_in: ttl,
  };
}
