/**
 * Local mode's deletion queue: the account-jobs worker run in process, as SQS FIFO and its event source mapping run
 * it on AWS — pages one at a time in the order queued, a page queued twice (same job, same page) kept once, a failed
 * page tried again a moment later (at most MAX_TRIES, then dropped as SQS would move it to the DLQ). It also records
 * the `Account Deleted` events, so tests and the page can wait for a deletion to finish.
 */
import type { SQSEvent } from 'aws-lambda';
import { deletionPageId, type DeletionJob } from '../core/domain/account.js';
import type { AccountEventPublisher, DeletionJobQueue } from '../core/ports/accounts.js';

type Worker = (event: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

const MAX_TRIES = 5;
const RETRY_DELAY_MS = 500;

export class LocalDeletionJobs implements DeletionJobQueue, AccountEventPublisher {
  private readonly seen = new Set<string>();
  private readonly waiting: { job: DeletionJob; tries: number }[] = [];
  private readonly deleted = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** The worker (the account-jobs handler), known once its ports are composed with this queue. */
  attach(worker: Worker): void {
    this.worker = worker;
    this.drain();
  }

  async enqueue(job: DeletionJob): Promise<void> {
    const id = deletionPageId(job);
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.waiting.push({ job, tries: 0 });
    this.drain();
  }

  async publishAccountDeleted(detail: { user_id: string; deleted_at: number }): Promise<void> {
    this.deleted.set(detail.user_id, detail.deleted_at);
    for (const resolve of this.waiters.get(detail.user_id) ?? []) resolve();
    this.waiters.delete(detail.user_id);
  }

  /** Resolves when the user's deletion job has published its end (at once when it has). */
  deletedAccount(userId: string): Promise<void> {
    if (this.deleted.has(userId)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(userId, [...(this.waiters.get(userId) ?? []), resolve]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.running;
  }

  private drain(): void {
    if (this.running || !this.worker || this.stopped) return;
    this.running = this.runAll().finally(() => {
      this.running = undefined;
    });
  }

  private async runAll(): Promise<void> {
    for (let next = this.waiting.shift(); next && !this.stopped; next = this.waiting.shift()) {
      const id = deletionPageId(next.job);
      const { batchItemFailures } = await this.worker!(sqsEvent(id, next.job));
      if (batchItemFailures.length === 0 || next.tries + 1 >= MAX_TRIES) continue;
      // As SQS after the visibility timeout: the page again, ahead of the pages it may have queued.
      this.waiting.unshift({ job: next.job, tries: next.tries + 1 });
      this.retryTimer = setTimeout(() => this.drain(), RETRY_DELAY_MS);
      return;
    }
  }
}

function sqsEvent(messageId: string, job: DeletionJob): SQSEvent {
  return {
    Records: [
      {
        messageId,
        receiptHandle: messageId,
        body: JSON.stringify(job),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
          MessageGroupId: job.userId,
          MessageDeduplicationId: messageId,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:local-deletion.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}
