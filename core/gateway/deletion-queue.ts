/**
 * The DeletionJobQueue port on an SQS FIFO queue: one message per page, in the user's message group (a user's pages
 * run one at a time, in order), deduplicated by job and page, so a page that a crashed run had queued already is
 * dropped when the run is repeated (SQS keeps deduplication ids 5 minutes).
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { deletionPageId, type DeletionJob } from '../domain/account.js';
import { ConfigError } from '../errors.js';
import type { DeletionJobQueue } from '../ports/accounts.js';

export class SqsDeletionQueue implements DeletionJobQueue {
  private readonly sqs: SQSClient;

  constructor(
    private readonly queueUrl: string,
    options: { region?: string | undefined } = {},
  ) {
    this.sqs = new SQSClient({ ...(options.region ? { region: options.region } : {}), maxAttempts: 4 });
  }

  async enqueue(job: DeletionJob): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(job),
        MessageGroupId: job.userId,
        MessageDeduplicationId: deletionPageId(job),
      }),
    );
  }
}

/** No queue configured: a deletion cannot start, and saying so beats accepting it silently. */
export const noDeletionQueue: DeletionJobQueue = {
  enqueue: async () => {
    throw new ConfigError('no deletion queue is configured (DELETION_QUEUE_URL)');
  },
};
