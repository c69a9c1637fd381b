/**
 * The whole stack on one machine, the one bootstrap of `npm start`, the end-to-end tests, the benchmark and the
 * chaos run: DynamoDB Local (or a given endpoint) with the tables of core/store/schema.ts, the very Lambda handlers
 * of lambdas/ each on the ports its own entry composes (lambdas/route-handlers.ts: each function its own clients)
 * with its DynamoDB and S3 clients held to the function's grant in lib/grants.ts (local/iam-guard.ts,
 * local/s3-grant-guard.ts), the API Gateway WebSocket emulator in front of them, and the sweeper on a short
 * interval. The chaos run's faults come in through two hooks: `wrapPorts` and `aroundInvocation`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import webpush from 'web-push';
import {
  DEFAULT_PORT,
  LOCAL_AWS_ENV,
  startDynamoDbLocal,
  startEmulator,
  type DynamoDbLocal,
  type Emulator,
  type EmulatorLimits,
  type EmulatorLogger,
  type InvocationRecord,
  type RouteHandler,
} from 'teamtalk-local';
import { createTokenVerifier } from '../core/auth/verify-token.js';
import { ENV } from '../core/config.js';
import {
  adaptersFrom,
  DYNAMODB_ENDPOINT_ENV,
  S3_ENDPOINT_ENV,
  type Adapters,
  type RuntimeOptions,
} from '../core/compose/adapters.js';
import { type FunctionId, ROUTES } from '../core/routes.js';
import { EXPORT_READY_DETAIL_TYPE } from '../core/domain/push.js';
import { createRuntime, type Runtime } from '../core/runtime.js';
import { createTables, tableEnv } from '../core/store/create-tables.js';
import type { TableId } from '../core/store/schema.js';
import type { ExportJobPorts } from '../core/usecases/account-export.js';
import type { SweepPorts } from '../core/usecases/sweep.js';
import type { WebSocketEvent as HandlerEvent, WebSocketResult } from '../core/websocket-event.js';
import { createAuthorizerHandler } from '../lambdas/authorizer/handler.js';
import { pushSenderHandlerPorts, type PushSenderHandlerPorts } from '../lambdas/push-sender/handler.js';
import {
  ROUTE_FUNCTIONS,
  type RouteFunction,
  type RouteFunctionId,
  type RouteFunctionPorts,
  type RouteHandler as FunctionHandler,
} from '../lambdas/route-handlers.js';
import { createExportsHandler, exportsHandlerPorts } from '../lambdas/exports/handler.js';
import { createSweeperHandler, sweeperHandlerPorts } from '../lambdas/sweeper/handler.js';
import { LocalModerationBus } from './moderation-bus.js';
import { accountJobsHandlerPorts, createAccountJobsHandler } from '../lambdas/account-jobs/handler.js';
import type { AccountDeletionPorts } from '../core/usecases/account-deletion.js';
import { LocalDeletionJobs } from './deletion-jobs.js';
import { LocalPresenceChecks } from './presence-checks.js';
import { createPresenceJobsHandler, presenceJobsHandlerPorts } from '../lambdas/presence-jobs/handler.js';
import type { PresenceAnnouncePorts } from '../core/usecases/presence.js';
import { DEFAULT_JWT_SECRET, mintToken, type MintOptions } from './token.js';
import { webRoutes, type WebApp } from './web-routes.js';
import { IamGuard } from './iam-guard.js';
import { startLocalPush, type LocalPush, type LocalPushOptions } from './push/local-push.js';
import { S3GrantGuard } from './s3-grant-guard.js';
import { startLocalS3 } from './s3-server.js';

export interface LocalStackOptions {
  /** Port of the WebSocket API, the @connections API and the page (default 8787); 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /** Use this DynamoDB endpoint (e.g. the tests' shared DynamoDB Local) instead of starting DynamoDB Local. */
  readonly dynamoEndpoint?: string;
  /** Folder DynamoDB Local keeps its data in; in memory when omitted. Ignored with dynamoEndpoint. */
  readonly dbPath?: string;
  /** Prefix of the table names (default none). */
  readonly tablePrefix?: string;
  /** HS256 secret tokens are verified with (default `local-dev-secret`). */
  readonly jwtSecret?: string;
  /** ACK_TIMEOUT_MS of the handlers (default theirs: 15 s). */
  readonly ackTimeoutMs?: number;
  /** How often the sweeper runs, and SWEEP_INTERVAL_MS of the handlers (default 1000). */
  readonly sweepIntervalMs?: number;
  /** MAX_MSG_BYTES of the handlers (default theirs: 4096). */
  readonly maxMsgBytes?: number;
  /** More environment for the handlers (RATE_LIMIT_PER_SECOND, MAX_DELIVERY_ATTEMPTS, ...); wins over the above. */
  readonly env?: Readonly<Record<string, string>>;
  /** Options of the handlers' runtime (e.g. a CapacityMeter that counts DynamoDB units, for benchmarks). */
  readonly runtimeOptions?: RuntimeOptions;
  /** API Gateway limits of the emulator (for tests). */
  readonly limits?: Partial<EmulatorLimits>;
  /** The chat page served at `/`. */
  readonly webApp?: WebApp;
  readonly logger?: EmulatorLogger;
  /** Told when each route invocation has finished (see EmulatorOptions.onInvocation). */
  readonly onInvocation?: (record: InvocationRecord) => void;
  /** Runs the push sender against fake FCM, APNs and Web Push services (local/push/). @default false (npm start: on) */
  readonly push?: boolean | LocalPushOptions;
  /** Folder the local S3 (attachments) keeps its objects in; a temporary one, removed at stop, when omitted. */
  readonly s3Path?: string;
  /**
   * Changes each route function's and the sweeper's ports once composed, before its handler is built on them (the
   * chaos run puts faults and crashes in every port); gets the emulator, whose connections a fault may drop.
   */
  readonly wrapPorts?: PortsWrapper;
  /** Runs every route and sweeper invocation (the chaos run: each inside a crash scope). */
  readonly aroundInvocation?: InvocationWrapper;
}

