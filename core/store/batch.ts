/** Paged and batched DynamoDB calls: unprocessed items retried with backoff, Query pages followed. */
import {
  BatchGetCommand,
  BatchWriteCommand,
  QueryCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import { UnprocessedItemsError } from '../errors.js';

const MAX_ROUNDS = 8;

/** Runs `round` until it reports nothing left (false); waits 50 ms, 100 ms, … between rounds. */
export async function withUnprocessedRetries(round: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < MAX_ROUNDS; attempt++) {
    if (!(await round())) return;
    await delay(Math.min(50 * 2 ** attempt, 2_000));
  }
  throw new UnprocessedItemsError(`batch still had unprocessed items after ${MAX_ROUNDS} rounds`);
}

const BATCH_WRITE_LIMIT = 25;

/** BatchWriteItem in chunks of 25, retrying unprocessed items. */
export async function batchWriteAll(
  db: { send(command: BatchWriteCommand): Promise<BatchWriteCommandOutput> },
  tableName: string,
  requests: readonly Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: Record<string, unknown>[] | undefined = requests.slice(i, i + BATCH_WRITE_LIMIT);
    await withUnprocessedRetries(async () => {
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending as never } }));
      const unprocessed = result.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
      pending = unprocessed && unprocessed.length > 0 ? unprocessed : undefined;
      return pending !== undefined;
    });
  }
}

const BATCH_GET_LIMIT = 100;

/** BatchGetItem in chunks of 100 keys, retrying unprocessed keys; the items found, in no particular order. */
export async function batchGetAll(
  db: { send(command: BatchGetCommand): Promise<BatchGetCommandOutput> },
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: { consistent?: boolean; projection?: string } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_LIMIT);
    await withUnprocessedRetries(async () => {
      const result = await db.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending!,
              ConsistentRead: options.consistent,
              ProjectionExpression: options.projection,
            },
          },
        }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      const unprocessed = result.UnprocessedKeys?.[tableName]?.Keys;
      pending = unprocessed && unprocessed.length > 0 ? unprocessed : undefined;
      return pending !== undefined;
    });
  }
  return items;
}

/** Every item a Query matches, following LastEvaluatedKey past DynamoDB's 1 MB pages. */
export async function* queryAll(
  db: { send(command: QueryCommand): Promise<QueryCommandOutput> },
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): AsyncGenerator<Record<string, unknown>> {
  for await (const page of queryPages(db, input)) yield* page;
}

/** A Query's pages as DynamoDB returns them (`Limit` items evaluated per page), following LastEvaluatedKey. */
export async function* queryPages(
  db: { send(command: QueryCommand): Promise<QueryCommandOutput> },
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
