/**
 * Fault injection through the ports, at chosen rates, from a seeded RNG:
 *
 * - DynamoDB: a middleware on the runtime's document client, placed INSIDE the SDK's retry loop (step `deserialize`,
 *   below `retryMiddleware` in `finalizeRequest`), so the SDK's own retry handles the injected errors exactly like
 *   real ones: ProvisionedThroughputExceededException (a throttle, retried with backoff), TransactionConflictException
 *   (HTTP 400 without a retryable trait: the SDK does not retry it, the port throws), timeouts (TimeoutError /
 *   ECONNRESET, retried) either before the request reaches DynamoDB or after it executed (the response is lost, so
 *   the retry runs the write a second time), and sustained throttling (every attempt of one operation throttled, so
 *   the SDK gives up and the port throws).
 * - @connections: the Gateway port wrapped: 429 LimitExceeded after the adapter's retries (GatewayUnavailableError),
 *   timeouts after retries (half of them after the frame was delivered), and 410 Gone (the connection is really
 *   dropped in the emulator, the way a client vanishing without $disconnect looks, and the post answers 'gone').
 * - Lambda crashes: every port call made inside a route or sweeper invocation may kill that invocation just before
 *   or just after the call (the call's result is lost). A killed invocation stays dead: each later port call of it
 *   throws Crash too (nothing more is written or posted, not even an error reply), and the handler ends in an error,
 *   which API Gateway turns into its "Internal server error" frame. There is no Lambda retry for WebSocket routes;
 *   the next attempt is the client's resend, the sweeper or a catch-up.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProvisionedThroughputExceededException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServerFrame } from '../core/domain/frames.js';
import { GatewayUnavailableError, OversizedFrameError } from '../core/errors.js';
import type { Gateway, PostResult } from '../core/ports/gateway.js';

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: a small, fast, seedable PRNG; `next()` is uniform in [0, 1). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  int(minInclusive: number, maxInclusive: number): number {
    return minInclusive + Math.floor(this.next() * (maxInclusive - minInclusive + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An independent stream derived from this one (so one consumer's draws do not shift another's). */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rates and counters

export interface FaultRates {
  /** Per DynamoDB attempt: ProvisionedThroughputExceededException (the SDK retries it with backoff). */
  readonly dynamoThrottle: number;
  /** Per DynamoDB write attempt: TransactionConflictException (not retried by the SDK: the port throws). */
  readonly dynamoConflict: number;
  /** Per DynamoDB attempt: a timeout / connection reset, half before the request, half after it executed. */
  readonly dynamoTimeout: number;
  /** Per DynamoDB operation: every attempt throttled, the SDK gives up after its 5 attempts (the port throws). */
  readonly dynamoExhausted: number;
  /** Per @connections post: 429 LimitExceeded after the adapter's retries (GatewayUnavailableError). */
  readonly gatewayLimit: number;
  /** Per @connections post: a timeout after retries (GatewayUnavailableError); half of them delivered anyway. */
  readonly gatewayTimeout: number;
  /** Per @connections post: 410 Gone (the connection is dropped in the emulator, without $disconnect). */
  readonly gatewayGone: number;
  /** Per port call inside an invocation, before it and again after it: the Lambda dies there. */
  readonly crash: number;
}

/** Every rate derived from one overall fault rate (e.g. 0.03), weighted by how disruptive each kind is. */
export function ratesFor(faultRate: number, overrides: Partial<FaultRates> = {}): FaultRates {
  return {
    dynamoThrottle: faultRate,
    dynamoConflict: faultRate / 6,
    dynamoTimeout: faultRate / 2,
    dynamoExhausted: faultRate / 15,
    gatewayLimit: faultRate,
    gatewayTimeout: faultRate / 2,
    gatewayGone: faultRate / 10,
    crash: faultRate / 12,
    ...overrides,
  };
}

