/**
 * A local API Gateway WebSocket API: one HTTP server that upgrades WebSocket clients after the $connect authorizer
 * and integration accept them, invokes a route integration per frame (concurrently, no per-connection queue),
 * fires $disconnect when a connection ends, serves the @connections management API, and enforces API Gateway's
 * frame, message, idle and duration limits. See docs/local-mode.md for where it differs from AWS.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
import { forbidden, handleManagementRequest, managementPath, type ManagedConnection } from './management.js';
import { CONNECT_ROUTE, DEFAULT_ROUTE, DISCONNECT_ROUTE, selectRoute, isPredefinedRoute } from './routes.js';
import type { AuthorizerHandler, EmulatorLogger, RouteHandler, RouteResult, WebSocketEvent } from './types.js';
import { handleWebRequest, type WebApp } from './web.js';

export interface EmulatorOptions {
  /** Port to listen on (default 8787); 0 picks a free one. */
  readonly port?: number;
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Stage name in events and in the `/{stage}/@connections` path (default `local`). */
  readonly stage?: string;
  /**
   * Also serve @connections without the stage, at `/@connections/{id}` (the contract's local CONNECTIONS_ENDPOINT
   * is the bare `http://127.0.0.1:PORT`). AWS answers 403 there, as the emulator does with false. Another stage
   * than `stage` answers 403 either way. Default true.
   */
  readonly stagelessManagementApi?: boolean;
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

/** Starts the emulator on its port; see docs/local-mode.md for what it does as API Gateway does, and what not. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const emulator = new LocalWebSocketApi(options);
  await emulator.listen();
  return emulator.facade();
}

/**
 * The emulator's state and steps: listen; per upgrade, authorize → $connect → accept; per frame, select the route
 * and invoke it; per close, $disconnect; the HTTP routes (@connections, page, token); stop.
 */
class LocalWebSocketApi {
  private readonly limits: EmulatorLimits;
  private readonly log: EmulatorLogger;
  private readonly host: string;
  private readonly routes: Readonly<Partial<Record<string, RouteHandler>>>;
  private readonly customRouteKeys: ReadonlySet<string>;
  private readonly live = new Map<string, LiveConnection>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly wss: WebSocketServer;
  private readonly server: Server;
  private stopping = false;
  private api!: ApiInfo;
  private httpUrl = '';
  private wsUrl = '';

