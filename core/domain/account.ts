/**
 * An account deletion job, one page at a time: each page is one queue message that does a bounded piece of work and
 * queues the next page. Every step acts on what is stored now (the first rows left in the user's partition, the
 * messages not yet tombstones), so a page run twice, or a page run after a crash half-way, does nothing twice; the
 * cursor only saves re-reading a long conversation from its start.
 */

/** The step of a page: device tokens, then the user's rows (conversations, groups, records), then the end. */
export type DeletionStep = 'devices' | 'rows' | 'finish';

export interface DeletionJob {
  readonly userId: string;
  /** 0, 1, 2, … : with the user id, the page's deduplication id in the queue. */
  readonly page: number;
  readonly step: DeletionStep;
  /** Within a conversation: the session row being emptied and the last msg_id looked at. */
  readonly cursor?: { readonly sessionKey: string; readonly afterMsgId: number };
}

/** Messages read per page in a conversation: one Query of ≤ 100 items, ≤ 100 tombstone writes. */
export const DELETION_MESSAGES_PER_PAGE = 100;
/** Records (index entries, quota rows, attachment references) deleted per page: one BatchWriteItem. */
export const DELETION_ROWS_PER_PAGE = 25;

/** The EventBridge detail-type of a finished account deletion (beside `Message Undelivered`). */
export const ACCOUNT_DELETED_DETAIL_TYPE = 'Account Deleted';

/** The job's id in the queue's deduplication: the same page of the same job is queued once. */
export function deletionPageId(job: Pick<DeletionJob, 'userId' | 'page'>): string {
  return `${job.userId}#${job.page}`;
}

/** A queue message's body as a job, or undefined when it is not one (a poison message is dropped, not retried). */
export function parseDeletionJob(body: string): DeletionJob | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const job = value as Record<string, unknown>;
  const steps: readonly unknown[] = ['devices', 'rows', 'finish'];
  if (typeof job['userId'] !== 'string' || !Number.isInteger(job['page']) || !steps.includes(job['step']))
    return undefined;
  const cursor = job['cursor'] as Record<string, unknown> | undefined;
  if (cursor !== undefined && (typeof cursor['sessionKey'] !== 'string' || !Number.isInteger(cursor['afterMsgId'])))
    return undefined;
  return value as DeletionJob;
}
