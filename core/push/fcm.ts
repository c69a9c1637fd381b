/**
 * FCM HTTP v1 (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send). Auth is an OAuth2
 * access token for the service account: a JWT signed with the account's RSA key (RS256) is exchanged at its
 * token_uri (grant type jwt-bearer, RFC 7523) for a bearer token that lives about an hour; it is kept until a minute
 * before it expires, or until FCM answers 401, so one token serves every push of a warm instance. A token FCM
 * reports as UNREGISTERED (or 404) is gone.
 */
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import type { Clock } from '../ports.js';
import { fitPayload, type PushContent } from './content.js';
import { isRetryableStatus, retryAfterMs, type PushProvider, type SendOutcome } from './provider.js';

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

  constructor(private readonly options: FcmSenderOptions) {}

  async send(token: string, content: PushContent): Promise<SendOutcome> {
    const { project_id } = this.options.serviceAccount;
    const body = fitPayload(content, FCM_PAYLOAD_LIMIT, (text) => JSON.stringify({ message: fcmMessage(token, content, text) }));
    const response = await fetch(`${this.origin}/v1/projects/${encodeURIComponent(project_id)}/messages:send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.accessToken()}`, 'content-type': 'application/json; charset=UTF-8' },
      body,
    });
    if (response.ok) return { kind: 'sent' };
    const error = await fcmError(response);
    if (response.status === 404 || error.codes.includes('UNREGISTERED')) return { kind: 'gone', reason: error.codes[0] ?? 'NOT_FOUND' };
    if (response.status === 401) {
      this.access = undefined; // revoked or expired early: fetch a new one on the retry
      return { kind: 'retry', reason: 'UNAUTHENTICATED', afterMs: 0 };
    }
    if (isRetryableStatus(response.status)) {
      const afterMs = retryAfterMs(response.headers.get('retry-after'), this.options.clock.now());
      return { kind: 'retry', reason: error.codes[0] ?? `HTTP ${response.status}`, ...(afterMs === undefined ? {} : { afterMs }) };
    }
    return { kind: 'failed', reason: error.codes[0] ?? `HTTP ${response.status}` };
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
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) })
      .setIssuer(account.client_email)
      .setSubject(account.client_email)
      .setAudience(tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(await this.key);
    const response = await fetch(tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
    });
    if (!response.ok) throw new Error(`FCM access token refused: HTTP ${response.status}`);
    const granted = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof granted.access_token !== 'string' || typeof granted.expires_in !== 'number') throw new Error('FCM access token response without access_token/expires_in');
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

/** The error codes of an FCM error response (google.rpc.Status with FcmError details). */
async function fcmError(response: Response): Promise<{ codes: string[] }> {
  try {
    const body = (await response.json()) as { error?: { status?: string; details?: { errorCode?: string }[] } };
    const details = (body.error?.details ?? []).map((d) => d.errorCode).filter((c): c is string => typeof c === 'string');
    return { codes: [...details, ...(body.error?.status ? [body.error.status] : [])] };
  } catch {
    return { codes: [] };
  }
}
