/**
 * The presence checks worker, fed by the presence checks queue (SQS standard, batches of up to 10): each record names
 * a user whose status may have changed ($connect at once, $disconnect held back); the check announces it to the
 * user's live subscribers if it differs from the one announced (core/usecases/presence.ts). A check that fails is
 * reported in batchItemFailures, so SQS runs it again after the visibility timeout (the DLQ keeps it after
 * maxReceiveCount); a record that is not a check is logged and dropped.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger, observed } from '../../core/observability.js';
import { parsePresenceCheck } from '../../core/domain/presence.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { blockTable, presenceTable, presenceWatcherTable } from '../../core/compose/dynamo.js';
import { checkPresence, type PresenceAnnouncePorts } from '../../core/usecases/presence.js';

/** DynamoDB (Presence, PresenceWatchers, Blocks) and @connections: no SQS client (the queue feeds it). */
export function presenceJobsHandlerPorts(adapters: Adapters): PresenceAnnouncePorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    presence: presenceTable(db, config),
    watchers: presenceWatcherTable(db, config),
    blocks: blockTable(db, config),
  };
}

export function createPresenceJobsHandler(ports: PresenceAnnouncePorts) {
  return observed(
    async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const check = parsePresenceCheck(record.body);
        if (!check) {
          logger.error('not a presence check; dropped', { messageId: record.messageId });
          continue;
        }
        try {
          await checkPresence(ports, check.userId);
        } catch (error) {
          logger.error('presence check failed; SQS runs it again', { userId: check.userId, error });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    },
    () => ({ routeKey: 'presence-jobs' }),
  );
}
