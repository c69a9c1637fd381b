/**
 * Creates an app's DynamoDB tables, as its template declares them (AWS::DynamoDB::Table and the CDK TableV2's
 * AWS::DynamoDB::GlobalTable): keys, attribute definitions, global and local secondary indexes and TTL, on demand
 * whatever the billing mode (DynamoDB Local ignores capacity). A table that exists already is kept as it is, with
 * its items (a data folder reused across runs).
 */
import {
  CreateTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { TableSpec } from './template.js';

type Props = Readonly<Record<string, unknown>>;

export async function createAppTables(client: DynamoDBClient, tables: readonly TableSpec[]): Promise<void> {
  for (const table of tables) {
    try {
      await client.send(new CreateTableCommand(createTableInput(table)));
    } catch (error) {
      if (error instanceof ResourceInUseException) continue;
      throw error;
    }
    const ttl = table.properties['TimeToLiveSpecification'] as Props | undefined;
    if (ttl?.['Enabled'] === true && typeof ttl['AttributeName'] === 'string') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table.name,
          TimeToLiveSpecification: { AttributeName: ttl['AttributeName'], Enabled: true },
        }),
      );
    }
  }
}

export function createTableInput(table: TableSpec): CreateTableCommandInput {
  const props = table.properties;
  const index = (spec: Props) => ({
    IndexName: String(spec['IndexName']),
    KeySchema: spec['KeySchema'] as CreateTableCommandInput['KeySchema'],
    Projection: (spec['Projection'] ?? { ProjectionType: 'ALL' }) as { ProjectionType: 'ALL' },
  });
  const globalIndexes = (props['GlobalSecondaryIndexes'] as Props[] | undefined) ?? [];
  const localIndexes = (props['LocalSecondaryIndexes'] as Props[] | undefined) ?? [];
  return {
    TableName: table.name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: props['AttributeDefinitions'] as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props['KeySchema'] as CreateTableCommandInput['KeySchema'],
    ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes.map(index) } : {}),
    ...(localIndexes.length > 0 ? { LocalSecondaryIndexes: localIndexes.map(index) } : {}),
  };
}
