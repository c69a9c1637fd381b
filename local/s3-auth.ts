/**
 * Signature V4 checks of the local S3, as S3 makes them for a private bucket (s3rver makes none): a request is
 * served only when signed with the local key pair, either in the query (a presigned URL: the very method, key,
 * query and signed headers, before X-Amz-Expires runs out) or in the Authorization header (the handlers' SDK
 * calls: the same canonical request, X-Amz-Date within S3's 15 minutes of skew). Anything else is refused, so a
 * request carrying any Authorization header no longer passes unchecked. The signature is recomputed with the SDK's
 * own signer (@smithy/signature-v4) from the request as it arrived; the payload hash is the one the client declared
 * (S3 would also hash the body against it: not done here).
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface LocalS3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** S3's RequestTimeTooSkewed window. */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** Presigned URLs live at most a week (SigV4). */
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const CONTENT_SHA256 = 'x-amz-content-sha256';

interface SignedRequest {
  readonly accessKeyId: string;
  readonly date: Date;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Why S3 would refuse the request, or undefined when it would serve it. */
export async function refusalOf(
  req: IncomingMessage,
  credentials: LocalS3Credentials,
  nowMs: number,
): Promise<string | undefined> {
  if (req.method === 'OPTIONS') return undefined; // CORS preflight: answered from the bucket's CORS rule
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const [rawPath, rawQuery] = mark < 0 ? [url, ''] : [url.slice(0, mark), url.slice(mark + 1)];
  const query = parseQuery(rawQuery);
  const presigned = query.get('X-Amz-Algorithm') !== undefined;
  const signed = presigned ? fromQuery(query) : fromHeader(req);
  if (typeof signed === 'string') return signed;
  if (signed.accessKeyId !== credentials.accessKeyId) return 'InvalidAccessKeyId: the local key is the only one';
  if (presigned) {
    const expires = Number(query.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS)
      return 'AuthorizationQueryParametersError: X-Amz-Expires';
    if (nowMs > signed.date.getTime() + expires * 1000) return 'Request has expired';
  } else if (Math.abs(nowMs - signed.date.getTime()) > MAX_SKEW_MS) {
    return 'RequestTimeTooSkewed';
  }
  const expected = await expectedSignature(req, rawPath, query, signed, credentials, presigned);
  const given = Buffer.from(signed.signature, 'hex');
  const wanted = Buffer.from(expected, 'hex');
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? undefined : 'SignatureDoesNotMatch';
}

async function expectedSignature(
  req: IncomingMessage,
  path: string,
  query: ReadonlyMap<string, string>,
  signed: SignedRequest,
  credentials: LocalS3Credentials,
  presigned: boolean,
): Promise<string> {
  const signer = new SignatureV4({
    credentials,
    region: signed.region,
    service: signed.service,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of signed.signedHeaders) headers[name] = headerValue(req, name);
  const hashSigned = signed.signedHeaders.includes(CONTENT_SHA256);
  headers[CONTENT_SHA256] = presigned && !hashSigned ? UNSIGNED_PAYLOAD : headerValue(req, CONTENT_SHA256);
  const request = {
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: headers['host'] ?? '',
    path,
    query: Object.fromEntries([...query].filter(([name]) => !(!presigned && name === 'X-Amz-Signature'))),
    headers,
  };
  const options = {
    signingDate: signed.date,
    signingRegion: signed.region,
    signingService: signed.service,
    signableHeaders: new Set(signed.signedHeaders),
    ...(hashSigned ? {} : { unsignableHeaders: new Set([CONTENT_SHA256]) }),
  };
  if (presigned) {
    const result = await signer.presign(request, {
      ...options,
      expiresIn: Number(query.get('X-Amz-Expires')),
      unhoistableHeaders: new Set([...signed.signedHeaders, CONTENT_SHA256]),
    });
    return String(result.query?.['X-Amz-Signature'] ?? '');
  }
  const result = await signer.sign(request, options);
  return /Signature=([0-9a-f]+)/.exec(String(result.headers['authorization']))?.[1] ?? '';
}

function fromQuery(query: ReadonlyMap<string, string>): SignedRequest | string {
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'Access Denied: unsupported signing algorithm';
  return parts(
    query.get('X-Amz-Credential'),
    query.get('X-Amz-Date'),
    query.get('X-Amz-SignedHeaders'),
    query.get('X-Amz-Signature'),
  );
}

function fromHeader(req: IncomingMessage): SignedRequest | string {
  const authorization = req.headers.authorization;
  if (authorization === undefined) return 'Access Denied: the bucket is private';
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
    authorization,
  );
  if (!match) return 'Access Denied: the Authorization header is not a Signature V4 one';
  return parts(match[1], headerValue(req, 'x-amz-date'), match[2], match[3]);
}

function parts(
  credential?: string,
  amzDate?: string,
  signedHeaders?: string,
  signature?: string,
): SignedRequest | string {
  const [accessKeyId, day, region, service, terminator] = (credential ?? '').split('/');
  const time = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate ?? '');
  if (!accessKeyId || !region || !service || terminator !== 'aws4_request' || !time || day !== amzDate!.slice(0, 8)) {
    return 'AuthorizationHeaderMalformed: credential or date';
  }
  if (!signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature))
    return 'AuthorizationHeaderMalformed: signed headers or signature';
  const date = new Date(Date.UTC(+time[1]!, +time[2]! - 1, +time[3]!, +time[4]!, +time[5]!, +time[6]!));
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'AuthorizationHeaderMalformed: host must be signed';
  return { accessKeyId, date, region, service, signedHeaders: names, signature };
}

/** The query as S3 reads it: `+` is a plus, not a space (URLSearchParams would say space). */
function parseQuery(raw: string): Map<string, string> {
  const query = new Map<string, string>();
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const mark = pair.indexOf('=');
    query.set(safeDecode(mark < 0 ? pair : pair.slice(0, mark)), safeDecode(mark < 0 ? '' : pair.slice(mark + 1)));
  }
  return query;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/** The SDK's hash interface over node:crypto (sha256, or HMAC-SHA256 when given a key). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error('not used by the signer');
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
