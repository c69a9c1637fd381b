/**
 * A local API Gateway WebSocket API: one HTTP server (TLS on the same port when given a certificate) that upgrades
 * WebSocket clients after the $connect authorizer and integration accept them, invokes a route integration per
 * frame (a bounded number at once per connection), sends two-way routes' answers back, fires $disconnect when a
 * connection ends, serves the @connections management API, and enforces API Gateway's URL, frame, message, idle
 * and duration limits. Nothing a client sends can throw out of it. See docs/emulator.md for what it does as API
 * Gateway does, and what not.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Context } from 'aws-lambda';
import { WebSocketServer, type WebSocket } from 'ws';
import { runAuthorizer } from './authorizer.js';
import { LiveConnection } from './connection.js';
import { runInScope } from './containment.js';
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
import {
  describeError,
  identitySourcesPresent,
  isValidHandshake,
  proxyResponse,
  refuse,
  routeResponseBody,
} from './handshake.js';
import { newApiId, newConnectionId, newRequestId } from './ids.js';
import { AWS_LIMITS, CLOSE, type EmulatorLimits } from './limits.js';
import { forbidden, handleManagementRequest, managementPath } from './management.js';
import { CONNECT_ROUTE, DEFAULT_ROUTE_SELECTION_EXPRESSION, DISCONNECT_ROUTE, routeSelector } from './routes.js';
import { listeningServer, type Listener, type TlsCertificate } from './transport.js';
import type { AuthorizerHandler, EmulatorLogger, RouteHandler, RouteResult, WebSocketEvent } from './types.js';

export interface EmulatorOptions {
  /** Port to listen on; 0 picks a free one. @default 8787 */
  readonly port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Stage name in events and in the `/{stage}/@connections` path. @default 'local' */
  readonly stage?: string;
  /**
   * Also serve @connections without the stage, at `/@connections/{id}` (this project's local CONNECTIONS_ENDPOINT is
   * the bare `http://127.0.0.1:PORT`). AWS answers 403 there, and so does the emulator by default. Another stage
   * than `stage` answers 403 either way.
   * @default false
   */
  readonly stagelessManagementApi?: boolean;
  /** API id in events. @default - random, like `abcde12345` */
  readonly apiId?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** The $connect Lambda REQUEST authorizer; without one every upgrade reaches $connect. */
  readonly authorizer?: AuthorizerHandler;
  /**
   * The authorizer's identity sources, e.g. `['route.request.querystring.token']`: when one is missing or empty,
   * API Gateway answers 401 without invoking the authorizer. Supports `route.request.querystring.*` and
   * `route.request.header.*`.
   * @default [] (the authorizer always runs)
   */
  readonly identitySources?: readonly string[];
  /** Integrations by route key: `$connect`, `$disconnect`, `$default` and custom keys. */
  readonly routes: Readonly<Record<string, RouteHandler>>;
  /** The API's route selection expression (`$request.body.<path>` variables and literal text). @default '$request.body.action' */
  readonly routeSelectionExpression?: string;
  /**
   * Route keys with a `$default` route response (two-way communication): the integration's answer — a proxy
   * response's `body`, or a string result — is sent back to the client as a frame.
   * @default []
   */
  readonly twoWayRoutes?: readonly string[];
  /** A certificate: serve `wss://` and `https://` on the same port as `ws://` and `http://`. @default - plain only */
  readonly tls?: TlsCertificate;
  /** Overrides of API Gateway's limits (for tests). @default AWS_LIMITS */
  readonly limits?: Partial<EmulatorLimits>;
  /**
   * Answers the plain HTTP requests besides `@connections` (a page, a token endpoint): resolves true once it has
   * answered, false to leave the request to the emulator's 404. A throw answers 500.
   * @default - none: every other request is answered 404
   */
  readonly httpRoutes?: HttpRoutes;
  /** @default - console, prefixed `[emulator]` */
  readonly logger?: EmulatorLogger;
  /** Told when each route invocation ($connect, a frame's route, $disconnect) has finished (tests, tracing). */
  readonly onInvocation?: (record: InvocationRecord) => void;
}

