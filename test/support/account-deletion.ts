/** The account deletion job's ports on a test runtime's tables, with fakes for the queue, Cognito, the bus and S3. */
import { adaptersFrom, DYNAMODB_ENDPOINT_ENV, type RuntimeOptions } from '../../core/compose/adapters.js';
import { deletionPageId, type DeletionJob } from '../../core/domain/account.js';
import type { AccountEventPublisher, DeletionJobQueue, IdentityDirectory } from '../../core/ports/accounts.js';
import type { AttachmentBlobs } from '../../core/ports/attachments.js';
import { tableEnv } from '../../core/store/create-tables.js';
import { runDeletionPage, type AccountDeletionPorts } from '../../core/usecases/account-deletion.js';
import { accountJobsHandlerPorts } from '../../lambdas/account-jobs/handler.js';
import type { TestRuntime } from './runtime.js';

/** A FIFO queue as SQS keeps it: a page queued twice (same job, same page) is kept once. */
export class MemoryDeletionQueue implements DeletionJobQueue {
  readonly queued: DeletionJob[] = [];
  private readonly ids = new Set<string>();

  async enqueue(job: DeletionJob): Promise<void> {
    if (this.ids.has(deletionPageId(job))) return;
    this.ids.add(deletionPageId(job));
    this.queued.push(job);
  }
}

export class RecordingAccountFakes implements IdentityDirectory, AccountEventPublisher {
  readonly identityDeletes: string[] = [];
  readonly events: { user_id: string; deleted_at: number }[] = [];

  async deleteUser(userId: string): Promise<void> {
    this.identityDeletes.push(userId);
  }

  async publishAccountDeleted(detail: { user_id: string; deleted_at: number }): Promise<void> {
    this.events.push(detail);
  }
}

/** Objects by key; `deleted` records every delete. */
export class MemoryBucket implements Pick<AttachmentBlobs, 'delete'> {
  readonly objects = new Set<string>();
  readonly deleted: string[] = [];

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
    this.deleted.push(key);
  }
}

export interface DeletionHarness {
  readonly ports: AccountDeletionPorts;
  readonly queue: MemoryDeletionQueue;
  readonly fakes: RecordingAccountFakes;
  readonly bucket: MemoryBucket;
}

/** The worker's ports as its entry composes them, on the test tables, with the test runtime's gateway and clock. */
export function deletionHarness(t: TestRuntime, options: RuntimeOptions = {}): DeletionHarness {
  const queue = new MemoryDeletionQueue();
  const fakes = new RecordingAccountFakes();
  const bucket = new MemoryBucket();
  const composed = accountJobsHandlerPorts(
    adaptersFrom(
      {
        ...tableEnv(t.tables.names),
        [DYNAMODB_ENDPOINT_ENV]: t.tables.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      options,
    ),
  );
  const ports: AccountDeletionPorts = {
    ...composed,
    gateway: t.gateway,
    clock: t.clock,
    jobs: queue,
    identity: fakes,
    accountEvents: fakes,
    attachments: bucket as unknown as AttachmentBlobs,
  };
  return { ports, queue, fakes, bucket };
}

/**
 * Runs the queue as the worker would: the oldest page first, each page once unless it throws (then again, as SQS
 * after the visibility timeout). Returns the pages run.
 */
export async function drainDeletion(ports: AccountDeletionPorts, queue: MemoryDeletionQueue): Promise<number> {
  let ran = 0;
  for (let i = 0; i < queue.queued.length; i++) {
    await runDeletionPage(ports, queue.queued[i]!);
    ran++;
  }
  return ran;
}
