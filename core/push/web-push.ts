/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and the aes128gcm payload encryption (RFC 8291), for browsers: the
 * `web` token is the PushSubscription's JSON ({endpoint, keys: {p256dh, auth}}) that the page registered. The
 * `web-push` library builds the request (it encrypts the payload and signs the VAPID JWT: well kept, small, and the
 * encryption is easy to get subtly wrong); the send itself is a plain fetch so that retries and Retry-After stay
 * with the use-case. 404 and 410 from the push service mean the subscription is gone.
 */
import webpush from 'web-push';
import type { Clock } from '../ports.js';
import { fitPayload, type PushContent } from './content.js';
import { isRetryableStatus, retryAfterMs, type PushProvider, type SendOutcome } from './provider.js';

export interface VapidKeys {
  /** Uncompressed P-256 public key, URL-safe base64 (what `web-push generate-vapid-keys` prints). */
  readonly publicKey: string;
  /** P-256 private key, URL-safe base64. */
  readonly privateKey: string;
}

export interface WebPushSenderOptions {
  readonly vapid: VapidKeys;
  /** The VAPID `sub`: a mailto: or https: contact for the push services. */
  readonly subject: string;
  readonly clock: Clock;
  /** How long the push service keeps an undelivered push, in seconds. @default 86400 */
  readonly ttlSeconds?: number;
}

/** A push message's body holds at most 4096 bytes; aes128gcm adds 86 bytes of header, a padding delimiter and a 16-byte tag. */
export const WEB_PUSH_PLAINTEXT_LIMIT = 4096 - 86 - 1 - 16;

interface Subscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export class WebPushSender implements PushProvider {
  readonly name = 'webpush';

  constructor(private readonly options: WebPushSenderOptions) {
    // Bad VAPID keys or subject fail here, at start, so a send's error can only be the subscription's.
    webpush.getVapidHeaders('https://push.invalid', options.subject, options.vapid.publicKey, options.vapid.privateKey, 'aes128gcm');
  }

  async send(token: string, content: PushContent): Promise<SendOutcome> {
    const subscription = parseSubscription(token);
    if (!subscription) return { kind: 'gone', reason: 'not a PushSubscription' };
    const payload = fitPayload(content, WEB_PUSH_PLAINTEXT_LIMIT, (body) => JSON.stringify(webPushPayload(content, body)));
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(subscription, payload, {
        vapidDetails: { subject: this.options.subject, ...this.options.vapid },
        TTL: this.options.ttlSeconds ?? 86_400,
        contentEncoding: 'aes128gcm',
        urgency: 'high',
        topic: content.collapseId,
      });
    } catch (error) {
      // The subscription's keys are not a P-256 point and a 16-byte secret: no push can ever be encrypted for it.
      return { kind: 'gone', reason: `bad subscription keys: ${(error as Error).message}` };
    }
    const response = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      ...(details.body ? { body: new Uint8Array(details.body) } : {}),
    });
    await response.arrayBuffer();
    if (response.ok) return { kind: 'sent' };
    if (response.status === 404 || response.status === 410) return { kind: 'gone', reason: `HTTP ${response.status}` };
    if (isRetryableStatus(response.status)) {
      const afterMs = retryAfterMs(response.headers.get('retry-after'), this.options.clock.now());
      return { kind: 'retry', reason: `HTTP ${response.status}`, ...(afterMs === undefined ? {} : { afterMs }) };
    }
    return { kind: 'failed', reason: `HTTP ${response.status}` };
  }
}

/** What the page's service worker gets (web/sw.js shows it): title, body, badge, tag (collapses a conversation), data. */
export function webPushPayload(content: PushContent, body: string): Record<string, unknown> {
  return { title: content.title, body, badge: content.badge, tag: content.collapseId, data: content.data };
}

function parseSubscription(token: string): Subscription | undefined {
  try {
    const value = JSON.parse(token) as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
    const { endpoint, keys } = value;
    if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint) || typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string') return undefined;
    return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
  } catch {
    return undefined;
  }
}
