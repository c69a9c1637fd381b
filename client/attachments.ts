/**
 * Pictures and voice notes (docs/protocol.md "Attachments"): ask `attachment_upload`, PUT the bytes straight to the
 * signed URL, then send the message that describes them; `attachmentUrl` asks for a short-lived download URL. The
 * ChatClient methods `sendPicture`, `sendVoice`, `uploadAttachment` and `attachmentUrl` call these.
 *
 * The PUT goes through XMLHttpRequest where there is one (browsers, React Native), which reports upload progress,
 * else through fetch (Node). A React Native file URI (`{ uri, type }` from an image picker or a recorder) is read
 * into a Blob with fetch, as React Native's networking allows. The types name no DOM type (`Blob`, `Response`), so
 * apps compiled without the DOM library use them as they are.
 */
import {
  MAX_VOICE_SECONDS,
  attachmentKindOf,
  baseContentType,
  parseAttachment,
  type AttachmentDescription,
  type AttachmentKind,
} from '../protocol/attachments.js';
import type { MsgDataAckFrame, ReplyFrame, RequestAction, RequestMap } from '../protocol/frames.js';
import { sessionRefOf, type Conversation } from './conversation.js';
import type { AbortSignalLike, Deadline } from './deadline.js';
import { AbortError, ChatError } from './errors.js';
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

/** The part of a Blob (or File) an upload reads: a browser's File or Blob, or a Blob in React Native or Node. */
export interface BlobLike {
  readonly size: number;
  /** The content type, e.g. `image/png` or `audio/webm;codecs=opus`. */
  readonly type: string;
}

/** A file on a React Native device, as image pickers and recorders give it: read with fetch when uploaded. */
export interface FileUri {
  /** `file://…` or `content://…`. */
  readonly uri: string;
  /** The content type, e.g. `image/jpeg` or `audio/mp4`. */
  readonly type: string;
}

/** What can be uploaded. */
export type UploadSource = BlobLike | FileUri;

/** How far an upload is, in bytes. */
export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

/** An upload's deadline (`signal` cancels it: AbortError) and progress listener. */
export interface UploadOptions extends Deadline {
  /** Called as the bytes go out (with XMLHttpRequest; fetch reports only the end). */
  readonly onProgress?: (progress: UploadProgress) => void;
}

export interface SendPictureInput extends UploadOptions {
  readonly to: Conversation;
  /** A File, Blob or React Native file URI whose type is image/jpeg, image/png, image/webp or image/gif. */
  readonly file: UploadSource;
  /** Pixels, so a peer can lay the picture out before it loads. */
  readonly width?: number;
  readonly height?: number;
  readonly clientMsgId?: string;
}

