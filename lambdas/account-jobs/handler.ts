/**
 * The account deletion worker, fed by the deletion queue (SQS FIFO, one record a batch): each record is one page of a
 * job (core/usecases/account-deletion.ts), which queues the next page before the record is deleted. A page that
 * fails is reported in batchItemFailures, so SQS runs it again after the visibility timeout (the DLQ keeps it after
 * maxReceiveCount); a record that is not a job is logged and dropped, since no retry would change it.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger, observed } from '../../core/observability.js';
import { parseDeletionJob } from '../../core/domain/account.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { accountEvents } from '../../core/compose/account-events.js';
import { attachmentBucket } from '../../core/compose/attachments.js';
import { deletionQueue } from '../../core/compose/deletion-queue.js';
import {
  accountTable,
  deviceTokenTable,
  groupHandoverTables,
  groupTables,
  presenceTable,
  tombstoneTable,
  userRowTable,
} from '../../core/compose/dynamo.js';
import { identityDirectory } from '../../core/compose/identity.js';
import { runDeletionPage, type AccountDeletionPorts } from '../../core/usecases/account-deletion.js';

/** DynamoDB, @connections (group notices), S3 (attachments), SQS (next page), Cognito, EventBridge. */
export function accountJobsHandlerPorts(adapters: Adapters): AccountDeletionPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    accounts: accountTable(db, config),
    presence: presenceTable(db, config),
    deviceTokens: deviceTokenTable(db, config),
    userRows: userRowTable(db, config),
    tombstones: tombstoneTable(db, config),
    groups: groupTables(db, config),
    handover: groupHandoverTables(db, config),
    attachments: attachmentBucket(adapters),
    jobs: deletionQueue(adapters),
    identity: identityDirectory(adapters),
    accountEvents: accountEvents(adapters),
  };
}

export function createAccountJobsHandler(ports: AccountDeletionPorts) {
  return observed(
    async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const job = parseDeletionJob(record.body);
        if (!job) {
          logger.error('not a deletion job; dropped', { messageId: record.messageId });
          continue;
        }
        try {
          await runDeletionPage(ports, job);
        } catch (error) {
          logger.error('deletion page failed; SQS runs it again', { userId: job.userId, page: job.page, error });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    },
    () => ({ routeKey: 'account-jobs' }),
  );
}
