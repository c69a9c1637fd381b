/**
 * Where a Web Push may go. A `web` token names its own endpoint URL, so without a check the push sender would POST,
 * with the app's VAPID signature, to any address a user registers: the Lambda runtime API on 127.0.0.1:9001, the
 * instance metadata service, anything in a VPC, any third party. So an endpoint must be https on the default port of
 * a host on the allowlist — the browsers' push services, plus the hosts a stack adds — and never an IP literal or
 * credentials; checked when a token is registered (`bad_request`) and again before each send (a token stored before
 * the check is dropped as gone). At connect time the host's addresses must all be public
 * (core/push-providers/public-addresses.ts), and redirects are never followed (core/push-providers/http.ts). Local
 * mode adds the fake push service's exact origin (`http://127.0.0.1:<port>`), the only loopback address the policy
 * ever allows.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/** The Web Push services of the browsers in use: Chrome (FCM), Firefox, Safari, Edge (WNS). */
export const WEB_PUSH_SERVICE_HOSTS: readonly string[] = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  'web.push.apple.com',
  '*.notify.windows.com',
];

/** A host (`push.example.com`) or one label under a domain (`*.example.com`); lower case, no IP, no port. */
const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]([a-z0-9-]*[a-z0-9])?$/;

type Entry = { readonly host: string } | { readonly suffix: string } | { readonly origin: string };

/** Parses an allowlist entry: a host pattern, or an exact origin such as local mode's fake. Throws ConfigError. */
function parseEntry(entry: string): Entry {
  if (HOST_PATTERN.test(entry)) return entry.startsWith('*.') ? { suffix: entry.slice(1) } : { host: entry };
  const origin = URL.canParse(entry) ? new URL(entry).origin : 'null';
  if (origin === entry) return { origin };
  throw new ConfigError(
    `Web Push allowlist entry "${entry}" is neither a host (push.example.com, *.example.com) nor an origin (http://127.0.0.1:8080)`,
  );
}

/** Whether `entry` is a host pattern the construct may add (an origin is for local mode only). */
export function isWebPushHostPattern(entry: string): boolean {
  return HOST_PATTERN.test(entry);
}

/** Checks allowlist entries (host patterns or exact origins); throws ConfigError at the first bad one. */
export function checkAllowlist(entries: readonly string[]): void {
  for (const entry of entries) parseEntry(entry);
}

export interface PushSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

/** The PushSubscription a `web` token holds (its JSON, as the page registered it), or undefined. */
export function parseSubscription(token: string): PushSubscription | undefined {
  try {
    const value = JSON.parse(token) as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | null;
    const endpoint = value?.endpoint;
    const keys = value?.keys;
    if (typeof endpoint !== 'string' || typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string')
      return undefined;
    return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
  } catch {
    return undefined;
  }
}

export class WebPushEndpointPolicy {
  private readonly entries: readonly Entry[];

  /** The browsers' push services and `extra` (host patterns, or exact origins in local mode). */
  constructor(extra: readonly string[] = []) {
    this.entries = [...WEB_PUSH_SERVICE_HOSTS, ...extra].map(parseEntry);
  }

  /** Why a `web` token cannot be registered, or undefined when it can. */
  tokenProblem(token: string): string | undefined {
    const subscription = parseSubscription(token);
    return subscription
      ? this.problem(subscription.endpoint)
      : 'a web token must be a PushSubscription JSON {endpoint, keys: {p256dh, auth}}';
  }

  /** Why `endpoint` must not be contacted, or undefined when it may (its addresses are checked at connect). */
  problem(endpoint: string): string | undefined {
    if (!URL.canParse(endpoint)) return 'the endpoint is not a URL';
    const url = new URL(endpoint);
    if (url.username !== '' || url.password !== '') return 'the endpoint carries credentials';
    if (this.isExactOrigin(url)) return undefined;
    if (url.protocol !== 'https:') return 'the endpoint is not https';
    if (url.port !== '') return 'the endpoint names a port';
    if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) return 'the endpoint is an IP address';
    const allowed = this.entries.some(
      (e) => ('host' in e && e.host === url.hostname) || ('suffix' in e && isOneLabelUnder(url.hostname, e.suffix)),
    );
    return allowed ? undefined : `${url.hostname} is not a Web Push service on the allowlist`;
  }

  /** Whether `url` is an allowlisted exact origin (local mode's fake), whose address is not held to public ones. */
  isExactOrigin(url: URL): boolean {
    return this.entries.some((e) => 'origin' in e && e.origin === url.origin);
  }
}

const isOneLabelUnder = (hostname: string, suffix: string) =>
  hostname.endsWith(suffix) && /^[a-z0-9-]+$/.test(hostname.slice(0, -suffix.length));
