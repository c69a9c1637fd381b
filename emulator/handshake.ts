/** The pieces of a WebSocket upgrade the emulator checks and answers before $connect decides. */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestParameters } from './events.js';
import type { RouteResult } from './types.js';

/** Answers the upgrade with an HTTP status (and API Gateway's JSON body) and closes the socket. */
export function refuse(socket: Socket, status: number, message?: string, body?: string): void {
  if (socket.destroyed) return;
  const text =
    body ?? JSON.stringify({ message: message ?? (status >= 500 ? 'Internal server error' : STATUS_CODES[status]) });
  const errorType = status === 401 ? 'UnauthorizedException' : status === 403 ? 'AccessDeniedException' : undefined;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      (errorType ? `x-amzn-ErrorType: ${errorType}\r\n` : '') +
      'Connection: close\r\n\r\n' +
      text,
  );
}

export function isValidHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8')
  );
}

/** False when an identity source (`route.request.querystring.*`, `route.request.header.*`) is missing or empty. */
export function identitySourcesPresent(sources: readonly string[], params: RequestParameters): boolean {
  return sources.every((source) => {
    const query = /^route\.request\.querystring\.(.+)$/.exec(source);
    if (query) {
      const values = params.queryStringParameters ?? {};
      return Object.hasOwn(values, query[1]!) && values[query[1]!] !== '';
    }
    const header = /^route\.request\.header\.(.+)$/.exec(source);
    if (header) {
      const name = header[1]!.toLowerCase();
      return Object.entries(params.headers).some(([k, v]) => k.toLowerCase() === name && v !== '');
    }
    return true;
  });
}

/** A Lambda proxy response's status and headers; undefined when it has no numeric statusCode. */
export function proxyResponse(
  result: RouteResult,
): { statusCode: number; headers: Record<string, string>; body?: string } | undefined {
  if (!result || typeof result !== 'object' || typeof result.statusCode !== 'number') return undefined;
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { statusCode: result.statusCode, headers, ...(typeof result.body === 'string' ? { body: result.body } : {}) };
}

/**
 * What a two-way route sends back: the proxy response's body, or a string result as is. Nothing for a result
 * without a body.
 */
export function routeResponseBody(result: RouteResult): string | undefined {
  if (typeof result === 'string') return result;
  if (result && typeof result === 'object' && typeof result.body === 'string') return result.body;
  return undefined;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
