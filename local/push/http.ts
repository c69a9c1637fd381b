/**
 * Small helpers the fake push providers share: read a body with a cap, answer JSON or (as a hostile endpoint would)
 * an answer that never ends, listen on a free port, and keep
 * a request's failure (an aborted upload, an HTTP/2 stream reset mid-body) to that request.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';

/**
 * Runs a fake's async request handler so that nothing it throws or rejects escapes to the process: the request
 * gets a 500 if it can still be answered, else its stream is destroyed.
 */
export function contained<Req, Res extends ServerResponse | Http2ServerResponse>(
  handle: (req: Req, res: Res) => Promise<void>,
): (req: Req, res: Res) => void {
  return (req, res) => {
    handle(req, res).catch(() => {
      try {
        if (!res.headersSent && !res.writableEnded) res.writeHead(500).end();
        else res.destroy();
      } catch {
        // The stream is gone already.
      }
    });
  };
}

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

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Answers `status` with a body that never ends (a JSON object opened and then blanks, 64 KiB a write, as fast as the
 * client reads): a sender that reads the whole answer never returns. Ends when the client goes away.
 */
export function answerEndlessly(res: ServerResponse | Http2ServerResponse, status: number): void {
  res.on('error', () => undefined);
  res.writeHead(status, { 'content-type': 'application/json' });
  const blanks = Buffer.alloc(64 * 1024, 0x20);
  const pump = (): void => {
    while (!res.destroyed && !res.writableEnded && (res as ServerResponse).write(blanks));
  };
  res.on('drain', pump);
  (res as ServerResponse).write('{"error":');
  pump();
}

/** Open connections of each HTTP/2 server, destroyed at close (a client's open session would hold close() forever). */
const connections = new WeakMap<Http2SecureServer, Set<Socket>>();

/** Listens on 127.0.0.1 (port 0 picks a free one) and returns the port. */
export async function listen(server: Server | Http2SecureServer, port = 0): Promise<number> {
  if (!('closeAllConnections' in server)) {
    const open = new Set<Socket>();
    connections.set(server, open);
    server.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
  }
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
    else for (const socket of connections.get(server) ?? []) socket.destroy();
    server.close(() => resolve());
  });
}
