/**
 * ChatExportJobs: the rule that hands `Account Export Requested` events (core/usecases/account-export.ts) from the
 * construct's bus to the export worker, invoked asynchronously. A job that fails is not retried (the function's
 * async retries are 0): it lands in the functions' dead-letter queue and the user's next request restarts it.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EXPORT_REQUESTED_DETAIL_TYPE, MODERATION_EVENT_SOURCE } from '../core/domain/moderation-events.js';

export interface ChatExportJobsProps {
  /** The construct's bus, where the reports function puts export requests. */
  readonly eventBus: events.IEventBus;
  /** The export worker (lambdas/exports). */
  readonly worker: lambda.IFunction;
}

export class ChatExportJobs extends Construct {
  constructor(scope: Construct, id: string, props: ChatExportJobsProps) {
    super(scope, id);
    new events.Rule(this, 'Requests', {
      description: 'Runs the export worker for each account_export request',
      eventBus: props.eventBus,
      eventPattern: { source: [MODERATION_EVENT_SOURCE], detailType: [EXPORT_REQUESTED_DETAIL_TYPE] },
      targets: [new targets.LambdaFunction(props.worker)],
    });
  }
}
