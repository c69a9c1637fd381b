/**
 * Attachments (pictures and voice notes): the content types a client may upload, the upload keys the server makes,
 * and the small JSON description a message carries instead of the bytes (docs/protocol.md "Attachments"). Shared by
 * the server, which checks every description before numbering a message, and the SDK, which writes and reads them.
 */
import { MsgType } from './frames.js';

/** Pictures: the formats every browser and phone shows. */
export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;

/**
 * Voice notes: what browsers' MediaRecorder (webm/opus in Chromium and Firefox, ogg in Firefox, mp4/aac in Safari)
 * and phones' recorders (aac, m4a as audio/mp4, 3gpp, amr) produce, plus mp3 and wav.
 */
export const AUDIO_CONTENT_TYPES = [
  'audio/webm',
  'audio/ogg',
  'audio/mp4',
  'audio/aac',
  'audio/mpeg',
  'audio/wav',
  'audio/3gpp',
  'audio/amr',
] as const;

export type AttachmentKind = 'picture' | 'voice';

/** Longest voice note a description may claim, in seconds. */
export const MAX_VOICE_SECONDS = 3600;

/**
 * An upload key: `uploads/<uploader's user id, UTF-8 in hex>/<22 characters of base64url>` (128 random bits), made
 * by the server for `attachment_upload`; a message may reference only a key under its own sender. Hex keeps keys
 * to characters no S3 client or server escapes differently (a user id may hold `@`).
 */
export const UPLOAD_KEY_PATTERN = /^uploads\/((?:[0-9a-f]{2}){1,128})\/[A-Za-z0-9_-]{22}$/;

/**
 * What a message carries for an attachment, as its msg_data (JSON): a voice note in an audio message (msg_type 2 or
 * 18), a picture in a text message (1 or 17). `attachment` flags it, so a client can tell it from text.
 */
export interface AttachmentDescription {
  readonly attachment: AttachmentKind;
  /** The key `attachment_upload` answered. */
  readonly key: string;
  /** The content type it was uploaded with (without parameters). */
  readonly content_type: string;
  /** Bytes, as uploaded. */
  readonly size: number;
  /** Voice notes: length in seconds. */
  readonly duration?: number;
  /** Pictures, optional: pixels, so a client can lay out the thumbnail before it loads. */
  readonly width?: number;
  readonly height?: number;
}

/** `audio/webm;codecs=opus` → `audio/webm`. */
export function baseContentType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/** Which kind a content type is, or undefined when it may not be uploaded. */
export function attachmentKindOf(contentType: string): AttachmentKind | undefined {
  const base = baseContentType(contentType);
  if ((IMAGE_CONTENT_TYPES as readonly string[]).includes(base)) return 'picture';
  if ((AUDIO_CONTENT_TYPES as readonly string[]).includes(base)) return 'voice';
  return undefined;
}

/** The msg_type kinds may ride in: a voice note in an audio message, a picture in a text message. */
export function kindFitsMsgType(kind: AttachmentKind, msgType: number): boolean {
  const audio = msgType === MsgType.SingleAudio || msgType === MsgType.GroupAudio;
  return kind === 'voice' ? audio : !audio;
}

const FIELDS = new Set(['attachment', 'key', 'content_type', 'size', 'duration', 'width', 'height']);

/** Thrown by parseAttachment for msg_data that is flagged as an attachment but is not a valid description. */
export class InvalidAttachmentError extends Error {
  override readonly name = 'InvalidAttachmentError';
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/**
 * The attachment a msg_data describes: undefined when it is not one (not a JSON object with an `attachment`
 * member: plain text, or an audio clip in any other encoding); throws InvalidAttachmentError when it is flagged but
 * malformed.
 */
export function parseAttachment(msgData: string): AttachmentDescription | undefined {
  if (!msgData.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(msgData);
  } catch {
    return undefined;
  }
  // Not Object.hasOwn (ES2022): the JavaScript engines React Native ships with (older Hermes, JavaScriptCore before
  // iOS 15.4) lack it, and an attachment would silently read as text there.
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.keys(value).includes('attachment'))
    return undefined;
  const d = value as Record<string, unknown>;
  const unknownField = Object.keys(d).find((k) => !FIELDS.has(k));
  if (unknownField !== undefined)
    throw new InvalidAttachmentError(`attachment: unknown field "${unknownField.slice(0, 32)}"`);
  if (d['attachment'] !== 'picture' && d['attachment'] !== 'voice')
    throw new InvalidAttachmentError('attachment: must be "picture" or "voice"');
  if (typeof d['key'] !== 'string' || !UPLOAD_KEY_PATTERN.test(d['key']))
    throw new InvalidAttachmentError('attachment key: not a key attachment_upload made');
  if (
    typeof d['content_type'] !== 'string' ||
    attachmentKindOf(d['content_type']) !== d['attachment'] ||
    baseContentType(d['content_type']) !== d['content_type']
  ) {
    throw new InvalidAttachmentError(
      `attachment content_type: not an allowed ${d['attachment'] === 'voice' ? 'audio' : 'image'} type`,
    );
  }
  if (!isCount(d['size'])) throw new InvalidAttachmentError('attachment size: must be a positive integer');
  const duration = d['duration'];
  if (
    d['attachment'] === 'voice' &&
    (typeof duration !== 'number' || !(duration > 0 && duration <= MAX_VOICE_SECONDS))
  ) {
    throw new InvalidAttachmentError(
      `attachment duration: a voice note needs a duration in seconds, up to ${MAX_VOICE_SECONDS}`,
    );
  }
  if (d['attachment'] === 'picture' && duration !== undefined)
    throw new InvalidAttachmentError('attachment duration: pictures have none');
  for (const side of ['width', 'height'] as const) {
    if (d[side] !== undefined && (d['attachment'] !== 'picture' || !isCount(d[side])))
      throw new InvalidAttachmentError(`attachment ${side}: a positive integer, pictures only`);
  }
  return d as unknown as AttachmentDescription;
}
