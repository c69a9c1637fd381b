/**
 * S3's conditional writes, which s3rver ignores: a PUT (an upload, or a copy with `x-amz-copy-source`) carrying
 * `If-None-Match: *` is refused `412 PreconditionFailed` when the key exists, as S3 refuses it. Such writes are
 * serialized per key, so two racing ones cannot both find the key free (S3 answers the loser 412 or 409; here 412).
 * The attachments use it to store an upload once: a copy never replaces what a message references.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class ConditionalWrites {
  /** The conditional write in progress per key, which the next one waits for. */
  readonly #writing = new Map<string, Promise<void>>();

  /** @param exists whether the bucket holds the key (s3rver's store). */
  constructor(
    private readonly bucket: string,
    private readonly exists: (bucket: string, key: string) => Promise<boolean>,
  ) {}

  /** Hands the request to `forward`, unless it is a conditional write whose key exists: then answers 412 itself. */
  async serve(req: IncomingMessage, res: ServerResponse, forward: () => unknown): Promise<void> {
    const key = this.conditionalKey(req);
    if (key === undefined) return void forward();
    const before = this.#writing.get(key);
    const done = (async () => {
      await before;
      if (await this.exists(this.bucket, key)) return preconditionFailed(res, key);
      const finished = new Promise<void>((resolve) => res.once('close', resolve));
      forward();
      await finished;
    })();
    const settled = done.catch(() => undefined);
    this.#writing.set(key, settled);
    await settled;
    if (this.#writing.get(key) === settled) this.#writing.delete(key);
  }

  /** The key of a PUT with `If-None-Match: *` to the bucket (path-style), else undefined. */
  private conditionalKey(req: IncomingMessage): string | undefined {
    if (req.method !== 'PUT' || req.headers['if-none-match'] !== '*') return undefined;
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const prefix = `/${this.bucket}/`;
    return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
  }
}

function preconditionFailed(res: ServerResponse, key: string): void {
  res.writeHead(412, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Key>${key}</Key></Error>`,
  );
}