  constructor(private readonly options: EmulatorOptions) {
    this.limits = { ...AWS_LIMITS, ...options.limits };
    this.log = options.logger ?? consoleLogger;
    this.host = options.host ?? DEFAULT_HOST;
    this.routes = options.routes;
    this.customRouteKeys = new Set(Object.keys(options.routes).filter((key) => !isPredefinedRoute(key)));
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.limits.maxMessageBytes,
      // ws 8.23 option missing from @types/ws: how long a close handshake may take before the socket is destroyed.
      ...({ closeTimeout: 5_000 } as object),
      handleProtocols: (protocols, request) => {
        const chosen = (request as IncomingMessage & { chosenProtocol?: string }).chosenProtocol;
        return chosen !== undefined && protocols.has(chosen) ? chosen : false;
      },
    });
    this.server = createServer((req, res) => {
      this.track(
        this.handleHttp(req, res).catch((error: unknown) => {
          this.log.error('http request failed', { error: String(error) });
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: 'Internal server error' }));
        }),
      );
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => undefined);
      this.track(
        this.handleUpgrade(req, socket, head).catch((error: unknown) => {
          this.log.error('upgrade failed', { error: String(error) });
          refuse(socket, 500);
        }),
      );
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? DEFAULT_PORT, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    this.api = {
      apiId: this.options.apiId ?? newApiId(),
      stage: this.options.stage ?? 'local',
      domainName: `${this.host}:${port}`,
      region: this.options.region ?? 'us-east-1',
      accountId: this.options.accountId ?? '000000000000',
    };
    this.httpUrl = `http://${this.host}:${port}`;
    this.wsUrl = `ws://${this.host}:${port}`;
  }

  facade(): Emulator {
    return {
      url: this.wsUrl,
      httpUrl: this.httpUrl,
      port: Number(new URL(this.httpUrl).port),
      api: this.api,
      connections: () => [...this.live.values()].map(snapshot),
      dropConnection: (connectionId) => this.dropConnection(connectionId),
      stop: () => this.stop(),
    };
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  // ---- Invocations -------------------------------------------------------------------------------------------

  /** Runs an integration with API Gateway's timeout; past it the invocation keeps running (stop() waits for it). */
  private async invoke<T>(functionName: string, fn: (context: Context) => Promise<T>): Promise<Invocation<T>> {
    const context = lambdaContext(this.api, functionName, this.limits.integrationTimeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Invocation<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, timedOut: true }), this.limits.integrationTimeoutMs);
    });
    const run = this.track(
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

  private async invokeRoute(routeKey: string, handler: RouteHandler, event: WebSocketEvent): Promise<Invocation<RouteResult>> {
    const started = Date.now();
    const result = await this.invoke(routeKey, (context) => handler(event, context));
    try {
      this.options.onInvocation?.({
        routeKey,
        connectionId: event.requestContext.connectionId,
        event,
        outcome: result.ok ? 'ok' : result.timedOut ? 'timeout' : 'error',
        ...(result.ok ? { result: result.value } : { error: result.error }),
        durationMs: Date.now() - started,
      });
    } catch (error) {
      this.log.error('onInvocation threw', { error: String(error) });
    }
    return result;
  }

  // ---- HTTP: @connections, page, token -----------------------------------------------------------------------

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.httpUrl);
    const management = managementPath(url.pathname);
    if (management !== undefined) {
      const stageless = this.options.stagelessManagementApi ?? true;
      if (management.stage === undefined ? !stageless : management.stage !== this.api.stage) {
        req.resume();
        return forbidden(res);
      }
      return handleManagementRequest(req, res, management.connectionId, {
        lookup: (id) => this.live.get(id),
        maxPostBytes: this.limits.maxPostBytes,
      });
    }
    if (await handleWebRequest(req, res, url, { webApp: this.options.webApp, mintToken: this.options.mintToken, wsUrl: this.wsUrl })) return;
    req.resume();
    const body = JSON.stringify({ message: 'Not Found' });
    res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  // ---- $connect: handshake, authorizer, integration, accept ---------------------------------------------------

  /** Only a 2xx from $connect completes the upgrade. */
  private async handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    if (this.stopping) return refuse(socket, 503);
    if (!isValidHandshake(req)) return refuse(socket, 400);
    let socketGone = false;
    socket.once('close', () => (socketGone = true));

    const url = new URL(req.url ?? '/', this.httpUrl);
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const userAgent = req.headers['user-agent'];
    const connection: ConnectionInfo = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      sourceIp,
      ...(userAgent === undefined ? {} : { userAgent }),
    };
    const params = requestParameters(req.rawHeaders, url.searchParams, sourceIp);

    const authorized = await this.authorize(socket, connection, params);
    if (!authorized) return;
    const responseHeaders = await this.runConnect(socket, authorized, params);
    if (!responseHeaders) return;

    if (socketGone || this.stopping) {
      // $connect accepted a connection that is gone already: its handlers stored it, so tell them it ended.
      if (!socketGone) refuse(socket, 503);
      if (this.routes[CONNECT_ROUTE]) this.fireDisconnect(authorized, CLOSE.abnormal, 'Client went away during $connect');
      return;
    }
    const protocol = Object.entries(responseHeaders).find(([k]) => k.toLowerCase() === 'sec-websocket-protocol')?.[1];
    if (protocol !== undefined) (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, authorized));
  }

  /** The REQUEST authorizer: the connection with its context, or undefined once the upgrade is refused. */
  private async authorize(socket: Socket, connection: ConnectionInfo, params: RequestParameters): Promise<ConnectionInfo | undefined> {
    const authorizer = this.options.authorizer;
    if (!authorizer) return connection;
    if (!identitySourcesPresent(this.options.identitySources ?? [], params)) return void refuse(socket, 401, 'Unauthorized');
    const event = authorizerEvent(this.api, connection, params);
    const result = await this.invoke('authorizer', (context) => runAuthorizer(authorizer, event, context));
    if (!result.ok) {
      this.log.error(result.timedOut ? 'authorizer timed out' : 'authorizer failed', { error: String(result.error) });
      return void refuse(socket, 500);
    }
    const outcome = result.value;
    if (outcome.kind === 'unauthorized') return void refuse(socket, 401, 'Unauthorized');
    if (outcome.kind === 'forbidden') return void refuse(socket, 403, 'Forbidden');
    if (outcome.kind === 'error') {
      this.log.error('authorizer configuration error', { reason: outcome.reason });
      return void refuse(socket, 500);
    }
    return { ...connection, authorizer: outcome.context };
  }

  /** The $connect integration: the headers of its 2xx answer, or undefined once the upgrade is refused. */
  private async runConnect(socket: Socket, connection: ConnectionInfo, params: RequestParameters): Promise<Record<string, string> | undefined> {
    const handler = this.routes[CONNECT_ROUTE];
    if (!handler) return {};
    const { connectionId } = connection;
    const result = await this.invokeRoute(CONNECT_ROUTE, handler, connectEvent(this.api, connection, params));
    if (!result.ok) {
      if (result.timedOut) {
        this.log.error('$connect timed out', { connectionId });
        return void refuse(socket, 504, 'Endpoint request timed out');
      }
      this.log.error('$connect failed', { connectionId, error: describe(result.error) });
      return void refuse(socket, 502);
    }
    const response = proxyResponse(result.value);
    if (response === undefined) {
      this.log.error('$connect returned no statusCode; API Gateway refuses the connection', { connectionId });
      return void refuse(socket, 502);
    }
    if (response.statusCode < 200 || response.statusCode > 299) return void refuse(socket, response.statusCode, undefined, response.body);
    return response.headers;
  }

  private accept(ws: WebSocket, socket: Socket, info: ConnectionInfo): void {
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
      close: () => this.closeConnection(connection, CLOSE.normal, ''),
    };
    this.live.set(info.connectionId, connection);
    this.watchFrames(connection, socket);
    ws.on('close', (code: number, reason: Buffer) => {
      this.live.delete(info.connectionId);
      for (const timer of connection.timers) clearTimeout(timer);
      resolveClosed();
      if (connection.suppressDisconnect) return;
      this.fireDisconnect(info, connection.closing?.code ?? code, connection.closing?.reason ?? reason.toString());
    });
    this.scheduleIdleCheck(connection, this.limits.idleTimeoutMs);
    connection.timers.push(
      setTimeout(() => this.closeConnection(connection, CLOSE.goingAway, 'Going away'), this.limits.maxConnectionDurationMs),
    );
  }

  /** Frame and message size limits, binary frames, and each text message as a route invocation. */
  private watchFrames(connection: LiveConnection, socket: Socket): void {
    const { ws, info } = connection;
    const frames = new FrameSizeMonitor(this.limits.maxFrameBytes);
    socket.prependListener('data', (chunk: Buffer) => {
      if (frames.feed(chunk)) this.closeConnection(connection, CLOSE.messageTooBig, 'Message too big');
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (connection.closing) return;
      connection.lastActiveAt = Date.now();
      if (isBinary) return this.closeConnection(connection, CLOSE.unsupportedData, 'Binary frames are not supported');
      this.onFrame(connection, rawText(data));
    });
    ws.on('error', (error) => {
      // ws closes with 1009 itself when a message is over maxPayload; $disconnect reports that code.
      if (!messageTooBig(error)) return this.log.warn('socket error', { connectionId: info.connectionId, error: error.message });
      if (connection.closing) return;
      connection.closing = { code: CLOSE.messageTooBig, reason: 'Message too big' };
      this.live.delete(info.connectionId);
    });
  }

  private scheduleIdleCheck(connection: LiveConnection, delayMs: number): void {
    const timer = setTimeout(() => {
      connection.timers = connection.timers.filter((t) => t !== timer);
      const idleFor = Date.now() - connection.lastActiveAt;
      if (idleFor >= this.limits.idleTimeoutMs) this.closeConnection(connection, CLOSE.goingAway, 'Going away');
      else this.scheduleIdleCheck(connection, this.limits.idleTimeoutMs - idleFor);
    }, delayMs);
    connection.timers.push(timer);
  }

  private closeConnection(connection: LiveConnection, code: number, reason: string): void {
    if (connection.closing) return;
    connection.closing = { code, reason };
    this.live.delete(connection.info.connectionId);
    for (const timer of connection.timers) clearTimeout(timer);
    connection.timers = [];
    connection.ws.close(code, reason);
  }

  // ---- Frames and $disconnect --------------------------------------------------------------------------------

  /** Every frame is its own invocation, started as it arrives: no per-connection queue, as on AWS. */
  private onFrame(connection: LiveConnection, body: string): void {
    const routeKey = selectRoute(body, this.customRouteKeys);
    const handler = this.routes[routeKey];
    const { connectionId } = connection.info;
    if (!handler) {
      // No $default route: API Gateway answers the frame itself.
      void postError(connection, 'Forbidden', newRequestId());
      return;
    }
    const event = messageEvent(this.api, connection.info, routeKey, body);
    void this.track(
      this.invokeRoute(routeKey, handler, event).then(async (result) => {
        if (result.ok) return;
        const requestId = event.requestContext.requestId;
        if (result.timedOut) {
          this.log.error(`${routeKey} timed out`, { connectionId });
          await postError(connection, 'Endpoint request timed out', requestId);
        } else {
          this.log.error(`${routeKey} failed`, { connectionId, error: describe(result.error) });
          await postError(connection, 'Internal server error', requestId);
        }
      }),
    );
  }

  private fireDisconnect(info: ConnectionInfo, code: number, reason: string): void {
    const handler = this.routes[DISCONNECT_ROUTE];
    if (!handler) return;
    const event = disconnectEvent(this.api, info, code, reason);
    void this.track(
      this.invokeRoute(DISCONNECT_ROUTE, handler, event).then((result) => {
        if (!result.ok) this.log.error('$disconnect failed', { connectionId: info.connectionId, error: describe(result.error) });
      }),
    );
  }

  // ---- Lost $disconnect and stop -----------------------------------------------------------------------------

  private dropConnection(connectionId: string): boolean {
    const connection = this.live.get(connectionId);
    if (!connection) return false;
    connection.suppressDisconnect = true;
    connection.closing = { code: CLOSE.abnormal, reason: '' };
    this.live.delete(connectionId);
    connection.ws.terminate();
    return true;
  }

  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true; // new upgrades are refused with 503 from here on
    const open = [...this.live.values()];
    for (const connection of open) this.closeConnection(connection, CLOSE.goingAway, 'Going away');
    await Promise.all(
      open.map(async (connection) => {
        const timer = setTimeout(() => connection.ws.terminate(), 1_000);
        await connection.closed;
        clearTimeout(timer);
      }),
    );
    // Invocations still running ($disconnects included) keep the @connections API (answering 410 now) until they
    // end; bounded so a hung handler cannot block shutdown forever.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      (async () => {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      })(),
      new Promise((resolve) => (bound = setTimeout(resolve, this.limits.integrationTimeoutMs))),
    ]);
    clearTimeout(bound);
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closing;
    this.wss.close();
  }
}

function snapshot(c: LiveConnection): ConnectionSnapshot {
  return {
    connectionId: c.info.connectionId,
    connectedAt: c.info.connectedAt,
    lastActiveAt: c.lastActiveAt,
    ...(c.info.authorizer === undefined ? {} : { authorizer: c.info.authorizer }),
  };
}

/** The frame API Gateway itself sends a client when a route fails: `{"message","connectionId","requestId"}`. */
async function postError(connection: LiveConnection, message: string, requestId: string): Promise<void> {
  const frame = JSON.stringify({ message, connectionId: connection.info.connectionId, requestId });
  await connection.send(Buffer.from(frame)).catch(() => undefined);
}

function refuse(socket: Socket, status: number, message?: string, body?: string): void {
  if (socket.destroyed) return;
  const text = body ?? JSON.stringify({ message: message ?? (status >= 500 ? 'Internal server error' : STATUS_CODES[status]) });
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
