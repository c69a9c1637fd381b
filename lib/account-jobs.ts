/**
 * The account deletion job's queue (core/usecases/account-deletion.ts): an SQS FIFO queue whose messages are the pages
 * of deletion jobs, read one at a time by the account-jobs function, and its FIFO dead-letter queue.
 *
 * Why a FIFO queue and not Step Functions: a page queues the next page with the user as the message group (a user's
 * pages run one at a time, in order) and job#page as the deduplication id, so a page run again after a crash — which
 * queues its next page again — adds nothing; it costs 3 SQS requests a page ($0.50 per million each) against
 * Step Functions' 25 state transitions per million at $25 (a Standard workflow's loop of pages pays a transition for
 * every state of every page), and it runs locally in process without a Step Functions emulator.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_SPECS } from './function-specs.js';

/** Receipts of a page before it goes to the dead-letter queue. */
export const DELETION_MAX_RECEIVE_COUNT = 5;

/**
 * Under SQS FIFO's 5-minute deduplication window, so a page that failed and is received again re-queues a next page
 * that SQS drops as a duplicate; three times the worker's timeout.
 */
export const DELETION_VISIBILITY_TIMEOUT = Duration.seconds(3 * FUNCTION_SPECS['account-jobs'].timeoutSeconds);

export class AccountDeletionQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the account deletion queue.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: DELETION_VISIBILITY_TIMEOUT,
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: DELETION_MAX_RECEIVE_COUNT },
    });
  }

  /** The worker reads one page at a time (the next page is queued by the page before it). */
  addWorker(worker: lambda.Function): void {
    worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));
  }
}