/** A handler of the emulator's other HTTP requests; `url` is the request's, resolved against the emulator's. */
export type HttpRoutes = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;

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
  /** `ws://{host}:{port}`: the WebSocket URL (`wss://` too on the same port when a certificate was given). */
  readonly url: string;
  /** `http://{host}:{port}`: the page, and the @connections endpoint. */
  readonly httpUrl: string;
  readonly port: number;
  readonly api: ApiInfo;
  /** The limits in force. */
  readonly limits: EmulatorLimits;
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

type Invocation<T> = { ok: true; value: T } | { ok: false; timedOut: boolean; error?: unknown };

/** Starts the emulator on its port; see docs/emulator.md for what it does as API Gateway does, and what not. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const emulator = new LocalWebSocketApi(options);
  await emulator.listen();
  return emulator.facade();
}

/**
 * The emulator's state and steps: listen; per upgrade, authorize → $connect → accept; per frame, select the route
 * and invoke it; per close, $disconnect; the HTTP routes (@connections, and `httpRoutes`); stop.
 */
class LocalWebSocketApi {
  private readonly limits: EmulatorLimits;
  private readonly log: EmulatorLogger;
  private readonly host: string;
  private readonly routes: ReadonlyMap<string, RouteHandler>;
  private readonly selectRoute: (body: string) => string;
  private readonly twoWayRoutes: ReadonlySet<string>;
  private readonly live = new Map<string, LiveConnection>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly wss: WebSocketServer;
  private readonly server: Server;
  private readonly listener: Listener;
  private stopping = false;
  private api!: ApiInfo;
  private httpUrl = '';
  private wsUrl = '';

