/**
 * The ContentCheck port on a team's own Lambda function (the ChatBackend prop `contentCheck`), invoked synchronously
 * through Lambda's Invoke API with a SigV4-signed fetch: no Lambda client in the send bundle (docs/moderation.md
 * "Content filter"). The function answers `{"allow": true|false}`. The call is bounded: a timeout of seconds, an answer
 * of at most 4 KB, no redirect followed; an error, a timeout, a function error or an answer it cannot read counts as
 * the check failing, and the message then passes or is refused as `failOpen` says — one slow check never holds a send
 * for longer than its timeout.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SignatureV4 } from '@smithy/signature-v4';
import { ContentCheckError } from '../errors.js';
import { logger } from '../observability.js';
import type { ContentCheck, ContentCheckRequest } from '../ports/moderation.js';

/** The largest answer read from the function, in bytes. */
export const MAX_CONTENT_CHECK_ANSWER_BYTES = 4096;

export interface LambdaContentCheckOptions {
  /** The function's name or ARN. */
  readonly functionName: string;
  readonly region: string;
  readonly timeoutMs: number;
  /** True: a failed check lets the message through; false: it is refused. */
  readonly failOpen: boolean;
  /** Lambda's endpoint; tests point it at a local server. @default https://lambda.{region}.amazonaws.com */
  readonly endpoint?: string;
  /** @default the role's credentials from the environment (as on Lambda) */
  readonly credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SHA-256 (and its HMAC) from node:crypto, in the shape the signer takes. */
class NodeSha256 {
  #hash: Hash | Hmac;
  readonly #secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytes(secret);
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

export class LambdaContentCheck implements ContentCheck {
  readonly #options: LambdaContentCheckOptions;
  readonly #url: URL;
  readonly #signer: SignatureV4;

  constructor(options: LambdaContentCheckOptions) {
    this.#options = options;
    const endpoint = options.endpoint ?? `https://lambda.${options.region}.amazonaws.com`;
    this.#url = new URL(`/2015-03-31/functions/${encodeURIComponent(options.functionName)}/invocations`, endpoint);
    this.#signer = new SignatureV4({
      service: 'lambda',
      region: options.region,
      credentials: options.credentials ?? fromEnv(),
      sha256: NodeSha256,
    });
  }

  async allows(request: ContentCheckRequest): Promise<boolean> {
    try {
      return await this.#invoke(request);
    } catch (error) {
      logger.warn('content check failed', { error, failOpen: this.#options.failOpen });
      return this.#options.failOpen;
    }
  }

  async #invoke(request: ContentCheckRequest): Promise<boolean> {
    const body = JSON.stringify(request);
    const signed = await this.#signer.sign({
      method: 'POST',
      protocol: this.#url.protocol,
      hostname: this.#url.hostname,
      ...(this.#url.port ? { port: Number(this.#url.port) } : {}),
      path: this.#url.pathname,
      headers: { host: this.#url.host, 'content-type': 'application/json' },
      body,
    });
    const response = await fetch(this.#url, {
      method: 'POST',
      headers: signed.headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    const text = await readBounded(response, MAX_CONTENT_CHECK_ANSWER_BYTES);
    if (response.status !== 200) throw new ContentCheckError(`Invoke answered ${response.status}`);
    if (response.headers.get('x-amz-function-error')) throw new ContentCheckError('the content check function failed');
    const answer: unknown = JSON.parse(text);
    if (typeof answer !== 'object' || answer === null || typeof (answer as { allow?: unknown }).allow !== 'boolean')
      throw new ContentCheckError('the content check answered without a boolean "allow"');
    return (answer as { allow: boolean }).allow;
  }
}

/** The body as text, or an error past `max` bytes (the rest is not read). */
async function readBounded(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new ContentCheckError(`the content check answered more than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