export type PortsWrapper = <P extends object>(functionId: HandlerFunctionId, ports: P, emulator: Emulator) => P;

/** `name` is the route key, or `sweeper`; `connectionId` the route's connection. */
export type InvocationWrapper = <T>(
  name: string,
  connectionId: string | undefined,
  invoke: () => Promise<T>,
) => Promise<T>;

/** Each function's ports, as its handler got them. */
export type FunctionPorts = { readonly [F in RouteFunctionId]: RouteFunctionPorts<F> } & {
  readonly sweeper: SweepPorts;
  readonly exports: ExportJobPorts;
  readonly 'account-jobs': AccountDeletionPorts;
  readonly 'presence-jobs': PresenceAnnouncePorts;
};

export interface LocalStack {
  /** ws://host:port */
  readonly url: string;
  /** http://host:port: the page, and the @connections endpoint. */
  readonly httpUrl: string;
  readonly port: number;
  readonly jwtSecret: string;
  readonly dynamoEndpoint: string;
  /** The local S3 (local/s3-server.ts) holding the attachment bucket. */
  readonly s3Endpoint: string;
  readonly attachmentBucket: string;
  readonly tables: Readonly<Record<TableId, string>>;
  /** The environment the handlers' runtimes were built from. */
  readonly env: Readonly<Record<string, string>>;
  /** Every port on the same tables with no grant enforced: for tests and tools (set-up, reads), not a function's. */
  readonly runtime: Runtime;
  /** Each function's ports, its DynamoDB client held to the function's grant in lib/grants.ts. */
  readonly runtimes: FunctionPorts;
  /** Local IAM: every DynamoDB call a function made outside its grant (each was refused with AccessDeniedException). */
  readonly iamGuard: IamGuard;
  /** Local IAM of the attachment bucket: every S3 call a function made outside its grant (each was refused with 403). */
  readonly s3Guard: S3GrantGuard;
  readonly emulator: Emulator;
  /** The push sender and its fake providers, when `push` is on. */
  readonly push?: LocalPush;
  /** Report events, export-ready notices, and the export worker run in-process. */
  readonly moderation: LocalModerationBus;
  /** The account deletion queue, run in process (local/deletion-jobs.ts), and its `Account Deleted` record. */
  readonly deletionJobs: LocalDeletionJobs;
  /** The presence checks queue, run in process with timers (local/presence-checks.ts): tests flush the hold-back. */
  readonly presenceChecks: LocalPresenceChecks;
  /** An HS256 token for the user, signed with jwtSecret (24 h unless ttlSeconds says otherwise). */
  mintToken(userId: string, options?: MintOptions): Promise<string>;
  /** DynamoDB Local, when this stack started it (not with `dynamoEndpoint`). */
  readonly database?: DynamoDbLocal;
  /** Sweeps completed so far. */
  sweepCount(): number;
  /** Resolves when a sweep that started after this call has completed. */
  nextSweep(): Promise<void>;
  /**
   * Stops in order: the emulator (every connection closed, their $disconnects and all other handlers drained),
   * the sweeper, push, the local S3, then DynamoDB Local if it was started here.
   */
  stop(): Promise<void>;
}

