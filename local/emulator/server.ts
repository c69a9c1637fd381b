/**
 * A local API Gateway WebSocket API: one HTTP server that upgrades WebSocket clients after the $connect authorizer
 * and integration accept them, invokes a route integration per frame (concurrently, no per-connection queue),
 * fires $disconnect when a connection ends, serves the @connections management API, and enforces API Gateway's
 * frame, message, idle and duration limits. See docs/local-mode.md for where it differs from AWS.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Context } from 'aws-lambda';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { runAuthorizer } from './authorizer.js';
import {
  authorizerEvent,
  connectEvent,
  disconnectEvent,
  lambdaContext,
  messageEvent,
  requestParameters,
  type ApiInfo,
  type ConnectionInfo,
  type RequestParameters,
} from './events.js';
import { newApiId, newConnectionId, newRequestId } from './ids.js';
import { AWS_LIMITS, CLOSE, FrameSizeMonitor, type EmulatorLimits } from './limits.js';
import { handleManagementRequest, managementConnectionId, type ManagedConnection } from './management.js';
import { CONNECT_ROUTE, DEFAULT_ROUTE, DISCONNECT_ROUTE, selectRoute, isPredefinedRoute } from './routes.js';
import type { AuthorizerHandler, EmulatorLogger, RouteHandler, RouteResult, WebSocketEvent } from './types.js';
import { handleWebRequest, type WebApp } from './web.js';

export interface EmulatorOptions {
  /** Port to listen on (default 8787); 0 picks a free one. */
  readonly port?: number;
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Stage name in events and the optional `/{stage}/@connections` path (default `local`). */
  readonly stage?: string;
  /** API id in events (default: random, like `abcde12345`). */
  readonly apiId?: string;
  readonly region?: string;
  readonly accountId?: string;
  /** The $connect Lambda REQUEST authorizer; without one every upgrade reaches $connect. */
  readonly authorizer?: AuthorizerHandler;
  /**
   * The authorizer's identity sources, e.g. `['route.request.querystring.token']`: when one is missing or empty,
   * API Gateway answers 401 without invoking the authorizer. Supports `route.request.querystring.*` and
   * `route.request.header.*`. Default: none (the authorizer always runs).
   */
  readonly identitySources?: readonly string[];
  /** Integrations by route key: `$connect`, `$disconnect`, `$default` and custom keys matched by `action`. */
  readonly routes: Readonly<Record<string, RouteHandler>>;
  /** Overrides of API Gateway's limits (for tests). */
  readonly limits?: Partial<EmulatorLimits>;
  /** Serves `GET /` and `GET /app.js`. */
  readonly webApp?: WebApp;
  /** Serves `GET /local/token?user_id=`. */
  readonly mintToken?: (userId: string) => Promise<string>;
  readonly logger?: EmulatorLogger;
  /** Told when each route invocation ($connect, a frame's route, $disconnect) has finished (tests, tracing). */
  readonly onInvocation?: (record: InvocationRecord) => void;
}

export interface InvocationRecord {
  readonly routeKey: string;
  readonly connectionId: string;
  readonly event: WebSocketEvent;
  /** `timeout`: API Gateway stopped waiting; the handler may still be running. */
  readonly outcome: 'ok' | 'error' | 'timeout';
  readonly result?: RouteResult;
  readonly error?: unknown;
  readonly durationMs: number;
}

export interface ConnectionSnapshot {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly authorizer?: Readonly<Record<string, string | number | null>>;
}