/** Fault kinds as counted and printed. */
export const FAULT_KINDS = [
  'dynamo.throttle',
  'dynamo.conflict',
  'dynamo.timeout.before',
  'dynamo.timeout.lost-response',
  'dynamo.throttle.exhausted',
  'gateway.429',
  'gateway.timeout',
  'gateway.timeout.delivered',
  'gateway.410',
  'crash.before-call',
  'crash.after-call',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export class FaultCounters {
  readonly byKind = new Map<FaultKind, number>(FAULT_KINDS.map((k) => [k, 0]));
  /** Crashes by point, e.g. `messages.put:after` (msg_data). */
  readonly crashPoints = new Map<string, number>();

  add(kind: FaultKind, n = 1): void {
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + n);
  }

  get(kind: FaultKind): number {
    return this.byKind.get(kind) ?? 0;
  }

  total(): number {
    let n = 0;
    for (const v of this.byKind.values()) n += v;
    return n;
  }
}

/** What a response lost to an injected timeout carried: the write executed, the caller never saw it. */
export interface LostResponse {
  readonly command: string;
  readonly table: string;
  /** The marshalled input and output (AttributeValue maps) of the executed attempt. */
  readonly input: Record<string, unknown>;
  readonly output: Record<string, unknown>;
}

/** The shared switchboard: rates, RNG, counters and the on/off switch every injector reads. */
export class FaultPlan {
  enabled = false;
  readonly counters = new FaultCounters();
  readonly lostResponses: LostResponse[] = [];

  constructor(
    readonly rates: FaultRates,
    readonly rng: Rng,
  ) {}