/** The attachment bucket's name in local mode. */
export const LOCAL_ATTACHMENT_BUCKET = 'attachments';

/** Where local mode's defaults differ from core/config.ts's (AWS's): the sweeper runs every second, not minute. */
export const LOCAL_DEFAULTS = { sweepIntervalMs: 1_000 } as const;

/** The functions with ports: all but the authorizer, which only verifies tokens. */
export type HandlerFunctionId = Exclude<FunctionId, 'authorizer'>;

/** The core handlers take API Gateway's event typed by @types/aws-lambda; the emulator's type is AWS's real shape. */
function route(handler: (event: HandlerEvent) => Promise<WebSocketResult>): RouteHandler {
  return (event) => handler(event as unknown as HandlerEvent);
}

/**
 * Emulator, tables, local S3, runtimes, push fakes and sweeper, each step registering its cleanup before the next
 * starts, so a failure anywhere stops what had started. The emulator comes first: a port in use is reported before
 * DynamoDB Local spends seconds starting, and the routes wait until the handlers exist. One sequence read in order
 * (long for that reason).
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  // Stopped first: clients, then the handlers drained, so every $disconnect runs against a live database.
  const front: (() => Promise<void>)[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of [...front.splice(0), ...cleanups.splice(0).reverse()]) await step().catch(() => undefined);
  };
  // The handlers need CONNECTIONS_ENDPOINT, which is known once the emulator listens (port 0 picks one):
  // the routes wait for them, and a failed start fails the upgrades that were waiting.
  let resolveRoutes!: (routes: Record<string, RouteHandler>) => void;
  let rejectRoutes!: (error: unknown) => void;
  const routesReady = new Promise<Record<string, RouteHandler>>(
    (resolve, reject) => ((resolveRoutes = resolve), (rejectRoutes = reject)),
  );
  routesReady.catch(() => undefined);
  try {
    const jwtSecret = options.jwtSecret ?? DEFAULT_JWT_SECRET;
    // The page subscribes with the VAPID public key, so the keys exist before the page is served.
    const pushOptions = options.push
      ? { ...(options.push === true ? {} : options.push), vapid: webpush.generateVAPIDKeys() }
      : undefined;
    const emulator = await startLocalEmulator(options, jwtSecret, routesReady, pushOptions?.vapid.publicKey);
    front.push(() => emulator.stop());

    const { dynamoEndpoint, tables, database } = await startDatabase(options, cleanups);

    const s3 = await startLocalS3({
      bucket: LOCAL_ATTACHMENT_BUCKET,
      accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.s3Path === undefined ? {} : { directory: options.s3Path }),
    });
    cleanups.push(() => s3.stop());

    let env = handlerEnv(options, tables, { dynamo: dynamoEndpoint, s3: s3.endpoint, connections: emulator.httpUrl });
    const iamGuard = new IamGuard(tables);
    const s3Guard = new S3GrantGuard();
    const push = pushOptions
      ? await startLocalPush(pushSenderPortsOf(env, options.runtimeOptions, iamGuard), pushOptions)
      : undefined;
    if (push) {
      cleanups.push(() => push.stop());
      // device_token takes the fake Web Push service's subscriptions, whose origin is known only now.
      env = { ...env, [ENV.webPushEndpointAllowlist]: push.webPushAllowlist.join(',') };
    }
    const deletionJobs = new LocalDeletionJobs();
    cleanups.push(() => deletionJobs.stop());
    const presenceChecks = new LocalPresenceChecks();
    cleanups.push(() => presenceChecks.stop());
    const accountOptions = { deletionJobs, accountEvents: deletionJobs, presenceChecks };
    const runtime = createRuntime(env, accountOptions); // not a function's: no meter, no guard
    const moderation = new LocalModerationBus(
      (message, fields) => options.logger?.info(message, fields),
      push ? (detail) => push.publishEvent(EXPORT_READY_DETAIL_TYPE, detail) : undefined,
    );
    cleanups.push(() => moderation.drain());
    const adaptersOf = (fnId: HandlerFunctionId) =>
      adaptersFrom(env, {
        moderation,
        ...options.runtimeOptions,
        ...accountOptions,
        dynamoPlugins: [...(options.runtimeOptions?.dynamoPlugins ?? []), iamGuard.forFunction(fnId)],
        s3Plugins: [...(options.runtimeOptions?.s3Plugins ?? []), s3Guard.forFunction(fnId)],
        // send and the sweeper publish undelivered messages to the local push sender, device_token its challenges.
        ...(push ? { events: push.publisher } : {}),
      });
    const functions = composeFunctions(adaptersOf, options.wrapPorts, emulator);
    moderation.setWorker(createExportsHandler(functions.ports.exports));
    resolveRoutes(routeTable(functions.handlers, options.aroundInvocation));
    deletionJobs.attach(functions.accountJobs);
    presenceChecks.attach(functions.presenceJobs);

    const sweeper = startSweeper(
      functions.sweeper,
      runtime.config.sweepIntervalMs,
      options.logger ?? { info: () => undefined, warn: console.warn, error: console.error },
      options.aroundInvocation,
    );
    cleanups.push(() => sweeper.stop());

    let stopped: Promise<void> | undefined;
    return {
      url: emulator.url,
      httpUrl: emulator.httpUrl,
      port: emulator.port,
      jwtSecret,
      dynamoEndpoint,
      s3Endpoint: s3.endpoint,
      attachmentBucket: LOCAL_ATTACHMENT_BUCKET,
      tables,
      env,
      runtime,
      runtimes: functions.ports,
      iamGuard,
      s3Guard,
      emulator,
      ...(push ? { push } : {}),
      moderation,
      deletionJobs,
      presenceChecks,
      ...(database ? { database } : {}),
      mintToken: (userId, mintOptions) => mintToken(jwtSecret, userId, mintOptions),
      sweepCount: () => sweeper.count(),
      nextSweep: () => sweeper.next(),
      stop: () => (stopped ??= cleanup()),
    };
  } catch (error) {
    rejectRoutes(error);
    await cleanup();
    throw error;
  }
}

/** The emulator in front of the routes that `routesReady` will hand over (as the CDK stack wires them). */
async function startLocalEmulator(
  options: LocalStackOptions,
  jwtSecret: string,
  routesReady: Promise<Record<string, RouteHandler>>,
  vapidPublicKey: string | undefined,
): Promise<Emulator> {
  const lazy =
    (key: string): RouteHandler =>
    async (event, context) =>
      (await routesReady)[key]!(event, context);
  const webApp = options.webApp && vapidPublicKey ? { ...options.webApp, vapidPublicKey } : options.webApp;
  return startEmulator({
    port: options.port ?? DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    authorizer: createAuthorizerHandler(createTokenVerifier({ secret: jwtSecret })),
    identitySources: ['route.request.querystring.token'],
    // The contract's local CONNECTIONS_ENDPOINT is the bare http://127.0.0.1:PORT (AWS would answer 403 there).
    stagelessManagementApi: true,
    routes: Object.fromEntries(Object.keys(ROUTES).map((key) => [key, lazy(key)])),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    httpRoutes: webRoutes({
      ...(webApp === undefined ? {} : { webApp }),
      mintToken: (userId) => mintToken(jwtSecret, userId),
    }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onInvocation === undefined ? {} : { onInvocation: options.onInvocation }),
  });
}

