/**
 * Routes report (core/usecases/report.ts: stored once per reporter and target, announced on the bus) and
 * account_export (core/usecases/account-export.ts: the day's export claimed, its job handed to the export worker).
 */
import { AccountExportSchema, ReportSchema } from '../../core/domain/report.js';
import { logger } from '../../core/observability.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { groupTables, messageTable, rateLimitTable } from '../../core/compose/dynamo.js';
import { exportClaimTable, moderationBus, reportTable } from '../../core/compose/moderation.js';
import type { Runtime } from '../../core/runtime.js';
import { requestExport, type RequestExportPorts } from '../../core/usecases/account-export.js';
import { fileReport, type ReportPorts } from '../../core/usecases/report.js';

export type ReportsHandlerPorts = Pick<Runtime, 'config' | 'clock' | 'gateway' | 'rateLimits' | 'groups' | 'messages'> &
  ReportPorts &
  RequestExportPorts;

/** DynamoDB (Reports, Messages, GroupMembers, Sessions' export claims, RateLimits), @connections, EventBridge: no S3. */
export function reportsHandlerPorts(adapters: Adapters): ReportsHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    groups: groupTables(db, config),
    messages: messageTable(db, config),
    reports: reportTable(db, config),
    exportClaims: exportClaimTable(db, config),
    moderation: moderationBus(adapters),
  };
}

export function createReportsHandler(ports: ReportsHandlerPorts) {
  return createRequestHandler(ports, {
    report: request({
      schema: ReportSchema,
      run: async (rt, caller, r) => {
        const reportId = await fileReport(rt, caller.userId, r);
        logger.info('report', { reportId, reason: r.reason });
        return { report_id: reportId };
      },
    }),
    account_export: request({
      schema: AccountExportSchema,
      run: async (rt, caller) => ({ export_id: await requestExport(rt, caller.userId) }),
    }),
  });
}
