/**
 * Pictures and voice notes through S3 (docs/protocol.md "Attachments"):
 * - `attachment_upload` signs a PUT of one fresh key under the caller (`uploads/<user>/<random>`), bound to the
 *   content type and byte count asked for, within the kind's limit;
 * - a message whose msg_data describes an attachment is checked before it is numbered: the key is under the sender,
 *   the upload exists (HEAD; or, once it expired, its copy in this conversation) and is what the description says;
 *   then the upload is copied to
 *   `att/<conversation>/<user>/<random>`. That copy is the record of the reference: it exists only if a message of
 *   that conversation referenced the key, and it lives as long as the conversation's messages (lifecycle rules);
 * - `attachment_url` resolves the asked session as the caller (members only) and signs a GET of the key's copy in
 *   that conversation, if there is one (HEAD). A leaked key alone opens nothing: its copy is found only through a
 *   conversation the caller belongs to. Cost: one HEAD (and for a group one GetItem), whatever the history's size.
 */
import { randomBytes } from 'node:crypto';
import {
  attachmentKindOf,
  baseContentType,
  InvalidAttachmentError,
  kindFitsMsgType,
  parseAttachment,
  UPLOAD_KEY_PATTERN,
  type AttachmentKind,
} from '../../protocol/attachments.js';
import { FrameError } from '../errors.js';
import type { GroupStore } from '../ports.js';
import { resolveConversation } from './conversation-access.js';

export interface AttachmentObject {
  readonly size: number;
  readonly contentType: string;
}

/** The attachment bucket (core/blob/s3-attachments.ts). */
export interface AttachmentBlobs {
  presignUpload(key: string, contentType: string, size: number, ttlSeconds: number): Promise<string>;
  presignDownload(key: string, ttlSeconds: number): Promise<string>;
  /** The object's size and type, or undefined when there is none. */
  head(key: string): Promise<AttachmentObject | undefined>;
  copy(fromKey: string, toKey: string): Promise<void>;
}

export interface AttachmentConfig {
  readonly maxImageBytes: number;
  readonly maxAudioBytes: number;
  readonly attachmentUrlTtlSeconds: number;
}

export interface AttachmentPorts {
  /** Undefined when the stack has no attachment bucket. */
  readonly attachments: AttachmentBlobs | undefined;
  readonly config: AttachmentConfig;
}

/** Where uploads land; a lifecycle rule deletes them a day later, referenced or not (the copy is what stays). */
export const UPLOADS_PREFIX = 'uploads/';
/** Where referenced attachments live, one folder per conversation; they follow message retention. */
export const REFERENCED_PREFIX = 'att/';

/** A fresh upload key under the user (protocol/attachments.ts UPLOAD_KEY_PATTERN): 128 random bits. */
export function newUploadKey(userId: string): string {
  return `${UPLOADS_PREFIX}${Buffer.from(userId).toString('hex')}/${randomBytes(16).toString('base64url')}`;
}

/** The user whose upload a key is, or undefined for a key the server did not make. */
export function uploaderOf(key: string): string | undefined {
  const hex = UPLOAD_KEY_PATTERN.exec(key)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('utf8');
}

/** The copy of an upload referenced in a conversation: `att/<conversation id, base64url>/<user>/<random>`. */
export function referencedKey(conversationId: string, uploadKey: string): string {
  return `${REFERENCED_PREFIX}${Buffer.from(conversationId).toString('base64url')}/${uploadKey.slice(UPLOADS_PREFIX.length)}`;
}

const limitOf = (config: AttachmentConfig, kind: AttachmentKind) => (kind === 'picture' ? config.maxImageBytes : config.maxAudioBytes);

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
export async function requestUpload(ports: AttachmentPorts, userId: string, request: { readonly content_type: string; readonly size: number }): Promise<UploadGrant> {
  const kind = attachmentKindOf(request.content_type);
  if (!kind) throw new FrameError('bad_request', 'content_type: not an image or audio type attachments accept (see docs/protocol.md)');
  const limit = limitOf(ports.config, kind);
  if (request.size > limit) throw new FrameError('too_large', `a ${kind} is at most ${limit} bytes, asked for ${request.size}`);
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

/**
 * Before a message is numbered: if its msg_data describes an attachment, the key must be the sender's own upload,
 * present, of the described size and type and within its limit (S3 enforces the signed length on AWS; this check
 * holds on any S3-compatible server too). Then the upload is copied into the conversation. Throws FrameError
 * (`bad_request`) for anything else; nothing is stored then.
 */
export async function checkAttachmentReference(ports: AttachmentPorts, send: ReferencingSend): Promise<void> {
  let description;
  try {
    description = parseAttachment(send.msgData);
  } catch (error) {
    if (error instanceof InvalidAttachmentError) throw new FrameError('bad_request', error.message);
    throw error;
  }
  if (!description) return;
  if (!kindFitsMsgType(description.attachment, send.msgType)) {
    throw new FrameError('bad_request', `a ${description.attachment} rides in a ${description.attachment === 'voice' ? 'audio (2 or 18)' : 'text (1 or 17)'} message`);
  }
  if (uploaderOf(description.key) !== send.senderId) throw new FrameError('bad_request', 'attachment key: a message may reference only its sender\'s uploads');
  const blobs = blobsOf(ports);
  const copy = referencedKey(send.conversationId, description.key);
  const upload = await blobs.head(description.key);
  // Gone after a day: a copy in this conversation still proves it was the sender's and valid (a late resend of a
  // stored message, which must get its ack, or the same attachment again in the same conversation).
  const object = upload ?? (await blobs.head(copy));
  if (!object) throw new FrameError('bad_request', 'attachment key: no such upload (never uploaded, or older than a day)');
  const limit = limitOf(ports.config, description.attachment);
  if (object.size !== description.size || baseContentType(object.contentType) !== description.content_type || object.size > limit) {
    throw new FrameError('bad_request', `attachment: the upload is ${object.size} bytes of ${object.contentType || 'unknown type'}, not what the description says (or over ${limit} bytes)`);
  }
  // Copied again on every reference: the copy's age, which its lifecycle rule counts, restarts with the newest message.
  if (upload) await blobs.copy(description.key, copy);
}

export interface DownloadGrant {
  readonly session_id: string;
  readonly session_type: number;
  readonly key: string;
  readonly url: string;
  readonly expires_in: number;
}

/** attachment_url: a presigned GET of the key's copy in the asked conversation, for its members only. */
export async function downloadUrl(
  ports: AttachmentPorts & { readonly groups: GroupStore },
  userId: string,
  request: { readonly session_id: string; readonly session_type: number; readonly key: string },
): Promise<DownloadGrant> {
  if (!UPLOAD_KEY_PATTERN.test(request.key)) throw new FrameError('bad_request', 'key: not an attachment key');
  const conversation = await resolveConversation(ports, userId, request.session_type, request.session_id);
  const blobs = blobsOf(ports);
  const copy = referencedKey(conversation.conversationId, request.key);
  if (!(await blobs.head(copy))) throw new FrameError('not_member', 'no message of this session references that attachment');
  const ttl = ports.config.attachmentUrlTtlSeconds;
  return { session_id: request.session_id, session_type: request.session_type, key: request.key, url: await blobs.presignDownload(copy, ttl), expires_in: ttl };
}
