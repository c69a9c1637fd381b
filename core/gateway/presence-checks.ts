/**
 * The PresenceCheckQueue port on an SQS standard queue: one message per check, DelaySeconds for the offline hold-back.
 * A standard queue may deliver a check twice or out of order; the check reads the item afresh and moves `announced`
 * conditionally, so a duplicate announces nothing.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { PresenceCheck } from '../domain/presence.js';
import type { PresenceCheckQueue } from '../ports/presence.js';

export class SqsPresenceChecks implements PresenceCheckQueue {
  private readonly sqs: SQSClient;

  constructor(
    private readonly queueUrl: string,
    options: { region?: string | undefined } = {},
  ) {
    this.sqs = new SQSClient({ ...(options.region ? { region: options.region } : {}), maxAttempts: 3 });
  }

  async enqueue(check: PresenceCheck, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ userId: check.userId }),
        DelaySeconds: delaySeconds,
      }),
    );
  }
}

/** No queue configured (a test stack without presence): changes are not announced; statuses still read right. */
export const noPresenceChecks: PresenceCheckQueue = { enqueue: async () => {} };
