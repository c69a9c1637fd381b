/**
 * A fake FCM for local mode and tests, checking requests as FCM HTTP v1 and Google's OAuth2 token endpoint do: the
 * token endpoint takes only a jwt-bearer grant whose RS256 assertion verifies with the service account's key (iss,
 * aud = token_uri, scope, exp ≤ iat + 1 h) and hands out an access token that lives `tokenLifetimeSeconds`;
 * messages:send takes only a live access token, JSON up to 4096 bytes, a `message` with a token, string-only
 * `data` and a notification. Registrations marked gone answer 404 UNREGISTERED; `throttleNext` answers 429 with
 * Retry-After. Everything accepted is recorded. As a hostile or broken server would, tokens in `held` are never
 * answered, tokens in `endless` get a 400 whose body never ends, and `holdGrants` leaves the token endpoint silent.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { type FcmServiceAccount, FCM_SCOPE } from '../../core/push-providers/fcm.js';
import { answerEndlessly, close, contained, listen, readBody, sendJson } from './http.js';

export interface FcmRecord {
  readonly token: string;
  readonly message: Record<string, unknown>;
  readonly accessToken: string;
}

export class FakeFcm {
  readonly sent: FcmRecord[] = [];
  /** Problems found in refused requests (a test asserts it stays empty). */
  readonly refused: string[] = [];
  readonly gone = new Set<string>();
  /** Tokens whose sends are never answered. */
  readonly held = new Set<string>();
  /** Tokens whose sends are answered 400 with a body that never ends. */
  readonly endless = new Set<string>();
  /** The token endpoint answers nothing while set. */
  holdGrants = false;
  grants = 0;
  private readonly accessTokens = new Map<string, number>();
  private throttles: { count: number; retryAfterSeconds: number } | undefined;

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    readonly serviceAccount: FcmServiceAccount,
    private readonly publicKey: KeyObject,
    private readonly tokenLifetimeSeconds: number,
  ) {}

  static async start(options: { port?: number; tokenLifetimeSeconds?: number } = {}): Promise<FakeFcm> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let fake: FakeFcm | undefined;
    const server = createServer(contained((req: IncomingMessage, res: ServerResponse) => fake!.handle(req, res)));
    const port = await listen(server, options.port);
    const origin = `http://127.0.0.1:${port}`;
    const serviceAccount: FcmServiceAccount = {
      project_id: 'local-project',
      client_email: 'push@local-project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      private_key_id: 'local-key',
      token_uri: `${origin}/token`,
    };
    fake = new FakeFcm(server, origin, serviceAccount, publicKey, options.tokenLifetimeSeconds ?? 3600);
    return fake;
  }

  /** The next `count` sends answer 429 with this Retry-After. */
  throttleNext(count: number, retryAfterSeconds: number): void {
    this.throttles = { count, retryAfterSeconds };
  }

  stop(): Promise<void> {
    return close(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 4096);
    if (req.method === 'POST' && req.url === '/token') return this.token(body, res);
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
    if (req.method === 'POST' && match) return this.send(match[1]!, req.headers, body, res);
    sendJson(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: 'no such method' } });
  }

  private async token(body: Buffer | 'too_large', res: ServerResponse): Promise<void> {
    if (this.holdGrants) return;
    const form = new URLSearchParams(body === 'too_large' ? '' : body.toString('utf8'));
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return this.refuse(res, 400, 'unsupported_grant_type');
    try {
      const { payload } = await jwtVerify(form.get('assertion') ?? '', this.publicKey, {
        algorithms: ['RS256'],
        issuer: this.serviceAccount.client_email,
        audience: this.serviceAccount.token_uri!,
      });
      if (payload.scope !== FCM_SCOPE) throw new Error(`scope ${String(payload.scope)}`);
      if (payload.iat === undefined || payload.exp === undefined || payload.exp - payload.iat > 3600)
        throw new Error('exp must be at most an hour after iat');
    } catch (error) {
      return this.refuse(res, 400, `invalid_grant: ${(error as Error).message}`);
    }
    const accessToken = `ya29.${randomUUID()}`;
    this.accessTokens.set(accessToken, Date.now() + this.tokenLifetimeSeconds * 1000);
    this.grants++;
    sendJson(res, 200, { access_token: accessToken, expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' });
  }

  private send(project: string, headers: IncomingHttpHeaders, body: Buffer | 'too_large', res: ServerResponse): void {
    const accessToken = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1] ?? '';
    const expiresAt = this.accessTokens.get(accessToken);
    if (expiresAt === undefined || expiresAt < Date.now()) return this.refuse(res, 401, 'UNAUTHENTICATED');
    if (project !== this.serviceAccount.project_id) return this.refuse(res, 403, 'PERMISSION_DENIED');
    if (body === 'too_large') return this.refuse(res, 400, 'INVALID_ARGUMENT: message is too big');
    if (!String(headers['content-type']).startsWith('application/json'))
      return this.refuse(res, 400, 'INVALID_ARGUMENT: content-type');
    const problem = messageProblem(body);
    if (typeof problem === 'string') return this.refuse(res, 400, `INVALID_ARGUMENT: ${problem}`);
    if (this.throttles && this.throttles.count > 0) {
      this.throttles.count--;
      return sendJson(
        res,
        429,
        { error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [fcmError('QUOTA_EXCEEDED')] } },
        { 'retry-after': String(this.throttles.retryAfterSeconds) },
      );
    }
    const token = problem.token as string;
    if (this.held.has(token)) return;
    if (this.endless.has(token)) return answerEndlessly(res, 400);
    if (this.gone.has(token))
      return sendJson(res, 404, { error: { code: 404, status: 'NOT_FOUND', details: [fcmError('UNREGISTERED')] } });
    this.sent.push({ token, message: problem, accessToken });
    sendJson(res, 200, { name: `projects/${project}/messages/${randomUUID()}` });
  }

  private refuse(res: ServerResponse, status: number, problem: string): void {
    this.refused.push(problem);
    sendJson(res, status, { error: { code: status, status: problem.split(':')[0], message: problem } });
  }
}

const fcmError = (errorCode: string) => ({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode });

/** The `message`, or what is wrong with the body. */
function messageProblem(body: Buffer): Record<string, unknown> | string {
  let parsed: { message?: Record<string, unknown> };
  try {
    parsed = JSON.parse(body.toString('utf8')) as { message?: Record<string, unknown> };
  } catch {
    return 'body is not JSON';
  }
  const message = parsed.message;
  if (typeof message !== 'object' || message === null) return 'no message';
  if (typeof message['token'] !== 'string' || message['token'] === '') return 'message.token';
  const data = message['data'] as Record<string, unknown> | undefined;
  if (data !== undefined && Object.values(data).some((v) => typeof v !== 'string'))
    return 'data values must be strings';
  const notification = message['notification'] as Record<string, unknown> | undefined;
  if (typeof notification?.['title'] !== 'string' || typeof notification['body'] !== 'string')
    return 'notification title and body';
  return message;
}
