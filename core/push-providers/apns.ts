/**
 * APNs over HTTP/2 with token-based auth (developer.apple.com, "Sending notification requests to APNs" and
 * "Establishing a token-based connection to APNs"). The provider token is an ES256 JWT (header kid = key id, claims
 * iss = team id, iat) signed with the .p8 key; Apple refuses one older than an hour and answers
 * TooManyProviderTokenUpdates to one renewed more often than every 20 minutes, so it is kept and renewed after 20
 * minutes (or at once after ExpiredProviderToken). Every instance of the sender shares one token through a
 * ProviderTokenStore (core/store/provider-tokens.ts), since instances renewing their own would trip that limit.
 * One HTTP/2 session is kept open and multiplexes every request; each request has the provider timeout from start to
 * end and reads a few KB of its answer at most (as core/push-providers/http.ts does for HTTP/1.1).
 * 410 Unregistered and 400 BadDeviceToken mean the token is gone.
 */
import http2 from 'node:http2';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { ProviderStreamClosedError, ProviderTimeoutError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import {
  type ProviderToken,
  type ProviderTokenStore,
  PROVIDER_TIMEOUT_MS,
  type PushProvider,
  type SendOutcome,
} from '../ports/push.js';
import { fitPayload, type PushContent } from '../domain/push-content.js';
import { BoundedAnswer, isRetryableStatus, retryAfterMs } from './http.js';

export interface ApnsSenderOptions {
  /** The .p8 key's id (10 characters, Apple Developer → Keys). */
  readonly keyId: string;
  /** The team id (10 characters). */
  readonly teamId: string;
  /** The app's bundle id: the apns-topic of alert pushes. */
  readonly bundleId: string;
  /** The .p8 key file's text (PKCS #8 PEM). */
  readonly privateKey: string;
  /** api.push.apple.com when true, api.sandbox.push.apple.com (development builds) otherwise. */
  readonly production: boolean;
  readonly clock: Clock;
  /** Overrides the host (local mode: the fake, https://127.0.0.1:port). */
  readonly origin?: string;
  /** Extra CA to trust (local mode: the fake's self-signed certificate). */
  readonly ca?: string;
  /** Shares the provider token between instances. @default - this instance's own token */
  readonly sharedTokens?: ProviderTokenStore;
  /** Time for one push, from the request to the end of its answer. @default PROVIDER_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** Apple's limit for an alert's payload. */
export const APNS_PAYLOAD_LIMIT = 4096;
/** Renew the provider token after this long (Apple: not more often than every 20 minutes; refused after 60). */
export const APNS_TOKEN_RENEW_MS = 20 * 60_000;

export class ApnsSender implements PushProvider {
  readonly name = 'apns';
  private providerToken: ProviderToken | undefined;
  /** A token APNs refused (expired or invalid): replaced even if the shared store still calls it fresh. */
  private refused: string | undefined;
  private renewing: Promise<string> | undefined;
  private key: Promise<CryptoKey> | undefined;
  private session: http2.ClientHttp2Session | undefined;
  /** Provider tokens signed so far (tests check reuse). */
  tokensSigned = 0;

  constructor(private readonly options: ApnsSenderOptions) {}

  async send(token: string, content: PushContent): Promise<SendOutcome> {
    const payload = fitPayload(content, APNS_PAYLOAD_LIMIT, (body) => JSON.stringify(apnsPayload(content, body)));
    const jwt = await this.authToken();
    const { status, headers, body } = await this.request(`/3/device/${encodeURIComponent(token)}`, payload, {
      authorization: `bearer ${jwt}`,
      'apns-push-type': 'alert',
      'apns-topic': this.options.bundleId,
      'apns-collapse-id': content.collapseId,
      'apns-priority': '10',
      'apns-expiration': '0',
    });
    if (status === 200) return { kind: 'sent' };
    const reason = apnsReason(body) ?? `HTTP ${status}`;
    if (status === 410 || reason === 'Unregistered' || reason === 'BadDeviceToken') return { kind: 'gone', reason };
    if (reason === 'ExpiredProviderToken' || reason === 'InvalidProviderToken') {
      this.refused = jwt;
      if (this.providerToken?.jwt === jwt) this.providerToken = undefined;
      return { kind: 'retry', reason, afterMs: 0 };
    }
    if (isRetryableStatus(status)) {
      const afterMs = retryAfterMs(headers['retry-after'] as string | undefined, this.options.clock.now());
      return { kind: 'retry', reason, ...(afterMs === undefined ? {} : { afterMs }) };
    }
    return { kind: 'failed', reason };
  }

  /** Closes the HTTP/2 session (tests and local mode; a Lambda keeps it for the next invocation). */
  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private fresh(token: ProviderToken | undefined): token is ProviderToken {
    return (
      token !== undefined &&
      token.jwt !== this.refused &&
      this.options.clock.now() - token.issuedAtMs < APNS_TOKEN_RENEW_MS
    );
  }

  /** The instance's token while fresh; else the shared one while fresh; else a new one (one renewal at a time). */
  private async authToken(): Promise<string> {
    if (this.fresh(this.providerToken)) return this.providerToken.jwt;
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renew(): Promise<string> {
    const shared = this.options.sharedTokens;
    const current = shared ? await shared.current() : this.providerToken;
    const previousIssuedAtMs = current?.issuedAtMs;
    if (this.fresh(current)) {
      this.providerToken = current;
      return current.jwt;
    }
    const now = this.options.clock.now();
    this.key ??= importPKCS8(this.options.privateKey, 'ES256');
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.options.keyId })
      .setIssuer(this.options.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await this.key);
    const signed = { jwt, issuedAtMs: now };
    this.providerToken = shared ? await shared.replace(signed, previousIssuedAtMs) : signed;
    if (this.providerToken.jwt === jwt) this.tokensSigned++;
    return this.providerToken.jwt;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const origin =
      this.options.origin ??
      (this.options.production ? 'https://api.push.apple.com' : 'https://api.sandbox.push.apple.com');
    const session = http2.connect(origin, this.options.ca ? { ca: this.options.ca } : {});
    session.on('error', () => session.destroy());
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    session.unref();
    this.session = session;
    return session;
  }

  private request(
    path: string,
    payload: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
    const timeoutMs = this.options.timeoutMs ?? PROVIDER_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const stream = this.connect().request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/json',
        ...headers,
      });
      let status = 0;
      let responseHeaders: http2.IncomingHttpHeaders = {};
      const answer = new BoundedAnswer(timeoutMs, () => {
        reject(new ProviderTimeoutError(`APNs did not answer within ${timeoutMs} ms`));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      const settle = answer.settle;
      const answered = () =>
        settle(() => resolve({ status, headers: responseHeaders, body: answer.body().toString('utf8') }));
      stream.on('response', (h) => {
        status = Number(h[':status']);
        responseHeaders = h;
      });
      stream.on('data', (chunk: Buffer) => {
        if (!answer.add(chunk)) return;
        answered(); // enough to classify the answer: the rest is never read
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      stream.on('end', answered);
      stream.on('error', (error) => settle(() => reject(error)));
      // A stream reset before its answer ends without 'end': the send is retried.
      stream.on('close', () =>
        settle(() => reject(new ProviderStreamClosedError(`APNs stream closed (code ${stream.rstCode})`))),
      );
      stream.end(payload);
    });
  }
}

/** The aps dictionary: alert, badge, sound, thread-id (groups the conversation in Notification Center), app data. */
export function apnsPayload(content: PushContent, body: string): Record<string, unknown> {
  return {
    aps: {
      alert: { title: content.title, body },
      badge: content.badge,
      sound: 'default',
      'thread-id': content.collapseId,
    },
    ...content.data,
  };
}

function apnsReason(body: string): string | undefined {
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
}
