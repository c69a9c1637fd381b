/**
 * Every frame the server posts must fit API Gateway's 128 KB (a larger post is refused with 413 and lost), whatever
 * is stored. Replies that list things take items while they fit and tell the client how to go on.
 */
import { MAX_FRAME_BYTES } from '../../protocol/limits.js';

/** Room for a list reply's items: the frame limit less a margin for `type`, `seq` and the other fields. */
export const REPLY_BUDGET_BYTES = MAX_FRAME_BYTES - 2048;

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The longest prefix of `items` whose JSON fits in `budget` bytes (each item plus its comma); at least one item when
 * there is one and `atLeastOne` (a single item always fits: msg_data is bounded so that it does).
 */
export function fitItems<T>(
  items: readonly T[],
  budget = REPLY_BUDGET_BYTES,
  atLeastOne = true,
): { fitted: T[]; rest: T[] } {
  let used = 2;
  let n = 0;
  for (const item of items) {
    const size = jsonBytes(item) + 1;
    if (used + size > budget && !(atLeastOne && n === 0)) break;
    used += size;
    n++;
  }
  return { fitted: items.slice(0, n), rest: items.slice(n) };
}
