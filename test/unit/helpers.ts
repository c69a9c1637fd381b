/**
 * Shared pieces of the unit tests: a real runtime (real table modules and @connections gateway) over mocked
 * DynamoDB DocumentClient and ApiGatewayManagementApi clients, a fixed clock, and a timeline of every SDK call
 * across both clients (sinon's callIds are global, so they order calls of different stubs).
 */
import './setup-env.js';
import {
  ApiGatewayManagementApiClient,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import {
  type BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  type GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { ServerFrame } from '../../core/domain/frames.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { ALL_TABLES, type TableId } from '../../core/store/schema.js';

/** Fixed "now": 2026-11-27 12:00:30.250 UTC, mid-minute and mid-second so slot and window rounding matter. */
export const T = Date.UTC(2026, 10, 27, 12, 0, 30, 250);
export const T_SECONDS = Math.floor(T / 1000);

/** Physical table names the runtime is pointed at. */
export const TABLE = Object.fromEntries(ALL_TABLES.map((spec) => [spec.id, `unit-${spec.id}`])) as Record<
  TableId,
  string
>;

export const ENDPOINT = 'https://example.execute-api.us-east-1.amazonaws.com/prod';

export const BASE_ENV: Record<string, string> = {
  ...Object.fromEntries(ALL_TABLES.map((spec) => [spec.envVar, TABLE[spec.id]])),
  CONNECTIONS_ENDPOINT: ENDPOINT,
  AWS_REGION: 'us-east-1',
};

/** A real runtime on the mocked clients with a fixed clock. */
export function makeRuntime(env: Record<string, string> = {}, now = T): Runtime {
  return { ...createRuntime({ ...BASE_ENV, ...env }), clock: { now: () => now } };
}

export const ddb = mockClient(DynamoDBDocumentClient);
export const api = mockClient(ApiGatewayManagementApiClient);

/**
 * Resets both mocks and installs permissive defaults (every command succeeds with an empty answer). sinon picks the
 * LAST defined matching behaviour, so tests define their specific behaviours after this.
 */
export function resetMocks(): void {
  ddb.reset();
  api.reset();
  ddb.onAnyCommand().resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  // The sweeper's emptiness probe: a table that holds a row somewhere, so its slot Queries run.
  ddb.on(ScanCommand).resolves({ Items: [{ slot: 'elsewhere#0' }] });
  ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
  api.onAnyCommand().resolves({});
}

// ---- errors as the SDK raises them ----

export const conditionFailed = (): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({
    $metadata: { httpStatusCode: 400 },
    message: 'The conditional request failed',
  });

export const throttled = (): ProvisionedThroughputExceededException =>
  new ProvisionedThroughputExceededException({
    $metadata: { httpStatusCode: 400, attempts: 5 },
    message: 'throughput exceeded',
  });

export const gone = (): GoneException => new GoneException({ $metadata: { httpStatusCode: 410 }, message: 'gone' });

export const limitExceeded = (): LimitExceededException =>
  new LimitExceededException({ $metadata: { httpStatusCode: 429, attempts: 4 }, message: 'limit exceeded' });

/** What the SDK's request handler throws when a request times out: no HTTP status at all. */
export const timeout = (): Error =>
  Object.assign(new Error('request timed out'), { name: 'TimeoutError', $metadata: {} });

// ---- reading what was sent ----

type AnyCommand =
  | typeof PutCommand
  | typeof UpdateCommand
  | typeof DeleteCommand
  | typeof GetCommand
  | typeof QueryCommand
  | typeof BatchGetCommand
  | typeof BatchWriteCommand;

/** Inputs of every call of one DocumentClient command, optionally only those on one table. */
export function inputsOf<C extends AnyCommand>(command: C, table?: TableId): InstanceType<C>['input'][] {
  return ddb
    .commandCalls(command as never)
    .map((call) => call.args[0].input as InstanceType<C>['input'])
    .filter((input) => table === undefined || (input as { TableName?: string }).TableName === TABLE[table]);
}

/** Every DocumentClient write (Put, Update, Delete, BatchWrite), on any table. */
export function writes(): unknown[] {
  return [PutCommand, UpdateCommand, DeleteCommand, BatchWriteCommand].flatMap((c) => ddb.commandCalls(c as never));
}

/** Frames posted through @connections, in call order. */
export function posts(): { connectionId: string; frame: ServerFrame }[] {
  return api.commandCalls(PostToConnectionCommand).map((call) => ({
    connectionId: call.args[0].input.ConnectionId as string,
    frame: JSON.parse(String(call.args[0].input.Data)) as ServerFrame,
  }));
}

/** sinon's global call sequence number (not in its typings): orders calls across both mocked clients. */
export function callId(call: unknown): number {
  return (call as { callId: number }).callId;
}

const tableIdOf = (name: unknown): string => ALL_TABLES.find((spec) => TABLE[spec.id] === name)?.id ?? String(name);

/**
 * Every SDK call of both clients in the order it was made, as short labels: `Put:Messages`, `Update:Conversations`,
 * `Post:c-b1`, `BatchGet`, `BatchWrite`.
 */
export function timeline(): string[] {
  const calls = [...ddb.calls(), ...api.calls()].sort((a, b) => callId(a) - callId(b));
  return calls.map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    const name = command.constructor.name.replace(/Command$/, '');
    if (command instanceof PostToConnectionCommand) return `Post:${String(command.input['ConnectionId'])}`;
    if ('TableName' in command.input) return `${name}:${tableIdOf(command.input['TableName'])}`;
    return name;
  });
}

/** Connection rows as the Connections table returns them. */
export function connectionItems(userId: string, ...connectionIds: string[]): Record<string, unknown>[] {
  return connectionIds.map((connectionId) => ({
    user_id: userId,
    connection_id: connectionId,
    connected_at: T - 60_000,
    // Relative to the real clock: ConnectionTable filters expired rows against Date.now(), not the runtime clock.
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  }));
}

/** Answers the strongly consistent Query of a user's connections. */
export function mockConnections(userId: string, ...connectionIds: string[]): void {
  ddb
    .on(QueryCommand, { TableName: TABLE.Connections, ExpressionAttributeValues: { ':u': userId } })
    .resolves({ Items: connectionItems(userId, ...connectionIds) });
}
