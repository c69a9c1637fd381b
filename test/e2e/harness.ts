/**
 * The local stack for end-to-end tests: the real handlers behind the emulator on a free port, on fresh tables of
 * the run's shared DynamoDB Local, with a queue of finished invocations to await instead of sleeping. Every
 * DynamoDB call a function makes is held to its grant in lib/grants.ts, and stop() fails the test on any refusal.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { InvocationRecord } from 'teamtalk-local';
import { logger } from '../../core/observability.js';
import type { FunctionId } from '../../core/routes.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';
import { Queue, TestClient, type Frame } from '../emulator/support.js';

// Handlers log every connect and message at INFO; keep test output to warnings and errors.
logger.setLogLevel('WARN');

export interface Device {
  readonly client: TestClient;
  readonly connectionId: string;
  readonly userId: string;
}

export interface TestStack {
  readonly stack: LocalStack;
  readonly invocations: Queue<InvocationRecord>;
  /** Connects a user with a fresh token and resolves once $connect has stored the connection. */
  connect(userId: string, query?: Record<string, string>): Promise<Device>;
  /** Resolves once the route invocation for the frame with this seq on this connection has finished. */
  handled(device: Device, routeKey: string, seq: number): Promise<InvocationRecord>;
  /** Resolves once every frame posted to the device so far has arrived (heartbeat round trip). */
  barrier(device: Device): Promise<void>;
  /** Stops the stack; rejects if any function made a DynamoDB call outside its grant (an AccessDenied on AWS). */
  stop(): Promise<void>;
}

const emulatorLogger = { info: () => undefined, warn: console.warn, error: console.error };
let barrierSeq = 1_000_000;

export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<TestStack> {
  const invocations = new Queue<InvocationRecord>();
  const stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tablePrefix: `e2e${randomUUID().slice(0, 8)}_`,
    logger: emulatorLogger,
    onInvocation: (record) => invocations.push(record),
    ...options,
  });
  const clients: TestClient[] = [];

  const seqOf = (record: InvocationRecord) => {
    try {
      return (JSON.parse(record.event.body ?? '') as Frame)['seq'];
    } catch {
      return undefined;
    }
  };

  return {
    stack,
    invocations,
    async connect(userId, query = {}) {
      const token = await stack.mintToken(userId);
      const client = await TestClient.open(`${stack.url}/?${new URLSearchParams({ token, ...query })}`);
      clients.push(client);
      const connect = await invocations.take(
        (r) => r.routeKey === '$connect' && r.event.requestContext.authorizer?.['userId'] === userId,
        10_000,
        `$connect of ${userId}`,
      );
      expectOk(connect);
      return { client, connectionId: connect.connectionId, userId };
    },
    handled: (device, routeKey, seq) =>
      invocations.waitFor(
        (r) => r.routeKey === routeKey && r.connectionId === device.connectionId && seqOf(r) === seq,
        15_000,
        `${routeKey} seq ${seq} of ${device.userId}`,
      ),
    async barrier(device) {
      const seq = barrierSeq++;
      device.client.send({ action: 'heartbeat', seq });
      await device.client.next((f) => f['type'] === 'heartbeat' && f['seq'] === seq);
    },
    async stop() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await stack.stop();
      expectWithinGrants(stack);
    },
  };
}

/** A DynamoDB or S3 call outside lib/grants.ts would be an AccessDenied on AWS: fail the test that made it. */
export function expectWithinGrants(stack: LocalStack): void {
  const { violations } = stack.iamGuard;
  const s3 = stack.s3Guard.violations.map(
    (v) => `${v.functionId}: ${v.command} needs ${v.action} on ${v.key} — outside lib/grants.ts attachments`,
  );
  if (violations.length === 0 && s3.length === 0) return;
  const lines = [
    ...violations.map((v) => `${v.functionId}: ${v.command} needs ${v.action} on ${v.table} — ${v.reason}`),
    ...s3,
  ];
  throw new Error(
    `DynamoDB or S3 calls outside lib/grants.ts (AccessDenied on AWS):\n${[...new Set(lines)].join('\n')}`,
  );
}

/**
 * Every port on the stack's tables and bucket, with DynamoDB and S3 held to one function's grant: to show what the
 * guard does with calls the function's own ports never make.
 */
export function runtimeWithGrantOf(stack: LocalStack, functionId: FunctionId): Runtime {
  return createRuntime(stack.env, {
    dynamoPlugins: [stack.iamGuard.forFunction(functionId)],
    s3Plugins: [stack.s3Guard.forFunction(functionId)],
  });
}

function expectOk(record: InvocationRecord): void {
  if (record.outcome !== 'ok') throw new Error(`${record.routeKey} ${record.outcome}: ${String(record.error)}`);
}

/** A msg_data frame from the contract. */
export function msgData(to: string, seq: number, msgData: string, extra: Frame = {}): Frame {
  return { action: 'msg_data', seq, to_session_id: to, msg_type: 1, msg_data: msgData, ...extra };
}
