/**
 * The local stack with faults: composed like local/stack.ts (DynamoDB tables, the API Gateway emulator, the real
 * handlers of lambdas/, a sweeper on a short interval), except that the handlers are built on a runtime whose ports
 * inject faults and die mid-invocation, and every invocation runs inside a crash scope (chaos/faults.ts).
 * local/stack.ts builds its handlers from the runtime it creates, with no hook to wrap the ports in between, hence
 * this composition (proposed hook: `LocalStackOptions.wrapRuntime?: (runtime) => Runtime` and
 * `wrapHandler?: (routeKey, handler) => handler`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  LOCAL_AWS_ENV,
  startEmulator,
  type Emulator,
  type EmulatorLogger,
  type InvocationRecord,
  type RouteHandler,
} from 'teamtalk-local';
import { createTokenVerifier } from '../core/auth/verify-token.js';
import { ENV } from '../core/config.js';
import { ROUTES } from '../core/routes.js';
import { createRuntime, DYNAMODB_ENDPOINT_ENV, type Runtime } from '../core/runtime.js';
import { createTables, tableEnv } from '../core/store/create-tables.js';
import type { TableId } from '../core/store/schema.js';
import type { WebSocketEvent as HandlerEvent, WebSocketResult } from '../core/websocket-event.js';
import { createAuthorizerHandler } from '../lambdas/authorizer/handler.js';
import { ROUTE_HANDLER_FACTORIES, type RouteFunctionId } from '../lambdas/route-handlers.js';
import { createSweeperHandler } from '../lambdas/sweeper/handler.js';
import { scheduledEvent } from '../local/stack.js';
import { DEFAULT_JWT_SECRET, mintToken, type MintOptions } from '../local/token.js';
import {
  DynamoFaultInjector,
  FaultyGateway,
  Invocations,
  asCapacityMeter,
  faultyRuntime,
  type FaultPlan,
  type PortObserver,
} from './faults.js';

export interface ChaosStackOptions {
  readonly dynamoEndpoint: string;
  readonly tablePrefix: string;
  readonly plan: FaultPlan;
  /** Server ACK_TIMEOUT_MS (redelivery after this long without msg_data_ack). */
  readonly ackTimeoutMs: number;
  readonly sweepIntervalMs: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly observe?: PortObserver;
  readonly onInvocation?: (record: InvocationRecord) => void;
  readonly logger?: EmulatorLogger;
}

export interface ChaosStack {
  readonly url: string;
  readonly emulator: Emulator;
  /** The runtime without faults (for reads by the harness). */
  readonly runtime: Runtime;
  readonly tables: Readonly<Record<TableId, string>>;
  readonly invocations: Invocations;
  readonly gateway: FaultyGateway;
  readonly sweeps: () => number;
  mintToken(userId: string, options?: MintOptions): Promise<string>;
  stop(): Promise<void>;
}

const quiet: EmulatorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The chaos run's stack: tables, the fault-injecting DynamoDB and @connections wrappers, every route's handler from
 * lambdas/route-handlers.ts, the emulator and the sweeper, each step registering its cleanup before the next starts:
 * one sequence read in order (long for that reason).
 */
export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const admin = new DynamoDBClient({
      endpoint: options.dynamoEndpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: {
        accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      },
    });
    let tables: Record<TableId, string>;
    try {
      tables = await createTables(admin, options.tablePrefix);
    } finally {
      admin.destroy();
    }

    const jwtSecret = DEFAULT_JWT_SECRET;
    const authorizer = createAuthorizerHandler(createTokenVerifier({ secret: jwtSecret }));
    const invocations = new Invocations();

    let resolveRoutes!: (routes: Record<string, RouteHandler>) => void;
    const routesReady = new Promise<Record<string, RouteHandler>>((resolve) => (resolveRoutes = resolve));
    const lazy =
      (key: string): RouteHandler =>
      async (event, context) =>
        (await routesReady)[key]!(event, context);

    const emulator = await startEmulator({
      port: 0,
      authorizer,
      identitySources: ['route.request.querystring.token'],
      // The contract's local CONNECTIONS_ENDPOINT is the bare http://127.0.0.1:PORT (AWS would answer 403 there).
      stagelessManagementApi: true,
      routes: Object.fromEntries(Object.keys(ROUTES).map((key) => [key, lazy(key)])),
      logger: options.logger ?? quiet,
      ...(options.onInvocation === undefined ? {} : { onInvocation: options.onInvocation }),
    });
    cleanups.push(() => emulator.stop());

    const env: Record<string, string> = {
      ...LOCAL_AWS_ENV,
      ...tableEnv(tables),
      [DYNAMODB_ENDPOINT_ENV]: options.dynamoEndpoint,
      [ENV.connectionsEndpoint]: emulator.httpUrl,
      [ENV.sweepIntervalMs]: String(options.sweepIntervalMs),
      [ENV.ackTimeoutMs]: String(options.ackTimeoutMs),
      ...options.env,
    };
    // Two runtimes on the same tables: the handlers' one has the DynamoDB faults in its client; the harness reads
    // through a clean one.
    const clean = createRuntime(env);
    const faultyDb = createRuntime(env, { capacityMeter: asCapacityMeter(new DynamoFaultInjector(options.plan)) });
    const gateway = new FaultyGateway(faultyDb.gateway, options.plan, (connectionId) => {
      emulator.dropConnection(connectionId);
    });
    const runtime = faultyRuntime(faultyDb, options.plan, invocations, gateway, options.observe);

    /** A route integration: the handler inside a crash scope (a dead invocation ends in an error). */
    const route =
      (routeKey: string, handler: (event: HandlerEvent) => Promise<WebSocketResult>): RouteHandler =>
      (event) =>
        invocations.run(routeKey, event.requestContext.connectionId, () => handler(event as unknown as HandlerEvent));

    // The handlers the stack deploys, from lambdas/route-handlers.ts's one table.
    const built = Object.fromEntries(
      Object.entries(ROUTE_HANDLER_FACTORIES).map(([fn, make]) => [fn, make(runtime)]),
    ) as Record<RouteFunctionId, (event: HandlerEvent) => Promise<WebSocketResult>>;
    resolveRoutes(Object.fromEntries(Object.entries(ROUTES).map(([key, fnId]) => [key, route(key, built[fnId])])));

    // Called like EventBridge would; the handler's parameter list has changed before, so it is called loosely.
    const sweeperHandler = createSweeperHandler(runtime) as (event?: unknown) => Promise<unknown>;
    let sweeps = 0;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    const schedule = () => {
      if (stopped) return;
      timer = setTimeout(() => {
        running = invocations
          .run('sweeper', undefined, () => sweeperHandler(scheduledEvent('chaos-sweeper')))
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(() => {
            sweeps++;
            running = undefined;
            schedule();
          });
      }, options.sweepIntervalMs);
    };
    schedule();
    cleanups.push(async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    });

    return {
      url: emulator.url,
      emulator,
      runtime: clean,
      tables,
      invocations,
      gateway,
      sweeps: () => sweeps,
      mintToken: (userId, options) => mintToken(jwtSecret, userId, options),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