  roll(rate: number): boolean {
    return this.enabled && this.rng.chance(rate);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB: a middleware inside the SDK's retry loop

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

function timeoutError(): Error {
  // What NodeHttpHandler reports for a request timeout, or Node for a reset socket: both transient for the SDK.
  return Object.assign(new Error('injected: socket timed out / connection reset'), {
    name: 'TimeoutError',
    code: 'ECONNRESET',
  });
}

function throttle(): Error {
  return new ProvisionedThroughputExceededException({
    message: 'injected: The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });
}

/** Injects DynamoDB faults into the document clients it is attached to (a DynamoClientPlugin). */
export class DynamoFaultInjector {
  /** Operations (one SDK command, all its attempts) doomed to be throttled at every attempt. */
  readonly #doomed = new WeakSet<object>();
  readonly #decided = new WeakSet<object>();

  constructor(readonly plan: FaultPlan) {}

  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const plan = this.plan;
        if (!plan.enabled) return next(args);
        const command = context.commandName ?? 'unknown';
        const input = (args.input ?? {}) as Record<string, unknown>;
        // Decided once per operation: the same context object goes through every attempt of the retry loop.
        if (!this.#decided.has(context)) {
          this.#decided.add(context);
          if (plan.roll(plan.rates.dynamoExhausted)) {
            this.#doomed.add(context);
            plan.counters.add('dynamo.throttle.exhausted');
          }
        }
        if (this.#doomed.has(context)) throw throttle();
        if (plan.roll(plan.rates.dynamoThrottle)) {
          plan.counters.add('dynamo.throttle');
          throw throttle();
        }
        if (WRITE_COMMANDS.has(command) && plan.roll(plan.rates.dynamoConflict)) {
          plan.counters.add('dynamo.conflict');
          throw new TransactionConflictException({
            message: 'injected: Transaction is ongoing for the item',
            $metadata: { httpStatusCode: 400 },
          });
        }
        if (plan.roll(plan.rates.dynamoTimeout)) {
          if (plan.rng.chance(0.5)) {
            plan.counters.add('dynamo.timeout.before');
            throw timeoutError();
          }
          // The request reaches DynamoDB and executes; its response is lost on the way back.
          const result = await next(args);
          plan.counters.add('dynamo.timeout.lost-response');
          plan.lostResponses.push({
            command,
            table: typeof input['TableName'] === 'string' ? input['TableName'] : '',
            input,
            output: (result.output ?? {}) as Record<string, unknown>,
          });
          throw timeoutError();
        }
        return next(args);
      },
      // Inside the retry loop: retryMiddleware sits in finalizeRequest, which wraps the deserialize step.
      { step: 'deserialize', name: 'chaosDynamoFaults', priority: 'high', override: true },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lambda crashes: invocations, and ports that die

export class Crash extends Error {
  override readonly name = 'Crash';
}

/** One route or sweeper invocation, as the port wrappers see it. */
export interface Invocation {
  readonly id: number;
  readonly route: string;
  readonly connectionId: string | undefined;
  /** Where it died (`port.method:before|after`); undefined while alive. */
  dead: string | undefined;
  /** Errors thrown by port calls (names), in order: the invocation's failures short of a crash. */
  readonly errors: string[];
}

export interface PortCall {
  readonly port: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly invocation: Invocation | undefined;
}

/** Told of every port call that completed (result) or failed (error), for the harness's bookkeeping. */
export type PortObserver = (
  call: PortCall,
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
) => void;

export class Invocations {
  readonly #als = new AsyncLocalStorage<Invocation>();
  #nextId = 1;
  readonly started = new Map<string, number>();
  readonly crashed = new Map<string, number>();
  /** Invocations running now, by route. */
  readonly running = new Map<string, number>();

  current(): Invocation | undefined {
    return this.#als.getStore();
  }

  /** Runs one invocation; if it was killed, it ends in Crash whatever the handler did with the error. */
  async run<T>(route: string, connectionId: string | undefined, fn: () => Promise<T>): Promise<T> {
    const invocation: Invocation = { id: this.#nextId++, route, connectionId, dead: undefined, errors: [] };
    this.started.set(route, (this.started.get(route) ?? 0) + 1);
    this.running.set(route, (this.running.get(route) ?? 0) + 1);
    const settle = () => {
      if (invocation.dead === undefined) return;
      this.crashed.set(route, (this.crashed.get(route) ?? 0) + 1);
      throw new Crash(`${route} invocation ${invocation.id} died at ${invocation.dead}`);
    };
    let value: T;
    try {
      value = await this.#als.run(invocation, fn);
    } catch (error) {
      settle();
      throw error;
    } finally {
      this.running.set(route, this.running.get(route)! - 1);
    }
    settle();
    return value;
  }
}

/** Members of a function's ports that are not ports: never wrapped. */
const NOT_PORTS = new Set(['config', 'clock']);

function dyingPort<T extends object>(
  name: string,
  real: T,
  plan: FaultPlan,
  invocations: Invocations,
  observe: PortObserver | undefined,
): T {
  return new Proxy(real, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = String(key);
      if (value.constructor?.name === 'AsyncGeneratorFunction') {
        // A paged read (the sweep's listDue): the Lambda may die before it starts.
        return async function* (...args: unknown[]) {
          const invocation = invocations.current();
          if (invocation?.dead !== undefined) throw new Crash(`invocation already dead (${invocation.dead})`);
          if (invocation && plan.roll(plan.rates.crash)) {
            invocation.dead = `${name}.${method}:before (${invocation.route})`;
            plan.counters.add('crash.before-call');
            throw new Crash(`died at ${name}.${method}:before`);
          }
          yield* (value as (...a: unknown[]) => AsyncGenerator<unknown>).apply(target, args);
        };
      }
      return async (...args: unknown[]) => {
        const invocation = invocations.current();
        const call: PortCall = { port: name, method, args, invocation };
        const die = (when: 'before' | 'after') => {
          const point = `${name}.${method}:${when}`;
          invocation!.dead = `${point} (${invocation!.route})`;
          plan.counters.add(when === 'before' ? 'crash.before-call' : 'crash.after-call');
          const key = `${invocation!.route} ${point}`;
          plan.counters.crashPoints.set(key, (plan.counters.crashPoints.get(key) ?? 0) + 1);
          return new Crash(`died at ${point}`);
        };
        if (invocation?.dead !== undefined) throw new Crash(`invocation already dead (${invocation.dead})`);
        if (invocation && plan.roll(plan.rates.crash)) throw die('before');
        let result: unknown;
        try {
          result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          if (invocation && !(error instanceof Crash))
            invocation.errors.push(`${name}.${method}: ${(error as Error).name}`);
          observe?.(call, { ok: false, error });
          throw error;
        }
        observe?.(call, { ok: true, value: result });
        // The call happened (a write is durable, a post delivered), but the Lambda dies before using its result.
        if (invocation && invocation.dead === undefined && plan.roll(plan.rates.crash)) throw die('after');
        return result;
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// @connections

export interface GatewayStats {
  /** Posts by frame type that reached the connection. */
  readonly delivered: Map<string, number>;
  /** Posts by frame type that failed (GatewayUnavailableError or other). */
  readonly failed: Map<string, number>;
  /** Posts answered 'gone' by the emulator (connections really gone). */
  gone: number;
  /** Posts that took longer than a second (the adapter's own retries, a slow event loop). */
  slow: number;
  /** Frames the adapter refused to post for being over 128 KB (API Gateway would have refused them: lost). */
  oversized: number;
  maxMs: number;
}

export function newGatewayStats(): GatewayStats {
  return { delivered: new Map(), failed: new Map(), gone: 0, slow: 0, oversized: 0, maxMs: 0 };
}

/**
 * The Gateway with 429s, timeouts and 410s injected; drops the connection in the emulator for an injected 410. Every
 * function's FaultyGateway counts into the run's one `stats`.
 */
export class FaultyGateway implements Gateway {
  constructor(
    private readonly real: Gateway,
    private readonly plan: FaultPlan,
    private readonly dropConnection: (connectionId: string) => void,
    readonly stats: GatewayStats,
  ) {}

  async post(connectionId: string, frame: ServerFrame): Promise<PostResult> {
    const plan = this.plan;
    const type = frame.type;
    const bump = (map: Map<string, number>) => map.set(type, (map.get(type) ?? 0) + 1);
    if (plan.roll(plan.rates.gatewayGone)) {
      plan.counters.add('gateway.410');
      this.dropConnection(connectionId);
      return 'gone';
    }
    if (plan.roll(plan.rates.gatewayLimit)) {
      plan.counters.add('gateway.429');
      bump(this.stats.failed);
      const cause = Object.assign(new Error('injected: LimitExceededException'), {
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 429 },
      });
      throw new GatewayUnavailableError(`post to ${connectionId} failed after retries: 429`, { cause });
    }
    const timesOut = plan.roll(plan.rates.gatewayTimeout);
    const deliveredAnyway = timesOut && plan.rng.chance(0.5);
    if (timesOut && !deliveredAnyway) {
      plan.counters.add('gateway.timeout');
      bump(this.stats.failed);
      throw new GatewayUnavailableError(`post to ${connectionId} failed after retries: timeout`, {
        cause: timeoutError(),
      });
    }
    let result: PostResult;
    const started = Date.now();
    try {
      result = await this.real.post(connectionId, frame);
    } catch (error) {
      bump(this.stats.failed);
      if (error instanceof OversizedFrameError) this.stats.oversized++;
      throw error;
    } finally {
      const ms = Date.now() - started;
      if (ms > 1000) this.stats.slow++;
      this.stats.maxMs = Math.max(this.stats.maxMs, ms);
    }
    if (result === 'gone') {
      this.stats.gone++;
      return result;
    }
    bump(this.stats.delivered);
    if (deliveredAnyway) {
      // The frame reached the client; the answer did not reach the Lambda.
      plan.counters.add('gateway.timeout.delivered');
      throw new GatewayUnavailableError(`post to ${connectionId} timed out after it was delivered`, {
        cause: timeoutError(),
      });
    }
    return result;
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.real.disconnect(connectionId);
  }
}

/**
 * A function's ports as its handler gets them in the chaos run: every port (stores, event publisher, gateway) able to
 * die mid-invocation, the gateway with @connections faults (`faultyGateway`). The DynamoDB faults are in the
 * function's client already (see DynamoFaultInjector).
 */
export function faultyPorts<P extends object>(
  ports: P,
  plan: FaultPlan,
  invocations: Invocations,
  faultyGateway: (real: Gateway) => Gateway,
  observe?: PortObserver,
): P {
  // Every port (stores, event publisher, whatever core adds later): any object member with methods.
  return Object.fromEntries(
    Object.entries(ports).map(([name, value]: [string, unknown]) => {
      if (NOT_PORTS.has(name) || typeof value !== 'object' || value === null) return [name, value];
      const port = name === 'gateway' ? faultyGateway(value as Gateway) : value;
      return [name, dyingPort(name, port, plan, invocations, observe)];
    }),
  ) as P;
}
