/**
 * The bench's capacity meter: CapacityMeter (core/store/consumed-capacity.ts) plus what pricing needs and DynamoDB
 * Local does not report as DynamoDB bills it.
 *
 * - DynamoDB Local reports 0 units for a read that returns nothing (empty Query/Scan, GetItem of a missing item);
 *   DynamoDB bills such a read its minimum: 0.5 unit eventually consistent, 1 unit strongly consistent. Each such
 *   call is counted and the minimum added (`minimumReadUnits`).
 * - A write refused by its ConditionExpression throws, so CapacityMeter records nothing; DynamoDB bills it one write
 *   unit per KB (items here are < 1 KB): counted as 1 write unit (`failedConditionalWrites`).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CapacityMeter } from '../core/store/consumed-capacity.js';

export interface CallRecord {
  readonly command: string;
  readonly table: string;
  /** As DynamoDB Local reported them. */
  readonly reportedRead: number;
  readonly reportedWrite: number;
  /** Added by the corrections above. */
  readonly addedRead: number;
  readonly addedWrite: number;
  readonly consistent: boolean;
  readonly failed: boolean;
}

const READ_COMMANDS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

interface Consumed {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export interface MeterTotals {
  calls: number;
  readUnits: number;
  writeUnits: number;
  reportedReadUnits: number;
  reportedWriteUnits: number;
  /** Reads DynamoDB Local reported as 0 units, billed at their minimum here. */
  zeroUnitReads: number;
  failedConditionalWrites: number;
  byCommand: Record<string, number>;
  /** Units (corrected) by `Command Table`. */
  unitsByCommand: Record<string, { read: number; write: number }>;
}

export class BenchMeter extends CapacityMeter {
  readonly calls: CallRecord[] = [];

  override attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        input['ReturnConsumedCapacity'] = 'TOTAL';
        const command = context.commandName ?? 'unknown';
        const consistent = input['ConsistentRead'] === true;
        const tableName = typeof input['TableName'] === 'string' ? input['TableName'] : '';
        let result;
        try {
          result = await next(args);
        } catch (error) {
          const name = (error as { name?: string }).name;
          if (WRITE_COMMANDS.has(command) && name === 'ConditionalCheckFailedException') {
            this.push({
              command,
              table: tableName,
              reportedRead: 0,
              reportedWrite: 0,
              addedRead: 0,
              addedWrite: 1,
              consistent,
              failed: true,
            });
          } else {
            this.push({
              command,
              table: tableName,
              reportedRead: 0,
              reportedWrite: 0,
              addedRead: 0,
              addedWrite: 0,
              consistent,
              failed: true,
            });
          }
          throw error;
        }
        const output = result.output as { ConsumedCapacity?: Consumed | Consumed[] };
        const consumed = output.ConsumedCapacity === undefined ? [] : [output.ConsumedCapacity].flat();
        const isWrite = WRITE_COMMANDS.has(command);
        let read = 0;
        let write = 0;
        let table = tableName;
        for (const c of consumed) {
          const total = c.CapacityUnits ?? 0;
          read += c.ReadCapacityUnits ?? (isWrite ? 0 : total);
          write += c.WriteCapacityUnits ?? (isWrite ? total : 0);
          table ||= c.TableName ?? '';
        }
        const addedRead = READ_COMMANDS.has(command) && read === 0 ? (consistent ? 1 : 0.5) : 0;
        this.push({
          command,
          table,
          reportedRead: read,
          reportedWrite: write,
          addedRead,
          addedWrite: 0,
          consistent,
          failed: false,
        });
        return result;
      },
      { step: 'initialize', name: 'benchCapacityMeter', override: true },
    );
  }

  private push(record: CallRecord): void {
    this.calls.push(record);
    this.records.push({
      command: record.command,
      table: record.table,
      readUnits: record.reportedRead + record.addedRead,
      writeUnits: record.reportedWrite + record.addedWrite,
    });
  }

  override reset(): void {
    super.reset();
    this.calls.length = 0;
  }

  /** Totals with the corrections applied. */
  summary(): MeterTotals {
    const t: MeterTotals = {
      calls: 0,
      readUnits: 0,
      writeUnits: 0,
      reportedReadUnits: 0,
      reportedWriteUnits: 0,
      zeroUnitReads: 0,
      failedConditionalWrites: 0,
      byCommand: {},
      unitsByCommand: {},
    };
    for (const c of this.calls) {
      t.calls++;
      t.readUnits += c.reportedRead + c.addedRead;
      t.writeUnits += c.reportedWrite + c.addedWrite;
      t.reportedReadUnits += c.reportedRead;
      t.reportedWriteUnits += c.reportedWrite;
      if (c.addedRead > 0) t.zeroUnitReads++;
      if (c.failed && c.addedWrite > 0) t.failedConditionalWrites++;
      const key = `${c.command.replace(/Command$/, '')} ${shortTable(c.table)}`;
      t.byCommand[key] = (t.byCommand[key] ?? 0) + 1;
      const u = (t.unitsByCommand[key] ??= { read: 0, write: 0 });
      u.read += c.reportedRead + c.addedRead;
      u.write += c.reportedWrite + c.addedWrite;
    }
    return t;
  }
}

/** `bench_ab12_Messages` → `Messages`. */
export function shortTable(name: string): string {
  return name.replace(/^.*_/, '');
}