  constructor(private readonly options: EmulatorOptions) {
    this.limits = { ...AWS_LIMITS, ...options.limits };
    this.log = options.logger ?? consoleLogger;
    this.host = options.host ?? DEFAULT_HOST;
    // A Map, so a route key like `constructor` is only ever a key.
    this.routes = new Map(
      Object.entries(options.routes).filter((entry): entry is [string, RouteHandler] => typeof entry[1] === 'function'),
    );
    this.selectRoute = routeSelector(
      options.routeSelectionExpression ?? DEFAULT_ROUTE_SELECTION_EXPRESSION,
      this.routes.keys(),
    );
    this.twoWayRoutes = new Set(options.twoWayRoutes ?? []);
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
    this.server = createServer((req, res) =>
      this.track(this.handleHttp(req, res).catch((error: unknown) => this.failedHttp(res, error))),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => undefined);
      this.track(
        this.handleUpgrade(req, socket, head).catch((error: unknown) => {
          this.log.error('upgrade failed', { error: String(error) });
          refuse(socket, 500);
        }),
      );
    });
    this.listener = listeningServer(this.server, options.tls);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const { server } = this.listener;
      server.once('error', reject);
      server.listen(this.options.port ?? DEFAULT_PORT, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = this.listener.server.address();
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
      limits: this.limits,
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

  /**
   * Runs an integration with API Gateway's timeout; past it the invocation keeps running (stop() waits for it).
   * It runs in its own scope, so a stray error its code raises fails it (containment.ts).
   */
  private async invoke<T>(functionName: string, fn: (context: Context) => Promise<T>): Promise<Invocation<T>> {
    const context = lambdaContext(this.api, functionName, this.limits.integrationTimeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Invocation<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, timedOut: true }), this.limits.integrationTimeoutMs);
    });
    const run = this.track(
      runInScope(functionName, () => fn(context)).then(
        (value): Invocation<T> => ({ ok: true, value }),
        (error: unknown): Invocation<T> => ({ ok: false, timedOut: false, error }),
      ),
    );
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async invokeRoute(
    routeKey: string,
    handler: RouteHandler,
    event: WebSocketEvent,
  ): Promise<Invocation<RouteResult>> {
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

  // ---- HTTP: @connections and the others ---------------------------------------------------------------------

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseRequestUrl(req.url, this.httpUrl);
    if (!url) return void sendStatus(req, res, 400, 'Bad Request');
    const management = managementPath(url.pathname);
    if (management !== undefined) {
      const stageless = this.options.stagelessManagementApi ?? false;
      if (management.stage === undefined ? !stageless : management.stage !== this.api.stage) {
        req.resume();
        return forbidden(res);
      }
      return handleManagementRequest(req, res, management.connectionId, {
        lookup: (id) => this.live.get(id),
        maxPostBytes: this.limits.maxPostBytes,
      });
    }
    if (await this.options.httpRoutes?.(req, res, url)) return;
    sendStatus(req, res, 404, 'Not Found');
  }

  private failedHttp(res: ServerResponse, error: unknown): void {
    this.log.error('http request failed', { error: String(error) });
    if (res.destroyed || res.writableEnded) return;
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: 'Internal server error' }));
  }

  // ---- $connect: handshake, authorizer, integration, accept ---------------------------------------------------

  /** Only a 2xx from $connect completes the upgrade. */
  private async handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    if (this.stopping) return refuse(socket, 503);
    if (!isValidHandshake(req)) return refuse(socket, 400);
    if ((req.url ?? '').length > this.limits.maxUrlLength) return refuse(socket, 414, 'Request-URI Too Long');
    const url = parseRequestUrl(req.url, this.httpUrl);
    if (!url) return refuse(socket, 400);
    let socketGone = false;
    socket.once('close', () => (socketGone = true));

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

    // The client may have left while $connect ran: closed its end (unseen on a socket nobody reads), or reset it.
    if (socketGone || this.stopping || !socket.readable || !socket.writable || socket.destroyed) {
      refuse(socket, 503);
      // $connect accepted a connection that is gone already: its handlers stored it, so tell them it ended.
      this.fireDisconnect(authorized, CLOSE.abnormal, 'Client went away during $connect');
      return;
    }
    const protocol = Object.entries(responseHeaders).find(([k]) => k.toLowerCase() === 'sec-websocket-protocol')?.[1];
    if (protocol !== undefined) (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol;
    let accepted = false;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      this.accept(ws, socket, authorized);
    });
    // ws gives up without calling back when the socket died between the check above and the handshake.
    if (!accepted && socket.destroyed)
      this.fireDisconnect(authorized, CLOSE.abnormal, 'Client went away during $connect');
  }

  /** The REQUEST authorizer: the connection with its context, or undefined once the upgrade is refused. */
  private async authorize(
    socket: Socket,
    connection: ConnectionInfo,
    params: RequestParameters,
  ): Promise<ConnectionInfo | undefined> {
    const authorizer = this.options.authorizer;
    if (!authorizer) return connection;
    if (!identitySourcesPresent(this.options.identitySources ?? [], params))
      return void refuse(socket, 401, 'Unauthorized');
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
  private async runConnect(
    socket: Socket,
    connection: ConnectionInfo,
    params: RequestParameters,
  ): Promise<Record<string, string> | undefined> {
    const handler = this.routes.get(CONNECT_ROUTE);
    if (!handler) return {};
    const { connectionId } = connection;
    const result = await this.invokeRoute(CONNECT_ROUTE, handler, connectEvent(this.api, connection, params));
    if (!result.ok) {
      if (result.timedOut) {
        this.log.error('$connect timed out', { connectionId });
        return void refuse(socket, 504, 'Endpoint request timed out');
      }
      this.log.error('$connect failed', { connectionId, error: describeError(result.error) });
      return void refuse(socket, 502);
    }
    const response = proxyResponse(result.value);
    if (response === undefined) {
      this.log.error('$connect returned no statusCode; API Gateway refuses the connection', { connectionId });
      return void refuse(socket, 502);
    }
    if (response.statusCode < 200 || response.statusCode > 299)
      return void refuse(socket, response.statusCode, undefined, response.body);
    return response.headers;
  }

  private accept(ws: WebSocket, socket: Socket, info: ConnectionInfo): void {
    const connection = new LiveConnection(info, ws, socket, this.limits, {
      log: this.log,
      onMessage: (live, body, done) => this.onFrame(live, body, done),
      onClosed: (live, code, reason) => {
        this.live.delete(live.connectionId);
        this.fireDisconnect(live.info, code, reason);
      },
    });
    this.live.set(info.connectionId, connection);
  }

  // ---- Frames and $disconnect --------------------------------------------------------------------------------

  /** A frame's route invocation; `done` when it has finished (the connection bounds how many run at once). */
  private onFrame(connection: LiveConnection, body: string, done: () => void): void {
    const routeKey = this.selectRoute(body);
    const handler = this.routes.get(routeKey);
    const { connectionId } = connection;
    if (!handler) {
      // No $default route: API Gateway answers the frame itself.
      postError(connection, 'Forbidden', newRequestId());
      return done();
    }
    const event = messageEvent(this.api, connection.info, routeKey, body);
    void this.track(
      this.invokeRoute(routeKey, handler, event)
        .then((result) => {
          const requestId = event.requestContext.requestId;
          if (result.ok) return this.answerTwoWay(connection, routeKey, result.value);
          if (result.timedOut) {
            this.log.error(`${routeKey} timed out`, { connectionId });
            postError(connection, 'Endpoint request timed out', requestId);
          } else {
            this.log.error(`${routeKey} failed`, { connectionId, error: describeError(result.error) });
            postError(connection, 'Internal server error', requestId);
          }
        })
        .finally(done),
    );
  }

  /** A route with a route response sends the integration's body back (proxy integrations: `body`). */
  private answerTwoWay(connection: LiveConnection, routeKey: string, result: RouteResult): void {
    if (!this.twoWayRoutes.has(routeKey)) return;
    const body = routeResponseBody(result);
    if (body !== undefined) connection.send(Buffer.from(body));
  }

  private fireDisconnect(info: ConnectionInfo, code: number, reason: string): void {
    const handler = this.routes.get(DISCONNECT_ROUTE);
    if (!handler) return;
    const event = disconnectEvent(this.api, info, code, reason);
    void this.track(
      this.invokeRoute(DISCONNECT_ROUTE, handler, event).then((result) => {
        if (!result.ok)
          this.log.error('$disconnect failed', { connectionId: info.connectionId, error: describeError(result.error) });
      }),
    );
  }

  // ---- Lost $disconnect and stop -----------------------------------------------------------------------------

  private dropConnection(connectionId: string): boolean {
    const connection = this.live.get(connectionId);
    if (!connection) return false;
    this.live.delete(connectionId);
    connection.drop();
    return true;
  }

  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true; // new upgrades are refused with 503 from here on
    const open = [...this.live.values()];
    for (const connection of open) connection.close(CLOSE.goingAway, 'Going away');
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
      new Promise((resolve) => (bound = setTimeout(resolve, Math.min(this.limits.integrationTimeoutMs, 2 ** 31 - 1)))),
    ]);
    clearTimeout(bound);
    const closing = new Promise<void>((resolve) => this.listener.server.close(() => resolve()));
    this.listener.destroyAll();
    await closing;
    this.wss.close();
  }
}

function snapshot(c: LiveConnection): ConnectionSnapshot {
  return {
    connectionId: c.connectionId,
    connectedAt: c.info.connectedAt,
    lastActiveAt: c.lastActiveAt,
    ...(c.info.authorizer === undefined ? {} : { authorizer: c.info.authorizer }),
  };
}

/** The frame API Gateway itself sends a client when a route fails: `{"message","connectionId","requestId"}`. */
function postError(connection: LiveConnection, message: string, requestId: string): void {
  connection.send(Buffer.from(JSON.stringify({ message, connectionId: connection.connectionId, requestId })));
}

/** The request URL, or undefined when it does not parse (`//a:b` is a host with a bad port to the URL parser). */
function parseRequestUrl(raw: string | undefined, base: string): URL | undefined {
  try {
    return new URL(raw ?? '/', base);
  } catch {
    return undefined;
  }
}

function sendStatus(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  req.resume();
  const body = JSON.stringify({ message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
