/**
 * A fake APNs for local mode and tests: HTTP/2 over TLS with a certificate generated at start (selfsigned; nothing
 * committed), checking each request as APNs does — POST /3/device/<hex token>, a provider token (ES256 JWT, kid = the
 * key id, iss = the team id, iat within the last hour) verified with the key's public half, apns-push-type alert,
 * apns-topic = the bundle id, an apns-collapse-id of at most 64 bytes, a JSON payload of at most 4096 bytes with an
 * `aps` dictionary. Tokens marked gone answer 410 Unregistered; a token that is not hex answers 400 BadDeviceToken;
 * `throttleNext` answers 429 TooManyRequests. Everything accepted is recorded. As a broken server would, tokens in
 * `held` are never answered and tokens in `endless` get a 400 whose body never ends.
 */
import http2 from 'node:http2';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import selfsigned from 'selfsigned';
import { answerEndlessly, close, contained, listen, readBody } from './http.js';

export interface ApnsRecord {
  readonly token: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Record<string, unknown>;
  readonly jwt: string;
}

export const FAKE_APNS = { keyId: 'LOCALKEY01', teamId: 'LOCALTEAM1', bundleId: 'com.example.teamtalk' } as const;

export class FakeApns {
  readonly sent: ApnsRecord[] = [];
  readonly refused: string[] = [];
  readonly gone = new Set<string>();
  /** Device tokens whose pushes are never answered. */
  readonly held = new Set<string>();
  /** Device tokens whose pushes are answered 400 with a body that never ends. */
  readonly endless = new Set<string>();
  /** Distinct provider tokens seen. */
  readonly providerTokens = new Set<string>();
  private throttles = 0;

  private constructor(
    private readonly server: http2.Http2SecureServer,
    readonly origin: string,
    /** The fake's certificate: the sender trusts it as its CA. */
    readonly ca: string,
    /** The .p8 key (PKCS #8 PEM) the sender signs with. */
    readonly privateKey: string,
    private readonly publicKey: KeyObject,
  ) {}

  static async start(options: { port?: number } = {}): Promise<FakeApns> {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let fake: FakeApns | undefined;
    const server = http2.createSecureServer(
      { key: pems.private, cert: pems.cert },
      contained((req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => fake!.handle(req, res)),
    );
    const port = await listen(server, options.port);
    fake = new FakeApns(
      server,
      `https://127.0.0.1:${port}`,
      pems.cert,
      signing.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      signing.publicKey,
    );
    return fake;
  }

  throttleNext(count: number): void {
    this.throttles = count;
  }

  stop(): Promise<void> {
    return close(this.server);
  }

  private async handle(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): Promise<void> {
    const answer = (status: number, reason?: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'apns-id': randomUUID(),
        ...headers,
        ...(reason ? { 'content-type': 'application/json' } : {}),
      });
      res.end(reason ? JSON.stringify(status === 410 ? { reason, timestamp: Date.now() } : { reason }) : '');
    };
    const refuse = (status: number, reason: string) => {
      this.refused.push(reason);
      answer(status, reason);
    };
    const token = /^\/3\/device\/([^/]+)$/.exec(req.url)?.[1];
    if (req.method !== 'POST' || token === undefined) return refuse(405, 'MethodNotAllowed');
    const body = await readBody(req, 4096);
    if (body === 'too_large') return refuse(413, 'PayloadTooLarge');
    const jwt = /^bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!jwt) return refuse(403, 'MissingProviderToken');
    const authProblem = await this.verifyProviderToken(jwt);
    if (authProblem) return refuse(403, authProblem);
    if (req.headers['apns-push-type'] !== 'alert') return refuse(400, 'InvalidPushType');
    if (req.headers['apns-topic'] !== FAKE_APNS.bundleId) return refuse(400, 'TopicDisallowed');
    const collapseId = req.headers['apns-collapse-id'];
    if (typeof collapseId === 'string' && Buffer.byteLength(collapseId) > 64) return refuse(400, 'BadCollapseId');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (typeof payload['aps'] !== 'object' || payload['aps'] === null) throw new Error();
    } catch {
      return refuse(400, 'PayloadEmpty');
    }
    if (this.throttles > 0) {
      this.throttles--;
      return answer(429, 'TooManyRequests');
    }
    if (this.held.has(token)) return;
    if (this.endless.has(token)) return answerEndlessly(res, 400);
    if (!/^[0-9a-f]{64}$/i.test(token)) return answer(400, 'BadDeviceToken');
    if (this.gone.has(token)) return answer(410, 'Unregistered');
    this.providerTokens.add(jwt);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k, v]) => k.startsWith('apns-') && typeof v === 'string'),
    ) as Record<string, string>;
    this.sent.push({ token, headers, payload, jwt });
    answer(200);
  }

  /** What APNs would say about a provider token, or undefined when it is good. */
  private async verifyProviderToken(jwt: string): Promise<string | undefined> {
    try {
      if (decodeProtectedHeader(jwt).kid !== FAKE_APNS.keyId) return 'InvalidProviderToken';
      const { payload } = await jwtVerify(jwt, this.publicKey, { algorithms: ['ES256'], issuer: FAKE_APNS.teamId });
      if (payload.iat === undefined) return 'InvalidProviderToken';
      if (payload.iat * 1000 < Date.now() - 3600_000) return 'ExpiredProviderToken';
      return undefined;
    } catch {
      return 'InvalidProviderToken';
    }
  }
}
