/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and the aes128gcm payload encryption (RFC 8291), for browsers: the
 * `web` token is the PushSubscription's JSON ({endpoint, keys: {p256dh, auth}}) that the page registered. The
 * `web-push` library builds the request (it encrypts the payload and signs the VAPID JWT: well kept, small, and the
 * encryption is easy to get subtly wrong); the send itself is a bounded request (core/push-providers/http.ts) so
 * that retries and Retry-After stay with the use-case. The endpoint is the user's to choose, so it must pass the allowlist
 * (core/domain/web-push-endpoint.ts) before anything is built, and its addresses again at connect; a redirect is a
 * failure, never followed. 404 and 410 from the push service mean the subscription is gone.
 */
import webpush from 'web-push';
import { Agent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { EndpointNotAllowedError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { fitPayload, type PushContent } from '../domain/push-content.js';
import { parseSubscription, WebPushEndpointPolicy } from '../domain/web-push-endpoint.js';
import { publicAddressesOnly } from './public-addresses.js';
import { boundedRequest, isRetryableStatus, retryAfterMs } from './http.js';
import type { PushProvider, SendOutcome } from '../ports/push.js';

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
  /** Push services added to the browsers' ones (WEB_PUSH_ENDPOINT_ALLOWLIST; local mode: the fake's origin). @default [] */
  readonly endpointAllowlist?: readonly string[];
  /** Time for one push, connection included. @default PROVIDER_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Resolves endpoint hosts (tests). @default dns.lookup */
  readonly lookup?: LookupFunction;
}

/** A push message's body holds at most 4096 bytes; aes128gcm adds 86 bytes of header, a padding delimiter and a 16-byte tag. */
export const WEB_PUSH_PLAINTEXT_LIMIT = 4096 - 86 - 1 - 16;

export class WebPushSender implements PushProvider {
  readonly name = 'webpush';
  private readonly policy: WebPushEndpointPolicy;
  /** Keeps connections to the push services open between pushes. */
  private readonly agent = new Agent({ keepAlive: true });

  constructor(private readonly options: WebPushSenderOptions) {
    // Bad VAPID keys or subject fail here, at start, so a send's error can only be the subscription's.
    webpush.getVapidHeaders(
      'https://push.invalid',
      options.subject,
      options.vapid.publicKey,
      options.vapid.privateKey,
      'aes128gcm',
    );
    this.policy = new WebPushEndpointPolicy(options.endpointAllowlist);
  }

  async send(token: string, content: PushContent): Promise<SendOutcome> {
    const subscription = parseSubscription(token);
    if (!subscription) return { kind: 'gone', reason: 'not a PushSubscription' };
    const refused = this.policy.problem(subscription.endpoint);
    if (refused) return { kind: 'gone', reason: `endpoint not allowed: ${refused}` };
    const payload = fitPayload(content, WEB_PUSH_PLAINTEXT_LIMIT, (body) =>
      JSON.stringify(webPushPayload(content, body)),
    );
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
    const url = new URL(details.endpoint);
    let response;
    try {
      response = await boundedRequest(url, {
        method: 'POST',
        headers: details.headers as Record<string, string>,
        ...(details.body ? { body: new Uint8Array(details.body) } : {}),
        ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
        lookup: this.policy.isExactOrigin(url) ? undefined : publicAddressesOnly(this.options.lookup),
        agent: url.protocol === 'https:' ? this.agent : undefined,
      });
    } catch (error) {
      if (error instanceof EndpointNotAllowedError) return { kind: 'failed', reason: error.message };
      throw error;
    }
    return this.outcomeOf(response.status, response.headers['retry-after']);
  }

  private outcomeOf(status: number, retryAfter: string | string[] | undefined): SendOutcome {
    if (status >= 200 && status < 300) return { kind: 'sent' };
    if (status >= 300 && status < 400) return { kind: 'failed', reason: `HTTP ${status}: a redirect, not followed` };
    if (status === 404 || status === 410) return { kind: 'gone', reason: `HTTP ${status}` };
    if (isRetryableStatus(status)) {
      const afterMs = retryAfterMs(typeof retryAfter === 'string' ? retryAfter : undefined, this.options.clock.now());
      return { kind: 'retry', reason: `HTTP ${status}`, ...(afterMs === undefined ? {} : { afterMs }) };
    }
    return { kind: 'failed', reason: `HTTP ${status}` };
  }
}

/** What the page's service worker gets (web/sw.js shows it): title, body, badge, tag (collapses a conversation), data. */
export function webPushPayload(content: PushContent, body: string): Record<string, unknown> {
  return { title: content.title, body, badge: content.badge, tag: content.collapseId, data: content.data };
}