export interface SendVoiceInput extends UploadOptions {
  readonly to: Conversation;
  /** A recording (MediaRecorder's Blob, or a file URI) whose type is an audio type the server accepts, e.g. audio/webm;codecs=opus. */
  readonly blob: UploadSource;
  /** Seconds, at most MAX_VOICE_SECONDS (3600). */
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

/**
 * Asks for an upload URL and PUTs the bytes there; resolves with the description's key, type and size. A type the
 * server does not take is refused by the server (`bad_request`); an allowed type of the other kind (a voice note
 * given as a picture) is a TypeError, before anything is asked.
 */
export async function uploadAttachment(
  chat: AttachmentTransport,
  source: UploadSource,
  kind: AttachmentKind,
  options: UploadOptions = {},
): Promise<Pick<AttachmentDescription, 'key' | 'content_type' | 'size'>> {
  const allowedKind = attachmentKindOf(source.type);
  if (allowedKind !== undefined && allowedKind !== kind)
    throw new TypeError(`a ${kind} cannot be of type "${source.type}"`);
  throwIfAborted(options.signal);
  const blob = 'uri' in source ? await readFileUri(source) : source;
  const grant = await chat.request('attachment_upload', { content_type: source.type, size: blob.size });
  throwIfAborted(options.signal);
  await put(grant, blob, options);
  return { key: grant.key, content_type: baseContentType(source.type), size: blob.size };
}

export async function sendPicture(chat: AttachmentTransport, input: SendPictureInput): Promise<MsgDataAckFrame> {
  const uploaded = await uploadAttachment(chat, input.file, 'picture', input);
  const description: AttachmentDescription = {
    attachment: 'picture',
    ...uploaded,
    ...(input.width === undefined ? {} : { width: input.width }),
    ...(input.height === undefined ? {} : { height: input.height }),
  };
  return sendDescription(chat, input, description, 'text');
}

export async function sendVoice(chat: AttachmentTransport, input: SendVoiceInput): Promise<MsgDataAckFrame> {
  if (!(input.duration > 0 && input.duration <= MAX_VOICE_SECONDS))
    throw new TypeError(`sendVoice: duration must be more than 0 and at most ${MAX_VOICE_SECONDS} seconds`);
  const uploaded = await uploadAttachment(chat, input.blob, 'voice', input);
  const description: AttachmentDescription = {
    attachment: 'voice',
    ...uploaded,
    duration: Math.round(input.duration * 1000) / 1000,
  };
  return sendDescription(chat, input, description, 'audio');
}

function sendDescription(
  chat: AttachmentTransport,
  input: { readonly to: Conversation; readonly clientMsgId?: string; readonly signal?: AbortSignalLike },
  description: AttachmentDescription,
  kind: 'text' | 'audio',
): Promise<MsgDataAckFrame> {
  return chat.send({
    to: input.to,
    msgData: JSON.stringify(description),
    kind,
    ...(input.clientMsgId === undefined ? {} : { clientMsgId: input.clientMsgId }),
    ...(input.signal === undefined ? {} : { signal: input.signal }),
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

function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new AbortError('upload aborted');
}

/** A React Native file URI's bytes, as a Blob (React Native's fetch reads file:// and content:// URIs). */
async function readFileUri(file: FileUri): Promise<BlobLike> {
  try {
    return (await (await fetch(file.uri)).blob()) as BlobLike;
  } catch (error) {
    throw new AttachmentUploadError(
      `cannot read ${file.uri}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

type Grant = ReplyFrame<'attachment_upload'>;

/** PUTs the bytes to the signed URL: with XMLHttpRequest where there is one (it reports progress), else fetch. */
function put(grant: Grant, blob: BlobLike, options: UploadOptions): Promise<void> {
  const Xhr = (globalThis as { XMLHttpRequest?: typeof XMLHttpRequest }).XMLHttpRequest;
  return Xhr ? putWithXhr(Xhr, grant, blob, options) : putWithFetch(grant, blob, options);
}

function putWithXhr(Xhr: typeof XMLHttpRequest, grant: Grant, blob: BlobLike, options: UploadOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    const { signal, timeoutMs, onProgress } = options;
    const onAbort = () => xhr.abort();
    const settle = (error?: Error) => {
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    xhr.open(grant.method, grant.url);
    for (const [name, value] of Object.entries(grant.headers)) xhr.setRequestHeader(name, value);
    if (timeoutMs !== undefined) xhr.timeout = timeoutMs;
    if (onProgress) xhr.upload.onprogress = (event) => onProgress({ loaded: event.loaded, total: blob.size });
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300)
        return settle(new AttachmentUploadError(`upload refused with HTTP ${xhr.status}`, xhr.status));
      onProgress?.({ loaded: blob.size, total: blob.size });
      settle();
    };
    xhr.onerror = () => settle(new AttachmentUploadError('upload failed: network error'));
    xhr.ontimeout = () => settle(new AttachmentUploadError(`upload not finished within ${timeoutMs} ms`));
    xhr.onabort = () => settle(new AbortError('upload aborted'));
    signal?.addEventListener('abort', onAbort);
    xhr.send(blob as Blob);
  });
}

async function putWithFetch(grant: Grant, blob: BlobLike, options: UploadOptions): Promise<void> {
  const { signal, timeoutMs, onProgress } = options;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort);
  const timer = timeoutMs === undefined ? undefined : setTimeout(onAbort, timeoutMs);
  let response: Response;
  try {
    response = await fetch(grant.url, {
      method: grant.method,
      headers: grant.headers,
      body: blob as Blob,
      signal: controller.signal,
    });
  } catch (error) {
    if (signal?.aborted) throw new AbortError('upload aborted');
    throw new AttachmentUploadError(`upload failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  if (!response.ok) throw new AttachmentUploadError(`upload refused with HTTP ${response.status}`, response.status);
  onProgress?.({ loaded: blob.size, total: blob.size });
}
