/**
 * Local mode's S3: s3rver (an S3-compatible server on the file system) on a loopback port, with the attachment
 * bucket and its CORS rule, behind a guard that does what S3 does for a private bucket and s3rver does not
 * (s3rver skips Signature V4 checks): a presigned URL is honoured only if its signature covers this very request —
 * method, key, query and the signed headers (so an upload's Content-Length and Content-Type must be the signed
 * ones) — and it has not expired; a request with no signature is refused. Requests signed in the Authorization
 * header (the handlers' own SDK calls) are passed on unchecked. Conditional writes (`If-None-Match: *`), which s3rver
 * ignores, are held to S3's rule by local/s3-conditional-writes.ts. The handlers use the same SDK code as on AWS, only
 * the endpoint differs (core/blob/s3-attachments.ts).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { ConditionalWrites } from './s3-conditional-writes.js';

export interface LocalS3Options {
  /** Folder of the objects; a temporary one, removed at stop, when omitted. */
  readonly directory?: string;
  readonly bucket: string;
  /** Secret key presigned URLs are signed with (the handlers' AWS_SECRET_ACCESS_KEY). */
  readonly secretAccessKey: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
}

export interface LocalS3 {
  /** http://host:port */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>content-type</AllowedHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'teamtalk-s3-')));
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: options.bucket, configs: [CORS] }] });
  await s3rver.configureBuckets();
  const app = s3rver.callback();
  const conditional = new ConditionalWrites(options.bucket, (bucket, key) => s3rver.store.existsObject(bucket, key));
  const server: Server = createServer((req, res) => {
    const refusal = refusalOf(req, options.secretAccessKey, Date.now());
    if (refusal) return deny(res, refusal);
    anonymize(req);
    void conditional.serve(req, res, () => app(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    stop: () =>
      (stopped ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (!options.directory) await rm(directory, { recursive: true, force: true });
      })()),
  };
}

const AUTH_QUERY = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Content-Sha256'];

/** Checked here: s3rver gets the request without its signature (it knows only its own dummy access key). */
function anonymize(req: IncomingMessage): void {
  delete req.headers.authorization;
  const [path, search] = (req.url ?? '/').split('?');
  if (search === undefined) return;
  const params = new URLSearchParams(search);
  for (const name of AUTH_QUERY) params.delete(name);
  const rest = params.toString();
  req.url = rest ? `${path}?${rest}` : path!;
}

function deny(res: ServerResponse, message: string): void {
  res.writeHead(403, { 'content-type': 'application/xml', 'access-control-allow-origin': '*' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`);
}

/** Why S3 would refuse the request, or undefined when it would serve it. */
function refusalOf(req: IncomingMessage, secretAccessKey: string, nowMs: number): string | undefined {
  if (req.method === 'OPTIONS') return undefined; // CORS preflight: s3rver answers from the bucket's CORS rule
  if (req.headers.authorization) return undefined; // the handlers' SDK calls
  const url = new URL(req.url ?? '/', 'http://local');
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'Access Denied: the bucket is private';
  const amzDate = q.get('X-Amz-Date') ?? '';
  const expires = Number(q.get('X-Amz-Expires'));
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(signedAt) || !Number.isInteger(expires) || nowMs > signedAt + expires * 1000) return 'Request has expired';
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  const [accessKeyId, ...scopeParts] = (q.get('X-Amz-Credential') ?? '').split('/');
  const scope = scopeParts.join('/');
  const [day, region, service] = scopeParts;
  if (!accessKeyId || !day || !region || !service) return 'Malformed credential';
  const rawPath = (req.url ?? '/').split('?')[0]!;
  const query = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, rawPath, query, headers, signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, toSign);
  const given = Buffer.from(q.get('X-Amz-Signature') ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'SignatureDoesNotMatch: the request is not the one the URL was signed for';
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
