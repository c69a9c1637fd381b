/** A real runtime on fresh DynamoDB Local tables, with a recording gateway and a manual clock. */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tableEnv } from '../../core/store/create-tables.js';
import { DYNAMODB_ENDPOINT_ENV, type RuntimeOptions } from '../../core/compose/adapters.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import type { TableId } from '../../core/store/schema.js';
import { sendMessage } from '../../core/usecases/send-message.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createGroupsHandler } from '../../lambdas/groups/handler.js';
import { createTestTables, type TestTables } from './dynamo.js';
import { ManualClock, RecordingEventPublisher, RecordingGateway } from './fakes.js';

export interface TestRuntime {
  readonly runtime: Runtime;
  readonly gateway: RecordingGateway;
  readonly clock: ManualClock;
  readonly events: RecordingEventPublisher;
  readonly tables: TestTables;
  /** Every item of a table (tests only: a Scan). */
  items(table: TableId): Promise<Record<string, unknown>[]>;
}

export async function createTestRuntime(
  env: Record<string, string> = {},
  options: RuntimeOptions = {},
): Promise<TestRuntime> {
  const tables = await createTestTables();
  const gateway = new RecordingGateway();
  const events = new RecordingEventPublisher();
  // Real time: DynamoDB Local applies TTL, so rows stamped in the past could vanish mid-test.
  const clock = new ManualClock(Date.now());
  const runtime: Runtime = {
    ...createRuntime(
      {
        ...tableEnv(tables.names),
        [DYNAMODB_ENDPOINT_ENV]: tables.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        ...env,
      },
      options,
    ),
    gateway,
    clock,
    events,
    pushChallenges: events,
  };
  return {
    runtime,
    gateway,
    clock,
    events,
    tables,
    async items(table) {
      const result = await tables.client.send(
        new ScanCommand({ TableName: tables.names[table], ConsistentRead: true }),
      );
      return (result.Items ?? []).map((item) => unmarshall(item));
    },
  };
}

/** msg_data end to end as the send handler runs it: store, make the delivery durable, (ack,) deliver. */
export async function sendAndDeliver(
  runtime: Runtime,
  input: { userId: string; connectionId: string; body: string | undefined },
) {
  const sent = await sendMessage(runtime, input);
  const stats = await sent.deliver();
  return { ...sent.accepted, ack: sent.ack, stats };
}

/** A msg_data frame body. */
export function msgData(fields: Record<string, unknown>): string {
  return JSON.stringify({ action: 'msg_data', msg_type: 1, msg_data: 'hi', ...fields });
}

/** A route handler invoked as API Gateway would for the user's connection `<userId>-c`. */
export function requestAs(
  handler: (e: WebSocketEvent) => Promise<unknown>,
  userId: string,
  frame: Record<string, unknown>,
): Promise<unknown> {
  return handler({
    body: JSON.stringify(frame),
    requestContext: {
      connectionId: `${userId}-c`,
      routeKey: String(frame['action']),
      eventType: 'MESSAGE',
      authorizer: { userId },
    },
  } as unknown as WebSocketEvent);
}

/** alice creates a group of these members through the groups handler; its id, from her reply. */
export async function createGroupAsAlice(t: TestRuntime, members: string[]): Promise<string> {
  await requestAs(createGroupsHandler(t.runtime), 'alice', {
    action: 'group_create',
    group_name: 'g',
    member_ids: members,
  });
  return (t.gateway.framesTo('alice-c').at(-1) as unknown as { group_id: string }).group_id;
}
