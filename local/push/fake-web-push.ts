/**
 * A fake Web Push service (RFC 8030) for local mode and tests, checking each push as a browser vendor's service
 * does: a TTL header, Content-Encoding aes128gcm with a well-formed record header (RFC 8188: 16-byte salt, record
 * size, a 65-byte P-256 key id), a body of at most 4096 bytes, and VAPID auth (RFC 8292: `vapid t=<ES256 JWT>,
 * k=<public key>`, the JWT verifying with k, aud = this origin, exp within 24 h, sub a mailto: or https: URL).
 * `subscribe()` makes a subscription whose keys the fake holds, so it can decrypt (RFC 8291) and record what the
 * sender put in the push; a subscription made by a browser is checked the same way and recorded undecrypted.
 * Subscriptions marked gone answer 410; `throttleNext` answers 429 with Retry-After. As a hostile endpoint would,
 * a subscription in `held` is never answered, one in `endless` is answered 201 with a body that never ends, and one
 * in `redirects` is answered 307 to another URL; `hits` counts every request by path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  randomBytes,
  randomUUID,
  type ECDH,
} from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { answerEndlessly, close, contained, listen, readBody } from './http.js';

export interface WebPushRecord {
  readonly subscriptionId: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The decrypted payload, for subscriptions made by `subscribe()`. */
  readonly payload?: Record<string, unknown>;
}

interface HeldKeys {
  readonly ecdh: ECDH;
  readonly auth: Buffer;
}

export class FakeWebPush {
  readonly sent: WebPushRecord[] = [];
  readonly refused: string[] = [];
  readonly gone = new Set<string>();
  /** Subscription ids whose pushes are never answered. */
  readonly held = new Set<string>();
  /** Subscription ids whose pushes are answered with a body that never ends. */
  readonly endless = new Set<string>();
  /** Subscription id → where its pushes are redirected (307). */
  readonly redirects = new Map<string, string>();
  /** Requests by path, whatever was answered. */
  readonly hits = new Map<string, number>();
  private readonly keys = new Map<string, HeldKeys>();
  private throttles: { count: number; retryAfterSeconds: number } | undefined;

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(options: { port?: number } = {}): Promise<FakeWebPush> {
    let fake: FakeWebPush | undefined;
    const server = createServer(contained((req: IncomingMessage, res: ServerResponse) => fake!.handle(req, res)));
    fake = new FakeWebPush(server, `http://127.0.0.1:${await listen(server, options.port)}`);
    return fake;
  }

  /** A new push endpoint for a page (its keys come from the browser). */
  endpoint(): string {
    return `${this.origin}/push/${randomUUID()}`;
  }

  /** The subscription id of a PushSubscription JSON or an endpoint URL. */
  static idOf(subscriptionOrEndpoint: string): string {
    const endpoint = subscriptionOrEndpoint.startsWith('{')
      ? (JSON.parse(subscriptionOrEndpoint) as { endpoint: string }).endpoint
      : subscriptionOrEndpoint;
    return endpoint.split('/').at(-1)!;
  }

  /** A PushSubscription's JSON whose keys the fake holds (so it can decrypt what is sent to it). */
  subscribe(): string {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const endpoint = this.endpoint();
    this.keys.set(endpoint.split('/').at(-1)!, { ecdh, auth });
    return JSON.stringify({
      endpoint,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    });
  }

  throttleNext(count: number, retryAfterSeconds: number): void {
    this.throttles = { count, retryAfterSeconds };
  }

  stop(): Promise<void> {
    return close(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, problem: string) => {
      this.refused.push(problem);
      res.writeHead(status).end(problem);
    };
    this.hits.set(req.url ?? '', (this.hits.get(req.url ?? '') ?? 0) + 1);
    const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || id === undefined) return refuse(404, 'no such subscription');
    if (this.held.has(id)) return;
    if (this.endless.has(id)) return answerEndlessly(res, 201);
    const location = this.redirects.get(id);
    if (location !== undefined) return void res.writeHead(307, { location }).end();
    const body = await readBody(req, 4096);
    if (body === 'too_large') return refuse(413, 'payload over 4096 bytes');
    if (!/^\d+$/.test(String(req.headers['ttl'] ?? ''))) return refuse(400, 'TTL header missing');
    const vapidProblem = await this.vapidProblem(String(req.headers.authorization ?? ''));
    if (vapidProblem) return refuse(403, vapidProblem);
    if (body.length > 0 && req.headers['content-encoding'] !== 'aes128gcm')
      return refuse(415, 'content-encoding must be aes128gcm');
    if (body.length > 0 && (body.length < 86 + 17 || body.readUInt32BE(16) < 18 || body[20] !== 65))
      return refuse(400, 'bad aes128gcm header');
    if (this.throttles && this.throttles.count > 0) {
      this.throttles.count--;
      res.writeHead(429, { 'retry-after': String(this.throttles.retryAfterSeconds) }).end();
      return;
    }
    if (this.gone.has(id)) return void res.writeHead(410).end();
    const held = this.keys.get(id);
    let payload: Record<string, unknown> | undefined;
    if (held && body.length > 0) {
      try {
        payload = JSON.parse(decryptAes128gcm(body, held).toString('utf8')) as Record<string, unknown>;
      } catch (error) {
        return refuse(400, `payload does not decrypt: ${(error as Error).message}`);
      }
    }
    const headers = Object.fromEntries(
      ['ttl', 'urgency', 'topic', 'content-encoding'].flatMap((h) =>
        req.headers[h] ? [[h, String(req.headers[h])]] : [],
      ),
    );
    this.sent.push({ subscriptionId: id, headers, ...(payload ? { payload } : {}) });
    res.writeHead(201, { location: `${this.origin}/message/${randomUUID()}` }).end();
  }

  private async vapidProblem(authorization: string): Promise<string | undefined> {
    const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
    if (!match) return 'Authorization must be vapid t=…, k=…';
    const [, jwt, k] = match as unknown as [string, string, string];
    try {
      const raw = Buffer.from(k, 'base64url');
      if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
      const key = createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: raw.subarray(1, 33).toString('base64url'),
          y: raw.subarray(33).toString('base64url'),
        },
        format: 'jwk',
      });
      await jwtVerify(jwt, key, { algorithms: ['ES256'], audience: this.origin });
      const { exp, sub } = decodeJwt(jwt);
      if (exp === undefined || exp * 1000 > Date.now() + 24 * 3600_000) return 'VAPID exp must be within 24 hours';
      if (typeof sub !== 'string' || !/^(mailto:|https:)/.test(sub)) return 'VAPID sub must be a mailto: or https: URL';
      return undefined;
    } catch (error) {
      return `VAPID JWT refused: ${(error as Error).message}`;
    }
  }
}

/** RFC 8291 decryption with the subscription's private key and auth secret (one record: how pushes are sent). */
function decryptAes128gcm(body: Buffer, keys: HeldKeys): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const senderPublic = body.subarray(21, 21 + idLength);
  const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
  const shared = keys.ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([
    Buffer.from('WebPush: info\0'),
    keys.ecdh.getPublicKey(),
    senderPublic,
    Buffer.from([1]),
  ]);
  const ikm = hmac(hmac(keys.auth, shared), keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);
  const record = body.subarray(21 + idLength);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  const delimiter = padded.lastIndexOf(2);
  if (delimiter < 0) throw new Error('no padding delimiter');
  return padded.subarray(0, delimiter);
}
