/**
 * What a push says, built once per receiver and cut per provider. Without `pushIncludesBody` the event carries no
 * `msg_data`, so the text is generic ("New message from alice") and no provider ever sees content; with it, the
 * body is cut (at a code point, never inside one) until the provider's whole payload fits its limit. Pushes of one
 * conversation share a collapse key, so several that arrive before the user opens the app show as one.
 */
import { createHash } from 'node:crypto';
import { SessionType } from './ids.js';
import type { UndeliveredMessageDetail } from './push.js';

export interface PushContent {
  readonly title: string;
  /** The message text (pushIncludesBody) or the generic line; providers may cut it to fit. */
  readonly body: string;
  /** Whether `body` is the message text (so cutting it is allowed) rather than the generic line. */
  readonly bodyIsMessage: boolean;
  /** The receiver's total unread count; absent, the app's badge is left as it is. */
  readonly badge?: number;
  /** Same for every push of one conversation: APNs apns-collapse-id and thread-id, FCM collapse_key/tag, Web Push Topic. */
  readonly collapseId: string;
  /** Routing data for the app (strings only: FCM's `data` takes strings). */
  readonly data: Readonly<Record<string, string>>;
}

/** APNs takes a collapse id of at most 64 bytes; Web Push's Topic at most 32 URL-safe base64 characters. */
const COLLAPSE_ID_CHARS = 32;

/** A conversation's collapse id: URL-safe, at most 32 characters, the same for every message of it. */
export function collapseIdOf(sessionType: number, sessionId: string): string {
  return createHash('sha256')
    .update(`${sessionType}#${sessionId}`, 'utf8')
    .digest('base64url')
    .slice(0, COLLAPSE_ID_CHARS);
}

/**
 * The push that carries a device-token challenge's code to the device (core/usecases/device-tokens.ts): the app that
 * receives `data.device_token_code` answers with device_token_verify. No badge; a collapse id of its own.
 */
export function challengeContent(code: string): PushContent {
  return {
    title: 'Confirm notifications on this device',
    body: 'Open the app to keep this device’s notifications.',
    bodyIsMessage: false,
    collapseId: 'device-token-challenge',
    data: { device_token_code: code },
  };
}

/** The push telling a user that their account export is written (the app asks for its URL with account_export). */
export function exportReadyContent(exportId: string): PushContent {
  return {
    title: 'Your data export is ready',
    body: 'Open the app to download it.',
    bodyIsMessage: false,
    collapseId: 'account-export',
    data: { account_export_id: exportId },
  };
}

/** The content of the push telling `detail`'s receivers about its message. */
export function pushContent(detail: UndeliveredMessageDetail, badge: number): PushContent {
  const isGroup = detail.session_type === SessionType.Group;
  const from = detail.from_user_id;
  const hasBody = detail.msg_data !== undefined && detail.msg_data !== '';
  return {
    title: isGroup ? `${from} in ${detail.session_id}` : from,
    body: hasBody ? (detail.msg_data as string) : `New message from ${from}`,
    bodyIsMessage: hasBody,
    badge,
    collapseId: collapseIdOf(detail.session_type, detail.session_id),
    data: {
      session_id: detail.session_id,
      session_type: String(detail.session_type),
      msg_id: String(detail.msg_id),
      from_user_id: from,
    },
  };
}

/** The longest prefix of `text` of at most `maxBytes` bytes of UTF-8, cut between code points. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

const ELLIPSIS = '…';

/**
 * Builds a provider's payload, cutting the message text until the payload is at most `limitBytes`: each round cuts
 * the body by what is over (JSON escapes can make a byte of text cost up to six), so a few rounds suffice.
 * The generic line and the title are short and never cut; a payload that cannot fit even with an empty body throws.
 */
export function fitPayload(content: PushContent, limitBytes: number, build: (body: string) => string): string {
  let body = content.body;
  for (;;) {
    const payload = build(body);
    const over = Buffer.byteLength(payload, 'utf8') - limitBytes;
    if (over <= 0) return payload;
    if (!content.bodyIsMessage || body === '')
      throw new RangeError(`push payload is ${over} bytes over ${limitBytes} with nothing left to cut`);
    const kept = truncateUtf8(
      body.endsWith(ELLIPSIS) ? body.slice(0, -ELLIPSIS.length) : body,
      Math.max(0, Buffer.byteLength(body, 'utf8') - over - 3),
    );
    body = kept === '' ? '' : kept + ELLIPSIS;
  }
}