/** DynamoDB Local (started here unless `dynamoEndpoint` is given) with the tables of core/store/schema.ts. */
async function startDatabase(
  options: LocalStackOptions,
  cleanups: (() => Promise<void>)[],
): Promise<{ dynamoEndpoint: string; tables: Record<TableId, string>; database?: DynamoDbLocal }> {
  let dynamoEndpoint = options.dynamoEndpoint;
  let database: DynamoDbLocal | undefined;
  if (!dynamoEndpoint) {
    const dynamo = await startDynamoDbLocal({ ...(options.dbPath === undefined ? {} : { dbPath: options.dbPath }) });
    cleanups.push(() => dynamo.stop());
    dynamoEndpoint = dynamo.endpoint;
    database = dynamo;
  }
  const admin = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  try {
    return {
      dynamoEndpoint,
      tables: await createTables(admin, options.tablePrefix ?? ''),
      ...(database ? { database } : {}),
    };
  } finally {
    admin.destroy();
  }
}

/** The handlers' environment: the local endpoints and tables, local mode's defaults, then the caller's settings. */
function handlerEnv(
  options: LocalStackOptions,
  tables: Record<TableId, string>,
  endpoints: { dynamo: string; s3: string; connections: string },
): Record<string, string> {
  return {
    ...LOCAL_AWS_ENV,
    ...tableEnv(tables),
    [DYNAMODB_ENDPOINT_ENV]: endpoints.dynamo,
    [S3_ENDPOINT_ENV]: endpoints.s3,
    [ENV.attachmentBucket]: LOCAL_ATTACHMENT_BUCKET,
    [ENV.connectionsEndpoint]: endpoints.connections,
    [ENV.sweepIntervalMs]: String(options.sweepIntervalMs ?? LOCAL_DEFAULTS.sweepIntervalMs),
    ...(options.ackTimeoutMs === undefined ? {} : { [ENV.ackTimeoutMs]: String(options.ackTimeoutMs) }),
    ...(options.maxMsgBytes === undefined ? {} : { [ENV.maxMsgBytes]: String(options.maxMsgBytes) }),
    ...options.env,
  };
}

