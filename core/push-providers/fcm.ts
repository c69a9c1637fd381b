/**
 * FCM HTTP v1 (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send). Auth is an OAuth2
 * access token for the service account: a JWT signed with the account's RSA key (RS256) is exchanged at its
 * token_uri (grant type jwt-bearer, RFC 7523) for a bearer token that lives about an hour; it is kept until a minute
 * before it expires, or until FCM answers 401, so one token serves every push of a warm instance. A token FCM
 * reports as UNREGISTERED (or 404) is gone. Both calls are bounded requests (core/push-providers/http.ts): a
 * timeout, a few KB of answer, no redirect.
 */
import http from 'node:http';
import https from 'node:https';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { ProviderAuthError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { fitPayload, type PushContent } from '../domain/push-content.js';
import { boundedRequest, type BoundedResponse, isRetryableStatus, retryAfterMs } from './http.js';
import type { PushProvider, SendOutcome } from '../ports/push.js';

/** The fields of a Firebase service-account key file (the JSON the console downloads) that the sender uses. */
export interface FcmServiceAccount {
  readonly project_id: string;
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string;
  /** @default 'https://oauth2.googleapis.com/token' */
  readonly token_uri?: string;
}

export interface FcmSenderOptions {
  readonly serviceAccount: FcmServiceAccount;
  readonly clock: Clock;
  /** @default 'https://fcm.googleapis.com' (local mode: the fake) */
  readonly origin?: string;
  /** Time for one call (a send, or a token grant). @default PROVIDER_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** FCM refuses a message over 4096 bytes; keep room for the envelope FCM adds. */
export const FCM_PAYLOAD_LIMIT = 4000;
/** A cached access token is renewed this long before it expires. */
const EXPIRY_MARGIN_MS = 60_000;

export class FcmSender implements PushProvider {
  readonly name = 'fcm';
  private access: { token: string; expiresAtMs: number } | undefined;
  private key: Promise<CryptoKey> | undefined;
  /** The grant in flight: concurrent sends wait for one token instead of each asking for its own. */
  private granting: Promise<string> | undefined;
  /** Access tokens fetched so far (tests check reuse). */
  tokenGrants = 0;
  /** Keeps the connections to FCM and the token endpoint open between calls. */
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  constructor(private readonly options: FcmSenderOptions) {}

  async send(token: string, content: PushContent): Promise<SendOutcome> {
    const { project_id } = this.options.serviceAccount;
    const body = fitPayload(content, FCM_PAYLOAD_LIMIT, (text) =>
      JSON.stringify({ message: fcmMessage(token, content, text) }),
    );
    const url = new URL(`${this.origin}/v1/projects/${encodeURIComponent(project_id)}/messages:send`);
    const accessToken = await this.accessToken();
    const response = await this.post(
      url,
      { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json; charset=UTF-8' },
      body,
    );
    if (response.status >= 200 && response.status < 300) return { kind: 'sent' };
    const codes = fcmErrorCodes(response.body);
    if (response.status === 404 || codes.includes('UNREGISTERED'))
      return { kind: 'gone', reason: codes[0] ?? 'NOT_FOUND' };
    if (response.status === 401) {
      this.access = undefined; // revoked or expired early: fetch a new one on the retry
      return { kind: 'retry', reason: 'UNAUTHENTICATED', afterMs: 0 };
    }
    if (isRetryableStatus(response.status)) {
      const retryAfter = response.headers['retry-after'];
      const afterMs = retryAfterMs(typeof retryAfter === 'string' ? retryAfter : undefined, this.options.clock.now());
      return {
        kind: 'retry',
        reason: codes[0] ?? `HTTP ${response.status}`,
        ...(afterMs === undefined ? {} : { afterMs }),
      };
    }
    return { kind: 'failed', reason: codes[0] ?? `HTTP ${response.status}` };
  }

  private post(url: URL, headers: Record<string, string>, body: string): Promise<BoundedResponse> {
    const agent = url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
    return boundedRequest(url, {
      method: 'POST',
      headers,
      body,
      agent,
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
    });
  }

  private get origin(): string {
    return this.options.origin ?? 'https://fcm.googleapis.com';
  }

  /** The cached access token, or a new one when it is missing or about to expire. */
  private async accessToken(): Promise<string> {
    if (this.access && this.access.expiresAtMs - EXPIRY_MARGIN_MS > this.options.clock.now()) return this.access.token;
    this.granting ??= this.grant().finally(() => (this.granting = undefined));
    return this.granting;
  }

  private async grant(): Promise<string> {
    const now = this.options.clock.now();
    const account = this.options.serviceAccount;
    const tokenUri = account.token_uri ?? 'https://oauth2.googleapis.com/token';
    this.key ??= importPKCS8(account.private_key, 'RS256');
    const iat = Math.floor(now / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'JWT',
        ...(account.private_key_id ? { kid: account.private_key_id } : {}),
      })
      .setIssuer(account.client_email)
      .setSubject(account.client_email)
      .setAudience(tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(await this.key);
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }).toString();
    const response = await this.post(new URL(tokenUri), { 'content-type': 'application/x-www-form-urlencoded' }, form);
    if (response.status !== 200) throw new ProviderAuthError(`FCM access token refused: HTTP ${response.status}`);
    const granted = parseJson(response.body) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof granted?.access_token !== 'string' || typeof granted.expires_in !== 'number')
      throw new ProviderAuthError('FCM access token response without access_token/expires_in');
    this.tokenGrants++;
    this.access = { token: granted.access_token, expiresAtMs: now + granted.expires_in * 1000 };
    return this.access.token;
  }
}

/** The v1 `message`: a notification (title, body) with the badge and collapse key for Android, routing data. */
export function fcmMessage(token: string, content: PushContent, body: string): Record<string, unknown> {
  return {
    token,
    notification: { title: content.title, body },
    data: content.data,
    android: {
      collapse_key: content.collapseId,
      priority: 'HIGH',
      notification: { tag: content.collapseId, notification_count: content.badge },
    },
  };
}

/** The error codes of an FCM error answer (google.rpc.Status with FcmError details); none when it is not one. */
function fcmErrorCodes(body: Buffer): string[] {
  const parsed = parseJson(body) as { error?: { status?: unknown; details?: { errorCode?: unknown }[] } } | undefined;
  const details = Array.isArray(parsed?.error?.details) ? parsed.error.details : [];
  const codes = details.map((d) => d?.errorCode).filter((c): c is string => typeof c === 'string');
  return [...codes, ...(typeof parsed?.error?.status === 'string' ? [parsed.error.status] : [])];
}

/** The JSON of a (possibly cut) answer, or undefined. */
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
