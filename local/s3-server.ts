/**
 * Local mode's S3: s3rver (an S3-compatible server on the file system) on a loopback port, with the attachment
 * bucket and its CORS rule, behind a guard that does what S3 does for a private bucket and s3rver does not: every
 * request must carry a Signature V4 made with the local key pair, in the query (a presigned URL, honoured only for
 * the very request it was signed for and before it expires) or in the Authorization header (the handlers' SDK
 * calls); anything else is refused 403 (local/s3-auth.ts). Conditional writes (`If-None-Match: *`), which s3rver
 * ignores, are held to S3's rule by local/s3-conditional-writes.ts. The handlers use the same SDK code as on AWS, only the
 * endpoint differs (core/blob/s3-attachments.ts). No request, however malformed or cut short, ends the process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { janitor } from 'teamtalk-local';
import { ConditionalWrites } from './s3-conditional-writes.js';
import { refusalOf } from './s3-auth.js';

export interface LocalS3Options {
  /** Folder of the objects; a temporary one, removed at stop, when omitted. */
  readonly directory?: string;
  readonly bucket: string;
  /** The key pair requests are signed with (the handlers' AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). */
  readonly accessKeyId: string;
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
  // A temporary folder outlives a process killed before stop(): the janitor removes it then.
  if (!options.directory) janitor.watchFolder(directory);
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: options.bucket, configs: [CORS] }] });
  await s3rver.configureBuckets();
  const app = s3rver.callback();
  const conditional = new ConditionalWrites(options.bucket, (bucket, key) => s3rver.store.existsObject(bucket, key));
  const credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const refusal = await refusalOf(req, credentials, Date.now());
      if (refusal) return deny(req, res, refusal);
      anonymize(req);
      await conditional.serve(req, res, () => app(req, res));
    })().catch(() => {
      // A malformed request the guard or s3rver could not take: answer if still possible, never throw.
      if (!res.headersSent && !res.destroyed) deny(req, res, 'InvalidRequest', 400);
      else res.destroy();
    });
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
        if (!options.directory) {
          await rm(directory, { recursive: true, force: true });
          janitor.forgetFolder(directory);
        }
      })()),
  };
}

const AUTH_QUERY = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Content-Sha256',
];

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

function deny(req: IncomingMessage, res: ServerResponse, message: string, status = 403): void {
  req.resume();
  res.writeHead(status, { 'content-type': 'application/xml', 'access-control-allow-origin': '*' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`,
  );
}
