/**
 * The export worker: an `Account Export Requested` event from the bus (EventBridge invokes it asynchronously; local
 * mode calls it in-process) runs one export job (core/usecases/account-export.ts). A failed job is not retried by
 * Lambda: it lands in the dead-letter queue, and the user's next request after EXPORT_STALE_SECONDS restarts it.
 */
import { logger, observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { connectionTable, groupTables, messageTable } from '../../core/compose/dynamo.js';
import { exportBucket, exportClaimTable, moderationBus, userRowTable } from '../../core/compose/moderation.js';
import { exportJobOf } from '../../core/domain/moderation-events.js';
import { runExportJob, type ExportJobPorts } from '../../core/usecases/account-export.js';

/** DynamoDB (the user's Sessions rows, Messages, Groups, Connections), @connections, S3 (exports/), EventBridge. */
export function exportsHandlerPorts(adapters: Adapters): ExportJobPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    userRows: userRowTable(db, config),
    messages: messageTable(db, config),
    groups: groupTables(db, config),
    connections: connectionTable(db, config),
    exportClaims: exportClaimTable(db, config),
    exportBlobs: exportBucket(adapters),
    moderation: moderationBus(adapters),
  };
}

export function createExportsHandler(ports: ExportJobPorts) {
  return observed(
    async (event: unknown): Promise<{ messages: number }> => {
      const job = exportJobOf(event);
      const result = await runExportJob(ports, job);
      logger.info('export written', { exportId: job.export_id, resend: job.resend === true, ...result });
      return result;
    },
    () => ({ routeKey: 'export' }),
  );
}
