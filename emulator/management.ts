/**
 * The @connections management API on the emulator's port: POST (send one text frame), GET (connection info) and
 * DELETE (close) on `/{stage}/@connections/{connectionId}` (and, when the emulator allows it, without the stage),
 * answering as API Gateway does so the SDK v3 ApiGatewayManagementApiClient works unchanged: 410 with
 * `x-amzn-ErrorType: GoneException` for an unknown or closed connection, 413 PayloadTooLargeException over 128 KB,
 * 429 LimitExceededException while the client is not reading what was sent to it. Requests are not SigV4-verified.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** `buffer_full`: the client has not read what was sent to it so far (AWS's LimitExceededException). */
export type SendResult = 'sent' | 'gone' | 'buffer_full';

/** The emulator's view of a live connection, as far as the management API needs it. */
export interface ManagedConnection {
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  /** Queues one text message (split into frames of at most 32 KB, as AWS does); what became of it. */
  send(data: Buffer): SendResult;
  /** Closes the connection (DeleteConnection); $disconnect follows. */
  close(): void;
}

export interface ManagementOptions {
  /** Looks up a live connection; undefined once it is closing or closed. */
  readonly lookup: (connectionId: string) => ManagedConnection | undefined;
  readonly maxPostBytes: number;
}

const PATH = /^(?:\/([^/]+))?\/(?:@|%40)connections\/([^/]+)\/?$/i;

export interface ManagementPath {
  /** The path's stage; undefined for the stage-less `/@connections/{id}` of local mode. */
  readonly stage?: string;
  readonly connectionId: string;
}

/** Parses `/{stage}/@connections/{id}` (or `/@connections/{id}`); the id arrives URL-encoded (`=` as `%3D`). */
export function managementPath(pathname: string): ManagementPath | undefined {
  const match = PATH.exec(pathname);
  if (!match) return undefined;
  try {
    const connectionId = decodeURIComponent(match[2]!);
    return match[1] === undefined ? { connectionId } : { stage: decodeURIComponent(match[1]), connectionId };
  } catch {
    return undefined;
  }
}

/** API Gateway's answer to a management request for another stage (or, on AWS, for none). */
export function forbidden(res: ServerResponse): void {
  sendJson(res, 403, { message: 'Forbidden' }, 'ForbiddenException');
}

function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': crypto.randomUUID(),
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(text);
}

function gone(res: ServerResponse, connectionId: string): void {
  sendJson(res, 410, { message: `Connection ${connectionId} is gone` }, 'GoneException');
}

/**
 * Reads the body, keeping at most `limit` bytes: `too_large` past it, `aborted` when the client went away
 * mid-body (nothing to answer then).
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    }
  } catch {
    return 'aborted';
  }
  return size > limit ? 'too_large' : Buffer.concat(chunks);
}

/** Answers a management request; `connectionId` comes from managementPath. */
export async function handleManagementRequest(
  req: IncomingMessage,
  res: ServerResponse,
  connectionId: string,
  options: ManagementOptions,
): Promise<void> {
  switch (req.method) {
    case 'POST': {
      const body = await readBody(req, options.maxPostBytes);
      if (body === 'aborted') return void res.destroy();
      if (body === 'too_large') {
        sendJson(
          res,
          413,
          { message: `Message over the ${options.maxPostBytes}-byte limit` },
          'PayloadTooLargeException',
        );
        return;
      }
      const result = options.lookup(connectionId)?.send(body) ?? 'gone';
      if (result === 'gone') return gone(res, connectionId);
      if (result === 'buffer_full') return sendJson(res, 429, { message: 'Limit Exceeded' }, 'LimitExceededException');
      res.writeHead(200, { 'Content-Length': 0, 'x-amzn-RequestId': crypto.randomUUID() });
      res.end();
      return;
    }
    case 'GET': {
      req.resume();
      const connection = options.lookup(connectionId);
      if (!connection) return gone(res, connectionId);
      sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent ?? null },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      return;
    }
    case 'DELETE': {
      req.resume();
      const connection = options.lookup(connectionId);
      if (!connection) return gone(res, connectionId);
      connection.close();
      res.writeHead(204, { 'x-amzn-RequestId': crypto.randomUUID() });
      res.end();
      return;
    }
    default:
      req.resume();
      sendJson(res, 403, { message: 'Missing Authentication Token' }, 'ForbiddenException');
  }
}
