/**
 * Counts DynamoDB calls and the capacity units DynamoDB reports for them (ReturnConsumedCapacity=TOTAL on every
 * call), for the cost accounting test and the benchmark: units are counted, not guessed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface CapacityRecord {
  readonly command: string;
  readonly table: string;
  readonly readUnits: number;
  readonly writeUnits: number;
}

interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

export class CapacityMeter {
  readonly records: CapacityRecord[] = [];

  /** Adds a middleware to the client's stack; every later call is recorded. */
  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        input['ReturnConsumedCapacity'] = 'TOTAL';
        const result = await next(args);
        const command = context.commandName ?? 'unknown';
        const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
        const consumed = output.ConsumedCapacity === undefined ? [] : [output.ConsumedCapacity].flat();
        if (consumed.length === 0) this.records.push({ command, table: '', readUnits: 0, writeUnits: 0 });
        for (const c of consumed) {
          const total = c.CapacityUnits ?? 0;
          const isWrite = WRITE_COMMANDS.has(command);
          this.records.push({
            command,
            table: c.TableName ?? '',
            readUnits: c.ReadCapacityUnits ?? (isWrite ? 0 : total),
            writeUnits: c.WriteCapacityUnits ?? (isWrite ? total : 0),
          });
        }
        return result;
      },
      { step: 'initialize', name: 'capacityMeter', override: true },
    );
  }

  reset(): void {
    this.records.length = 0;
  }

  totals(): { calls: number; readUnits: number; writeUnits: number } {
    return this.records.reduce(
      (sum, r) => ({
        calls: sum.calls + 1,
        readUnits: sum.readUnits + r.readUnits,
        writeUnits: sum.writeUnits + r.writeUnits,
      }),
      { calls: 0, readUnits: 0, writeUnits: 0 },
    );
  }
}
