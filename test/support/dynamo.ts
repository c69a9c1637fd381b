/** Test tables on the shared DynamoDB Local: a fresh set per call, named with a unique prefix. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createTables } from '../../core/store/create-tables.js';
import type { TableId } from '../../core/store/schema.js';

export interface TestTables {
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  readonly names: Record<TableId, string>;
}

/** A client of the run's shared DynamoDB Local. */
export function localDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export async function createTestTables(): Promise<TestTables> {
  const client = localDynamoClient();
  const names = await createTables(client, `t${randomUUID().slice(0, 8)}_`);
  return { client, endpoint: inject('dynamoEndpoint'), names };
}
