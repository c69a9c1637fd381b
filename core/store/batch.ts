/** Retries the unprocessed part of a batch call with exponential backoff, as DynamoDB asks callers to. */
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
