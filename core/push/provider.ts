/**
 * The port every push provider (FCM, APNs, Web Push) implements, and how its answers are classified: sent, the token
 * is gone (remove it), try again later (429/5xx, honouring Retry-After), or failed for good.
 */
import type { PushContent } from './content.js';

export type SendOutcome =
  | { readonly kind: 'sent' }
  /** The provider says the token will never work again (unregistered, bad token): remove it. */
  | { readonly kind: 'gone'; readonly reason: string }
  /** Throttled or unavailable: try again after `afterMs` (Retry-After) or the sender's backoff. */
  | { readonly kind: 'retry'; readonly reason: string; readonly afterMs?: number }
  | { readonly kind: 'failed'; readonly reason: string };

export interface PushProvider {
  /** Short name for logs and metrics: fcm, apns, webpush. */
  readonly name: string;
  send(token: string, content: PushContent): Promise<SendOutcome>;
}

/** A Retry-After header (delta-seconds or an HTTP date) in ms from `nowMs`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** 429 and 5xx are worth another try; everything else is an answer. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;
