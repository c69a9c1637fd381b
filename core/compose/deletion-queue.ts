/** The deletion jobs' queue of a function that starts or runs them: SQS FIFO, local mode's runner, or a refusal. */
import { noDeletionQueue, SqsDeletionQueue } from '../gateway/deletion-queue.js';
import type { DeletionJobQueue } from '../ports/accounts.js';
import type { Adapters } from './adapters.js';

export function deletionQueue({ config, region, options }: Adapters): DeletionJobQueue {
  if (options.deletionJobs) return options.deletionJobs;
  return config.deletionQueueUrl ? new SqsDeletionQueue(config.deletionQueueUrl, { region }) : noDeletionQueue;
}
