/**
 * Write units per partition key per second, for bench/capacity.ts: DynamoDB takes at most 1,000 write units a second
 * on one partition, so the key that takes the most units per message sets the ceiling of what it serves. Attached to
 * every function's DynamoDB client (startLocalStack's runtimeOptions.dynamoPlugins), after the capacity meter, which
 * asks for ReturnConsumedCapacity.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoClientPlugin } from '../core/compose/adapters.js';
import { TABLES, type TableId } from '../core/store/schema.js';

type Item = Record<string, unknown>;

/** Write units of one item: 1 per started KB of its JSON (close to DynamoDB's item size for these small items). */
const unitsOf = (item: Item | undefined) =>
  Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(item ?? {})) / 1024));

export class PartitionRecorder implements DynamoClientPlugin {
  /** `table\u0000key` → second → write units. */
  readonly #units = new Map<string, Map<number, number>>();
  #tableIds: ReadonlyMap<string, TableId> = new Map();

  /** The stack's physical table names, known once it started (writes before are not recorded). */
  bind(tables: Readonly<Record<TableId, string>>): void {
    this.#tableIds = new Map(Object.entries(tables).map(([id, name]) => [name, id as TableId]));
  }

  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        this.#record(context.commandName ?? '', args.input as Item, Math.floor(Date.now() / 1000));
        return result;
      },
      { step: 'initialize', name: 'partitionRecorder', override: true },
    );
  }

  reset(): void {
    this.#units.clear();
  }

  #add(tableName: string, item: Item | undefined, second: number, units = unitsOf(item)): void {
    const table = this.#tableIds.get(tableName);
    if (!table || !item) return;
    // Plain values before the document client marshals them, { S: … } / { N: … } after.
    const value = item[TABLES[table].partitionKey.name];
    const plain =
      typeof value === 'object' && value !== null
        ? ((value as { S?: string; N?: string }).S ?? (value as { N?: string }).N)
        : value;
    const key = `${table}\u0000${String(plain)}`;
    const bySecond = this.#units.get(key) ?? new Map<number, number>();
    bySecond.set(second, (bySecond.get(second) ?? 0) + units);
    this.#units.set(key, bySecond);
  }

  #record(command: string, input: Item, second: number): void {
    const table = input['TableName'] as string;
    if (command === 'PutItemCommand') this.#add(table, input['Item'] as Item, second);
    else if (command === 'UpdateItemCommand' || command === 'DeleteItemCommand')
      this.#add(table, input['Key'] as Item, second, 1);
    else if (command === 'BatchWriteItemCommand') {
      for (const [name, requests] of Object.entries(
        input['RequestItems'] as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>,
      )) {
        for (const r of requests)
          this.#add(
            name,
            r.PutRequest?.Item ?? r.DeleteRequest?.Key,
            second,
            r.PutRequest ? unitsOf(r.PutRequest.Item) : 1,
          );
      }
    }
  }

  /** Per table: the key that took the most units in one second, that peak, and the table's units in all. */
  hottest(): {
    table: TableId;
    key: string;
    peakPerSecond: number;
    keyUnits: number;
    tableUnits: number;
    keys: number;
  }[] {
    const byTable = new Map<
      TableId,
      { key: string; peakPerSecond: number; keyUnits: number; tableUnits: number; keys: number }
    >();
    for (const [composite, bySecond] of this.#units) {
      const [table, key] = composite.split('\u0000') as [TableId, string];
      const units = [...bySecond.values()];
      const peak = Math.max(...units);
      const total = units.reduce((a, b) => a + b, 0);
      const row = byTable.get(table) ?? { key, peakPerSecond: 0, keyUnits: 0, tableUnits: 0, keys: 0 };
      row.tableUnits += total;
      row.keys++;
      if (peak > row.peakPerSecond) Object.assign(row, { key, peakPerSecond: peak, keyUnits: total });
      byTable.set(table, row);
    }
    return [...byTable].map(([table, row]) => ({ table, ...row })).sort((a, b) => b.peakPerSecond - a.peakPerSecond);
  }
}
