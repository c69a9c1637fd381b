/**
 * ChatSweeper: the schedule that runs the sweeper function (an EventBridge rate rule; redelivery of unacked
 * messages and clean-up of gone connections), with a dead-letter queue for schedule events that could not be
 * delivered to it and no retries (the next run does the same work).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError } from '../core/errors.js';

export interface ChatSweeperProps {
  /** The sweeper function. */
  readonly sweeper: lambda.IFunction;
  /** How often it runs: whole minutes, at least one (EventBridge rate). */
  readonly interval: Duration;
}

export class ChatSweeper extends Construct {
  /** Schedule events EventBridge could not deliver to the sweeper. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ChatSweeperProps) {
    super(scope, id);
    const minutes = sweepIntervalMinutes(props.interval);
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: it receives schedule events EventBridge could not deliver to the sweeper.',
    });
    new events.Rule(this, 'Schedule', {
      description: 'Runs the sweeper: redelivers deliveries not acked within the ack timeout',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new targets.LambdaFunction(props.sweeper, { retryAttempts: 0, deadLetterQueue: this.deadLetterQueue })],
    });
  }
}

/** The interval in whole minutes, at least one; throws otherwise (an EventBridge rate has minute granularity). */
export function sweepIntervalMinutes(interval: Duration): number {
  const minutes = interval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1) {
    throw new ConfigError(
      `ChatBackend: sweepInterval must be a whole number of minutes (EventBridge rate), got ${interval.toMilliseconds()} ms`,
    );
  }
  return minutes;
}
