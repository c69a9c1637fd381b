/**
 * The local stack with faults: local/stack.ts's one bootstrap (tables, the API Gateway emulator, the real handlers
 * of lambdas/ each on its own ports, the sweeper), with the DynamoDB fault injector on every function's client, each
 * function's ports wrapped to fail and die mid-invocation, and every invocation run inside a crash scope
 * (chaos/faults.ts).
 */
import type { Emulator, EmulatorLogger, InvocationRecord } from 'teamtalk-local';
import type { Runtime } from '../core/runtime.js';
import type { TableId } from '../core/store/schema.js';
import { startLocalStack } from '../local/stack.js';
import type { MintOptions } from '../local/token.js';
import {
  DynamoFaultInjector,
  FaultyGateway,
  Invocations,
  faultyPorts,
  newGatewayStats,
  type FaultPlan,
  type GatewayStats,
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
  /** Every port without faults or grants (for reads by the harness). */
  readonly runtime: Runtime;
  readonly tables: Readonly<Record<TableId, string>>;
  readonly invocations: Invocations;
  /** @connections posts of every function, as the faulty gateways saw them. */
  readonly gateway: { readonly stats: GatewayStats };
  readonly sweeps: () => number;
  mintToken(userId: string, options?: MintOptions): Promise<string>;
  stop(): Promise<void>;
}

const quiet: EmulatorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const { plan, observe } = options;
  const invocations = new Invocations();
  const stats = newGatewayStats();
  const stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: options.dynamoEndpoint,
    tablePrefix: options.tablePrefix,
    ackTimeoutMs: options.ackTimeoutMs,
    sweepIntervalMs: options.sweepIntervalMs,
    ...(options.env === undefined ? {} : { env: options.env }),
    runtimeOptions: { dynamoPlugins: [new DynamoFaultInjector(plan)] },
    logger: options.logger ?? quiet,
    ...(options.onInvocation === undefined ? {} : { onInvocation: options.onInvocation }),
    wrapPorts: (_functionId, ports, emulator) =>
      faultyPorts(
        ports,
        plan,
        invocations,
        (real) => new FaultyGateway(real, plan, (connectionId) => emulator.dropConnection(connectionId), stats),
        observe,
      ),
    aroundInvocation: (name, connectionId, invoke) => invocations.run(name, connectionId, invoke),
  });
  return {
    url: stack.url,
    emulator: stack.emulator,
    runtime: stack.runtime,
    tables: stack.tables,
    invocations,
    gateway: { stats },
    sweeps: () => stack.sweepCount(),
    mintToken: (userId, mintOptions) => stack.mintToken(userId, mintOptions),
    stop: () => stack.stop(),
  };
}
