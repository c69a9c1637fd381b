/** Retries the unprocessed part of a batch call with exponential backoff, as DynamoDB asks callers to. */
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';

const MAX_ROUNDS = 8;

export class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
}

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
