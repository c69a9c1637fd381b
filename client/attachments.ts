/**
 * Pictures and voice notes (docs/protocol.md "Attachments"): ask `attachment_upload`, PUT the bytes straight to the
 * signed URL, then send the message that describes them; `attachmentUrl` asks for a short-lived download URL. The
 * ChatClient methods `sendPicture`, `sendVoice` and `attachmentUrl` call these.
 */
import {
  attachmentKindOf,
  baseContentType,
  parseAttachment,
  type AttachmentDescription,
  type AttachmentKind,
} from '../protocol/attachments.js';
import type { MsgDataAckFrame, ReplyFrame, RequestAction, RequestMap } from '../protocol/frames.js';
import { sessionRefOf, type Conversation } from './conversation.js';
import { ChatError } from './errors.js';
import type { SendInput } from './types.js';

type AttachmentAction = Extract<RequestAction, 'attachment_upload' | 'attachment_url'>;

/** What the helpers need of a ChatClient. */
export interface AttachmentTransport {
  request<A extends AttachmentAction>(action: A, fields: RequestMap[A]['request']): Promise<ReplyFrame<A>>;
  send(input: SendInput): Promise<MsgDataAckFrame>;
}

/** The upload failed: S3 refused the PUT (an expired URL, or bytes other than the signed ones), or the network did. */
export class AttachmentUploadError extends ChatError {
  override readonly name = 'AttachmentUploadError';
  constructor(
    message: string,
    /** The HTTP status S3 answered, or undefined when no answer came. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface SendPictureInput {
  readonly to: Conversation;
  /** A File or Blob whose `type` is image/jpeg, image/png, image/webp or image/gif. */
  readonly file: Blob;
  /** Pixels, so a peer can lay the picture out before it loads. */
  readonly width?: number;
  readonly height?: number;
  readonly clientMsgId?: string;
}

export interface SendVoiceInput {
  readonly to: Conversation;
  /** A recording (e.g. MediaRecorder's) whose `type` is an audio type the server accepts, e.g. audio/webm;codecs=opus. */
  readonly blob: Blob;
  /** Seconds. */
  readonly duration: number;
  readonly clientMsgId?: string;
}

/** The attachment a message describes, or undefined for any other message (never throws). */
export function attachmentOf(msgData: string): AttachmentDescription | undefined {
  try {
    return parseAttachment(msgData);
  } catch {
    return undefined;
  }
}

/** Asks for an upload URL and PUTs the blob there; resolves with the description's key, type and size. */
export async function uploadAttachment(
  chat: AttachmentTransport,
  blob: Blob,
  kind: AttachmentKind,
): Promise<Pick<AttachmentDescription, 'key' | 'content_type' | 'size'>> {
  if (attachmentKindOf(blob.type) !== kind) throw new TypeError(`a ${kind} cannot be of type "${blob.type}"`);
  const grant = await chat.request('attachment_upload', { content_type: blob.type, size: blob.size });
  let response: Response;
  try {
    response = await fetch(grant.url, { method: grant.method, headers: grant.headers, body: blob });
  } catch (error) {
    throw new AttachmentUploadError(`upload failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw new AttachmentUploadError(`upload refused with HTTP ${response.status}`, response.status);
  return { key: grant.key, content_type: baseContentType(blob.type), size: blob.size };
}

export async function sendPicture(chat: AttachmentTransport, input: SendPictureInput): Promise<MsgDataAckFrame> {
  const uploaded = await uploadAttachment(chat, input.file, 'picture');
  const description: AttachmentDescription = {
    attachment: 'picture',
    ...uploaded,
    ...(input.width === undefined ? {} : { width: input.width }),
    ...(input.height === undefined ? {} : { height: input.height }),
  };
  return chat.send({
    to: input.to,
    msgData: JSON.stringify(description),
    kind: 'text',
    ...(input.clientMsgId === undefined ? {} : { clientMsgId: input.clientMsgId }),
  });
}

export async function sendVoice(chat: AttachmentTransport, input: SendVoiceInput): Promise<MsgDataAckFrame> {
  if (!(input.duration > 0)) throw new TypeError('sendVoice: duration must be a positive number of seconds');
  const uploaded = await uploadAttachment(chat, input.blob, 'voice');
  const description: AttachmentDescription = {
    attachment: 'voice',
    ...uploaded,
    duration: Math.round(input.duration * 1000) / 1000,
  };
  return chat.send({
    to: input.to,
    msgData: JSON.stringify(description),
    kind: 'audio',
    ...(input.clientMsgId === undefined ? {} : { clientMsgId: input.clientMsgId }),
  });
}

/** A short-lived URL to GET an attachment that a message of the conversation references. */
export async function attachmentUrl(
  chat: AttachmentTransport,
  input: { readonly conversation: Conversation; readonly key: string },
): Promise<string> {
  const reply = await chat.request('attachment_url', { ...sessionRefOf(input.conversation), key: input.key });
  return reply.url;
}
