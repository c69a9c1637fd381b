/** Small helpers the fake push providers share: read a body with a cap, answer JSON, listen on a free port. */
import type { Server, ServerResponse } from 'node:http';
import type { Http2SecureServer } from 'node:http2';

/** Reads a request body, giving up past `max` bytes (a provider refuses larger ones without reading them). */
export async function readBody(req: AsyncIterable<Buffer | string>, max: number): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > max) return 'too_large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Listens on 127.0.0.1 (port 0 picks a free one) and returns the port. */
export async function listen(server: Server | Http2SecureServer, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake push provider has no port');
  return address.port;
}

export function close(server: Server | Http2SecureServer): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}