export interface Emulator {
  /** `ws://{host}:{port}`: the WebSocket URL. */
  readonly url: string;
  /** `http://{host}:{port}`: the page, and the @connections endpoint (CONNECTIONS_ENDPOINT). */
  readonly httpUrl: string;
  readonly port: number;
  readonly api: ApiInfo;
  /** Live connections (not the closing ones). */
  connections(): ConnectionSnapshot[];
  /**
   * Drops a connection the way a lost $disconnect looks on AWS: the socket is terminated and no $disconnect is
   * invoked, so the handlers only learn of it from a 410 on their next post. False when the id is not live.
   */
  dropConnection(connectionId: string): boolean;
  /** Closes every connection (1001, with $disconnect), waits for in-flight invocations, closes the server. */
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';

const consoleLogger: EmulatorLogger = {
  info: (message, details) => console.log(`[emulator] ${message}`, details ?? ''),
  warn: (message, details) => console.warn(`[emulator] ${message}`, details ?? ''),
  error: (message, details) => console.error(`[emulator] ${message}`, details ?? ''),
};

interface LiveConnection extends ManagedConnection {
  readonly info: ConnectionInfo;
  readonly ws: WebSocket;
  lastActiveAt: number;
  /** Set once the emulator decided to close it: later frames are dropped and $disconnect reports this code. */
  closing?: { readonly code: number; readonly reason: string };
  /** dropConnection(): no $disconnect. */
  suppressDisconnect: boolean;
  readonly closed: Promise<void>;
  timers: NodeJS.Timeout[];
}

type Invocation<T> = { ok: true; value: T } | { ok: false; timedOut: boolean; error?: unknown };

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const limits: EmulatorLimits = { ...AWS_LIMITS, ...options.limits };
  const log = options.logger ?? consoleLogger;
  const host = options.host ?? DEFAULT_HOST;
  const routes: Readonly<Partial<Record<string, RouteHandler>>> = options.routes;
  const customRouteKeys = new Set(Object.keys(routes).filter((key) => !isPredefinedRoute(key)));
  const live = new Map<string, LiveConnection>();
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: limits.maxMessageBytes,
    // ws 8.23 option missing from @types/ws: how long a close handshake may take before the socket is destroyed.
    ...({ closeTimeout: 5_000 } as object),
    handleProtocols: (protocols, request) => {
      const chosen = (request as IncomingMessage & { chosenProtocol?: string }).chosenProtocol;
      return chosen !== undefined && protocols.has(chosen) ? chosen : false;
    },
  });

  const server = createServer((req, res) => {
    track(handleHttp(req, res).catch((error: unknown) => {
      log.error('http request failed', { error: String(error) });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal server error' }));
    }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    track(
      handleUpgrade(req, socket, head).catch((error: unknown) => {
        log.error('upgrade failed', { error: String(error) });
        refuse(socket, 500);
      }),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const api: ApiInfo = {
    apiId: options.apiId ?? newApiId(),
    stage: options.stage ?? 'local',
    domainName: `${host}:${port}`,
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
  };
  const httpUrl = `http://${host}:${port}`;
  const wsUrl = `ws://${host}:${port}`;

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  async function invoke<T>(functionName: string, fn: (context: Context) => Promise<T>): Promise<Invocation<T>> {
    const context = lambdaContext(api, functionName, limits.integrationTimeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Invocation<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, timedOut: true }), limits.integrationTimeoutMs);
    });
    // The invocation keeps running after a timeout, like a Lambda past API Gateway's 29 s; stop() still waits for it.
    const run = track(
      (async (): Promise<Invocation<T>> => {
        try {
          return { ok: true, value: await fn(context) };
        } catch (error) {
          return { ok: false, timedOut: false, error };
        }
      })(),
    );
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function invokeRoute(routeKey: string, handler: RouteHandler, event: WebSocketEvent): Promise<Invocation<RouteResult>> {
    const started = Date.now();
    const result = await invoke(routeKey, (context) => handler(event, context));
    try {
      options.onInvocation?.({
        routeKey,
        connectionId: event.requestContext.connectionId,
        event,
        outcome: result.ok ? 'ok' : result.timedOut ? 'timeout' : 'error',
        ...(result.ok ? { result: result.value } : { error: result.error }),
        durationMs: Date.now() - started,
      });
    } catch (error) {
      log.error('onInvocation threw', { error: String(error) });
    }
    return result;
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', httpUrl);
    const connectionId = managementConnectionId(url.pathname);
    if (connectionId !== undefined) {
      await handleManagementRequest(req, res, connectionId, {
        lookup: (id) => live.get(id),
        maxPostBytes: limits.maxPostBytes,
      });
      return;
    }
    if (await handleWebRequest(req, res, url, { webApp: options.webApp, mintToken: options.mintToken, wsUrl })) return;
    req.resume();
    const body = JSON.stringify({ message: 'Not Found' });
    res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** $connect: handshake check, authorizer, integration; only a 2xx from $connect completes the upgrade. */
  async function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    if (stopping) return refuse(socket, 503);
    if (!isValidHandshake(req)) return refuse(socket, 400);
    let socketGone = false;
    socket.once('close', () => (socketGone = true));

    const url = new URL(req.url ?? '/', httpUrl);
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const userAgent = req.headers['user-agent'];
    let connection: ConnectionInfo = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      sourceIp,
      ...(userAgent === undefined ? {} : { userAgent }),
    };
    const params = requestParameters(req.rawHeaders, url.searchParams, sourceIp);

    if (options.authorizer) {
      if (!identitySourcesPresent(options.identitySources ?? [], params)) return refuse(socket, 401, 'Unauthorized');
      const authorizer = options.authorizer;
      const event = authorizerEvent(api, connection, params);
      const result = await invoke('authorizer', (context) => runAuthorizer(authorizer, event, context));
      if (!result.ok) {
        log.error(result.timedOut ? 'authorizer timed out' : 'authorizer failed', { error: String(result.error) });
        return refuse(socket, 500);
      }
      const outcome = result.value;
      if (outcome.kind === 'unauthorized') return refuse(socket, 401, 'Unauthorized');
      if (outcome.kind === 'forbidden') return refuse(socket, 403, 'Forbidden');
      if (outcome.kind === 'error') {
        log.error('authorizer configuration error', { reason: outcome.reason });
        return refuse(socket, 500);
      }
      connection = { ...connection, authorizer: outcome.context };
    }

    let responseHeaders: Record<string, string> = {};
    const connectHandler = routes[CONNECT_ROUTE];
    if (connectHandler) {
      const event = connectEvent(api, connection, params);
      const result = await invokeRoute(CONNECT_ROUTE, connectHandler, event);
      if (!result.ok) {
        if (result.timedOut) {
          log.error('$connect timed out', { connectionId: connection.connectionId });
          return refuse(socket, 504, 'Endpoint request timed out');
        }
        log.error('$connect failed', { connectionId: connection.connectionId, error: describe(result.error) });
        return refuse(socket, 502);
      }
      const response = proxyResponse(result.value);
      if (response === undefined) {
        log.error('$connect returned no statusCode; API Gateway refuses the connection', { connectionId: connection.connectionId });
        return refuse(socket, 502);
      }
      if (response.statusCode < 200 || response.statusCode > 299) return refuse(socket, response.statusCode, undefined, response.body);
      responseHeaders = response.headers;
    }

    if (socketGone || stopping) {
      // $connect accepted a connection that is gone already: its handlers stored it, so tell them it ended.
      if (!socketGone) refuse(socket, 503);
      if (connectHandler) fireDisconnect(connection, CLOSE.abnormal, 'Client went away during $connect');
      return;
    }

    const protocol = Object.entries(responseHeaders).find(([k]) => k.toLowerCase() === 'sec-websocket-protocol')?.[1];
    if (protocol !== undefined) (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol;
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket, connection));
  }

  function accept(ws: WebSocket, socket: Socket, info: ConnectionInfo): void {
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const connection: LiveConnection = {
      info,
      ws,
      connectedAt: info.connectedAt,
      lastActiveAt: Date.now(),
      sourceIp: info.sourceIp,
      ...(info.userAgent === undefined ? {} : { userAgent: info.userAgent }),
      suppressDisconnect: false,
      closed,
      timers: [],
      send: (data) =>
        new Promise<void>((resolve, reject) => {
          if (connection.closing || ws.readyState !== ws.OPEN) return reject(new Error('gone'));
          connection.lastActiveAt = Date.now();
          ws.send(data, { binary: false }, (error) => (error ? reject(error) : resolve()));
        }),
      close: () => closeConnection(connection, CLOSE.normal, ''),
    };
    live.set(info.connectionId, connection);

    const frames = new FrameSizeMonitor(limits.maxFrameBytes);
    socket.prependListener('data', (chunk: Buffer) => {
      if (frames.feed(chunk)) closeConnection(connection, CLOSE.messageTooBig, 'Message too big');
    });

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (connection.closing) return;
      connection.lastActiveAt = Date.now();
      if (isBinary) {
        closeConnection(connection, CLOSE.unsupportedData, 'Binary frames are not supported');
        return;
      }
      onFrame(connection, rawText(data));
    });
    ws.on('error', (error) => {
      // ws closes with 1009 itself when a message is over maxPayload; $disconnect reports that code.
      if (messageTooBig(error)) {
        if (!connection.closing) {
          connection.closing = { code: CLOSE.messageTooBig, reason: 'Message too big' };
          live.delete(info.connectionId);
        }
      } else {
        log.warn('socket error', { connectionId: info.connectionId, error: error.message });
      }
    });
    ws.on('close', (code: number, reason: Buffer) => {
      live.delete(info.connectionId);
      for (const timer of connection.timers) clearTimeout(timer);
      resolveClosed();
      if (connection.suppressDisconnect) return;
      fireDisconnect(info, connection.closing?.code ?? code, connection.closing?.reason ?? reason.toString());
    });

    scheduleIdleCheck(connection, limits.idleTimeoutMs);
    connection.timers.push(
      setTimeout(() => closeConnection(connection, CLOSE.goingAway, 'Going away'), limits.maxConnectionDurationMs),
    );
  }

  function scheduleIdleCheck(connection: LiveConnection, delayMs: number): void {
    const timer = setTimeout(() => {
      connection.timers = connection.timers.filter((t) => t !== timer);
      const idleFor = Date.now() - connection.lastActiveAt;
      if (idleFor >= limits.idleTimeoutMs) closeConnection(connection, CLOSE.goingAway, 'Going away');
      else scheduleIdleCheck(connection, limits.idleTimeoutMs - idleFor);
    }, delayMs);
    connection.timers.push(timer);
  }

  function closeConnection(connection: LiveConnection, code: number, reason: string): void {
    if (connection.closing) return;
    connection.closing = { code, reason };
    live.delete(connection.info.connectionId);
    for (const timer of connection.timers) clearTimeout(timer);
    connection.timers = [];
    connection.ws.close(code, reason);
  }

  function onFrame(connection: LiveConnection, body: string): void {
    const routeKey = selectRoute(body, customRouteKeys);
    const handler = routes[routeKey];
    const { connectionId } = connection.info;
    if (!handler) {
      // No $default route: API Gateway answers the frame itself.
      void postError(connection, 'Forbidden', newRequestId());
      return;
    }
    const event = messageEvent(api, connection.info, routeKey, body);
    void track(
      invokeRoute(routeKey, handler, event).then(async (result) => {
        if (result.ok) return;
        const requestId = event.requestContext.requestId;
        if (result.timedOut) {
          log.error(`${routeKey} timed out`, { connectionId });
          await postError(connection, 'Endpoint request timed out', requestId);
        } else {
          log.error(`${routeKey} failed`, { connectionId, error: describe(result.error) });
          await postError(connection, 'Internal server error', requestId);
        }
      }),
    );
  }

  /** The frame API Gateway itself sends a client when a route fails: `{"message","connectionId","requestId"}`. */
  async function postError(connection: LiveConnection, message: string, requestId: string): Promise<void> {
    const frame = JSON.stringify({ message, connectionId: connection.info.connectionId, requestId });
    await connection.send(Buffer.from(frame)).catch(() => undefined);
  }

  function fireDisconnect(info: ConnectionInfo, code: number, reason: string): void {
    const handler = routes[DISCONNECT_ROUTE];
    if (!handler) return;
    const event = disconnectEvent(api, info, code, reason);
    void track(
      invokeRoute(DISCONNECT_ROUTE, handler, event).then((result) => {
        if (!result.ok) log.error('$disconnect failed', { connectionId: info.connectionId, error: describe(result.error) });
      }),
    );
  }

  function refuse(socket: Socket, status: number, message?: string, body?: string): void {
    if (socket.destroyed) return;
    const text = body ?? JSON.stringify({ message: message ?? (status >= 500 ? 'Internal server error' : STATUS_CODES[status]) });
    const errorType =
      status === 401 ? 'UnauthorizedException' : status === 403 ? 'AccessDeniedException' : undefined;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(text)}\r\n` +
        (errorType ? `x-amzn-ErrorType: ${errorType}\r\n` : '') +
        'Connection: close\r\n\r\n' +
        text,
    );
  }

  return {
    url: wsUrl,
    httpUrl,
    port,
    api,
    connections: () =>
      [...live.values()].map((c) => ({
        connectionId: c.info.connectionId,
        connectedAt: c.info.connectedAt,
        lastActiveAt: c.lastActiveAt,
        ...(c.info.authorizer === undefined ? {} : { authorizer: c.info.authorizer }),
      })),
    dropConnection: (connectionId) => {
      const connection = live.get(connectionId);
      if (!connection) return false;
      connection.suppressDisconnect = true;
      connection.closing = { code: CLOSE.abnormal, reason: '' };
      live.delete(connectionId);
      connection.ws.terminate();
      return true;
    },
    stop: async () => {
      if (stopping) return;
      stopping = true; // new upgrades are refused with 503 from here on
      const open = [...live.values()];
      for (const connection of open) closeConnection(connection, CLOSE.goingAway, 'Going away');
      await Promise.all(
        open.map(async (connection) => {
          const timer = setTimeout(() => connection.ws.terminate(), 1_000);
          await connection.closed;
          clearTimeout(timer);
        }),
      );
      // Invocations still running ($disconnects included) keep the @connections API (answering 410 now) until
      // they end; bounded so a hung handler cannot block shutdown forever.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        (async () => {
          while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        })(),
        new Promise((resolve) => (bound = setTimeout(resolve, limits.integrationTimeoutMs))),
      ]);
      clearTimeout(bound);
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      wss.close();
    },
  };
}

function isValidHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8')
  );
}

function identitySourcesPresent(sources: readonly string[], params: RequestParameters): boolean {
  return sources.every((source) => {
    const query = /^route\.request\.querystring\.(.+)$/.exec(source);
    if (query) return !!params.queryStringParameters?.[query[1]!];
    const header = /^route\.request\.header\.(.+)$/.exec(source);
    if (header) {
      const name = header[1]!.toLowerCase();
      return Object.entries(params.headers).some(([k, v]) => k.toLowerCase() === name && v !== '');
    }
    return true;
  });
}

/** A Lambda proxy response's status and headers; undefined when it has no numeric statusCode. */
function proxyResponse(result: RouteResult): { statusCode: number; headers: Record<string, string>; body?: string } | undefined {
  if (!result || typeof result !== 'object' || typeof result.statusCode !== 'number') return undefined;
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { statusCode: result.statusCode, headers, ...(result.body === undefined ? {} : { body: result.body }) };
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function messageTooBig(error: Error): boolean {
  return (error as Error & { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export type { WebSocketEvent };
export { DEFAULT_ROUTE, CONNECT_ROUTE, DISCONNECT_ROUTE };
