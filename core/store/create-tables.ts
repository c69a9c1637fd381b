/** Creates the tables of schema.ts on a DynamoDB endpoint (DynamoDB Local in local mode and tests). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { ALL_TABLES, type TableId } from './schema.js';

/** Creates every table that does not exist yet, named `${prefix}${id}`; returns the names by id. */
export async function createTables(client: DynamoDBClient, prefix = ''): Promise<Record<TableId, string>> {
  const names = {} as Record<TableId, string>;
  for (const spec of ALL_TABLES) {
    const name = `${prefix}${spec.id}`;
    names[spec.id] = name;
    const keys = [spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : [])];
    const attributeDefinitions: AttributeDefinition[] = keys.map((k) => ({
      AttributeName: k.name,
      AttributeType: k.type,
    }));
    const keySchema: KeySchemaElement[] = keys.map((k, i) => ({
      AttributeName: k.name,
      KeyType: i === 0 ? 'HASH' : 'RANGE',
    }));
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: attributeDefinitions,
          KeySchema: keySchema,
        }),
      );
      if (spec.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
          }),
        );
      }
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await client.send(new DescribeTableCommand({ TableName: name }));
  }
  return names;
}

/** Environment variables that point the handlers at tables named by createTables. */
export function tableEnv(names: Record<TableId, string>): Record<string, string> {
  return Object.fromEntries(ALL_TABLES.map((spec) => [spec.envVar, names[spec.id]]));
}
