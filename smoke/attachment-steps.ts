/**
 * The attachment steps of `npm run smoke` (docs/protocol.md "Attachments"): a voice note and a picture go from A to
 * B through the deployment's bucket — presigned upload, the message describing it, delivery, a presigned download
 * whose bytes are the uploaded ones — and B may not send a message referencing A's upload.
 */
import type { Frame, SmokeConnection } from './connection.js';

interface AttachmentRun {
  readonly options: {
    readonly users: readonly [{ readonly userId: string }, { readonly userId: string }];
    readonly replyTimeoutMs: number;
  };
  readonly tag: string;
  a?: SmokeConnection;
  b?: SmokeConnection;
  /** The key of the voice note, for the refusal step. */
  voiceKey?: string;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const show = (frame: Frame) => JSON.stringify(frame).slice(0, 300);

/** Bytes that differ per run, so a download of another object cannot pass. */
function payload(tag: string, size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (tag.charCodeAt(i % tag.length) + i) & 0xff;
  return bytes;
}

async function sendAttachment(
  run: AttachmentRun,
  kind: 'voice' | 'picture',
  contentType: string,
  size: number,
): Promise<string> {
  const { users, replyTimeoutMs } = run.options;
  const a = run.a!;
  const b = run.b!;
  const grant = await a.request('attachment_upload', { content_type: contentType, size }, replyTimeoutMs);
  check(
    grant['type'] === 'attachment_upload' && typeof grant['url'] === 'string',
    `expected attachment_upload, got ${show(grant)}`,
  );
  const bytes = payload(run.tag, size);
  const put = await fetch(grant['url'] as string, {
    method: 'PUT',
    headers: grant['headers'] as Record<string, string>,
    body: bytes,
  });
  check(put.ok, `the upload was refused: HTTP ${put.status}`);
  const key = grant['key'] as string;
  const description = JSON.stringify({
    attachment: kind,
    key,
    content_type: contentType,
    size,
    ...(kind === 'voice' ? { duration: 1.5 } : { width: 16, height: 16 }),
  });
  const ack = await a.request(
    'msg_data',
    { to_session_id: users[1].userId, msg_type: kind === 'voice' ? 2 : 1, msg_data: description },
    replyTimeoutMs,
  );
  check(ack['type'] === 'msg_data_ack', `expected msg_data_ack, got ${show(ack)}`);
  const frame = await b.next(
    (f) => f['type'] === 'msg_data' && f['msg_id'] === ack['msg_id'] && f['from_user_id'] === users[0].userId,
    replyTimeoutMs,
    `the ${kind} at the receiver`,
  );
  check(frame['msg_data'] === description, `the ${kind} arrived changed: ${show(frame)}`);
  b.send({ action: 'msg_data_ack', msg_id: frame['msg_id'], session_id: users[0].userId, session_type: 1 });
  const url = await b.request('attachment_url', { session_id: users[0].userId, session_type: 1, key }, replyTimeoutMs);
  check(
    url['type'] === 'attachment_url' && typeof url['url'] === 'string',
    `expected attachment_url, got ${show(url)}`,
  );
  const got = await fetch(url['url'] as string);
  check(got.ok, `the download was refused: HTTP ${got.status}`);
  const body = new Uint8Array(await got.arrayBuffer());
  check(
    body.length === size && body.every((byte, i) => byte === bytes[i]),
    `the download is not the upload (${body.length} bytes)`,
  );
  if (kind === 'voice') run.voiceKey = key;
  return `msg_id ${String(ack['msg_id'])}: ${size} bytes of ${contentType} up, delivered, down`;
}

export const voiceNote = (run: AttachmentRun) => sendAttachment(run, 'voice', 'audio/webm', 3000);
export const picture = (run: AttachmentRun) => sendAttachment(run, 'picture', 'image/png', 5000);

/** B may not send a message referencing A's upload. */
export async function refuseOthersAttachment(run: AttachmentRun): Promise<string> {
  const { users, replyTimeoutMs } = run.options;
  check(run.voiceKey !== undefined, 'not run: the voice note step failed');
  const description = JSON.stringify({
    attachment: 'voice',
    key: run.voiceKey,
    content_type: 'audio/webm',
    size: 3000,
    duration: 1.5,
  });
  const reply = await run.b!.request(
    'msg_data',
    { to_session_id: users[0].userId, msg_type: 2, msg_data: description },
    replyTimeoutMs,
  );
  check(reply['type'] === 'error' && reply['code'] === 'bad_request', `expected error bad_request, got ${show(reply)}`);
  return `bad_request: ${String(reply['message'])}`;
}