/** The push sender's ports, as its entry composes them, with DynamoDB held to PUSH_SENDER_ACCESS. */
function pushSenderPortsOf(
  env: Record<string, string>,
  runtimeOptions: RuntimeOptions | undefined,
  iamGuard: IamGuard,
): PushSenderHandlerPorts {
  const dynamoPlugins = [...(runtimeOptions?.dynamoPlugins ?? []), iamGuard.forFunction('pushSender')];
  return pushSenderHandlerPorts(adaptersFrom(env, { ...runtimeOptions, dynamoPlugins }));
}

/** Each function composed as its Lambda entry composes it (then wrapped, when asked), and its handler on those ports. */
function composeFunctions(
  adaptersOf: (fnId: HandlerFunctionId) => Adapters,
  wrapPorts: PortsWrapper | undefined,
  emulator: Emulator,
) {
  const compose = <P extends object>(fnId: HandlerFunctionId, make: (adapters: Adapters) => P): P => {
    const ports = make(adaptersOf(fnId));
    return wrapPorts ? wrapPorts(fnId, ports, emulator) : ports;
  };
  const build = <P extends object>(fnId: RouteFunctionId, fn: RouteFunction<P>) => {
    const ports = compose(fnId, fn.ports);
    return { ports, handler: fn.create(ports) };
  };
  const connect = build('connect', ROUTE_FUNCTIONS.connect);
  const send = build('send', ROUTE_FUNCTIONS.send);
  const ack = build('ack', ROUTE_FUNCTIONS.ack);
  const sync = build('sync', ROUTE_FUNCTIONS.sync);
  const groups = build('groups', ROUTE_FUNCTIONS.groups);
  const devices = build('devices', ROUTE_FUNCTIONS.devices);
  const fallback = build('default', ROUTE_FUNCTIONS.default);
  const attachments = build('attachments', ROUTE_FUNCTIONS.attachments);
  const blocks = build('blocks', ROUTE_FUNCTIONS.blocks);
  const reports = build('reports', ROUTE_FUNCTIONS.reports);
  const account = build('account', ROUTE_FUNCTIONS.account);
  const presence = build('presence', ROUTE_FUNCTIONS.presence);
  const edits = build('edits', ROUTE_FUNCTIONS.edits);
  const typing = build('typing', ROUTE_FUNCTIONS.typing);
  const sweeper = compose('sweeper', sweeperHandlerPorts);
  const exports = compose('exports', exportsHandlerPorts);
  const accountJobs = compose('account-jobs', accountJobsHandlerPorts);
  const presenceJobs = compose('presence-jobs', presenceJobsHandlerPorts);
  const ports: FunctionPorts = {
    connect: connect.ports,
    send: send.ports,
    ack: ack.ports,
    sync: sync.ports,
    groups: groups.ports,
    devices: devices.ports,
    default: fallback.ports,
    attachments: attachments.ports,
    blocks: blocks.ports,
    reports: reports.ports,
    account: account.ports,
    presence: presence.ports,
    edits: edits.ports,
    typing: typing.ports,
    sweeper,
    exports,
    'account-jobs': accountJobs,
    'presence-jobs': presenceJobs,
  };
  const handlers: Record<RouteFunctionId, FunctionHandler> = {
    connect: connect.handler,
    send: send.handler,
    ack: ack.handler,
    sync: sync.handler,
    groups: groups.handler,
    devices: devices.handler,
    default: fallback.handler,
    attachments: attachments.handler,
    blocks: blocks.handler,
    reports: reports.handler,
    account: account.handler,
    presence: presence.handler,
    edits: edits.handler,
    typing: typing.handler,
  };
  return {
    ports,
    handlers,
    sweeper: createSweeperHandler(sweeper),
    accountJobs: createAccountJobsHandler(accountJobs),
    presenceJobs: createPresenceJobsHandler(presenceJobs),
  };
}

