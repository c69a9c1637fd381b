/**
 * The presence checks queue (core/usecases/presence.ts): an SQS standard queue whose messages name a user whose status
 * may have changed, read in batches by the presence-jobs function, and its dead-letter queue.
 *
 * Why a queue: $connect and $disconnect add one SendMessage (and only when the status moves from the one announced)
 * instead of the announcement's Query and posts; DelaySeconds holds an offline check back (PRESENCE_HOLDBACK_SECONDS),
 * so a connection that comes back sooner announces nothing, with no timer table to sweep. A standard queue is enough:
 * the check reads the Presence item afresh and moves `announced` conditionally, so a duplicate or late check announces
 * nothing twice. $0.40 per million requests (a check costs a send, a receive and a delete, in batches of up to 10).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_SPECS } from './function-specs.js';

/** Receipts of a check before it goes to the dead-letter queue. */
export const PRESENCE_CHECK_MAX_RECEIVE_COUNT = 5;

export class PresenceChecksQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the presence checks queue.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the worker's timeout, as Lambda's SQS event source asks.
      visibilityTimeout: Duration.seconds(6 * FUNCTION_SPECS['presence-jobs'].timeoutSeconds),
      // A check older than an hour announces a status long since read by the subscribers' own users_stat.
      retentionPeriod: Duration.hours(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: PRESENCE_CHECK_MAX_RECEIVE_COUNT },
    });
  }

  /** The worker reads checks in batches of up to 10, without waiting to fill one (the contract's 15 s). */
  addWorker(worker: lambda.Function): void {
    worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
  }
}