/**
 * Route key → handler: the same action → function table as the CDK stack (core/routes.ts), the handlers it deploys,
 * each invocation run through `around` when given.
 */
function routeTable(
  byFunction: Record<RouteFunctionId, FunctionHandler>,
  around: InvocationWrapper | undefined,
): Record<string, RouteHandler> {
  return Object.fromEntries(
    Object.entries(ROUTES).map(([routeKey, fnId]): [string, RouteHandler] => {
      const handler = route(byFunction[fnId]);
      if (!around) return [routeKey, handler];
      return [
        routeKey,
        (event, context) => around(routeKey, event.requestContext.connectionId, () => handler(event, context)),
      ];
    }),
  );
}

type SweeperHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

interface Sweeper {
  count(): number;
  next(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs the sweeper like an EventBridge rate rule would, except that runs never overlap. */
function startSweeper(
  handler: SweeperHandler,
  intervalMs: number,
  log: EmulatorLogger,
  around: InvocationWrapper | undefined,
): Sweeper {
  let completed = 0;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let waiters: { after: number; resolve: () => void }[] = [];

  const run = async () => {
    const startedAt = completed;
    try {
      const invoke = () => handler(scheduledEvent(), sweeperContext(intervalMs));
      await (around ? around('sweeper', undefined, invoke) : invoke());
    } catch (error) {
      log.error('sweep failed', { error: error instanceof Error ? error.message : String(error) });
    }
    completed = startedAt + 1;
    waiters = waiters.filter((w) => {
      if (completed <= w.after) return true;
      w.resolve();
      return false;
    });
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
  };
  schedule();

  return {
    count: () => completed,
    // A run in progress may have read its rows before this call, so wait for one that starts afterwards.
    next: () => new Promise<void>((resolve) => waiters.push({ after: completed + (running ? 1 : 0), resolve })),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      for (const w of waiters) w.resolve();
      waiters = [];
    },
  };
}

/** An EventBridge scheduled event, as rate(…) rules hand the sweeper on AWS. */
export function scheduledEvent(ruleName = 'local-sweeper'): ScheduledEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: LOCAL_AWS_ENV.AWS_REGION,
    resources: [`arn:aws:events:us-east-1:000000000000:rule/${ruleName}`],
    detail: {},
  };
}

function sweeperContext(timeoutMs: number): Context {
  const deadline = Date.now() + Math.max(timeoutMs, 60_000);
  const requestId = crypto.randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'sweeper',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sweeper',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/sweeper',
    logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
