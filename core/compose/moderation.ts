/**
 * The ports of reports and exports: their tables, the moderation side of the bus (none without a bus: reports are
 * still stored, exports refused), and the export bucket (S3, only the export worker builds it).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Exports } from '../blob/s3-exports.js';
import type { Config } from '../config.js';
import { FrameError } from '../errors.js';
import { EventBridgeModerationPublisher } from '../gateway/moderation-bus.js';
import type { ExportBlobs, ModerationPublisher } from '../ports/moderation.js';
import { ExportClaimTable } from '../store/export-claims.js';
import { ReportTable } from '../store/reports.js';
import { UserRowTable } from '../store/user-rows.js';
import type { Adapters } from './adapters.js';

export const reportTable = (db: DynamoDBDocumentClient, { tables }: Config) => new ReportTable(db, tables.Reports);

export const exportClaimTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new ExportClaimTable(db, tables.Sessions);

export const userRowTable = (db: DynamoDBDocumentClient, { tables }: Config) => new UserRowTable(db, tables.Sessions);

/** Without a bus: reports are stored (the admin command lists them) but announce nothing, and exports are off. */
const noModerationBus: ModerationPublisher = {
  publishReport: async () => undefined,
  startExport: async () => {
    throw new FrameError('not_allowed', 'account exports are not configured on this server');
  },
  exportReady: async () => undefined,
};

export function moderationBus({ config, region, options }: Adapters): ModerationPublisher {
  if (options.moderation) return options.moderation;
  return config.eventBusName ? new EventBridgeModerationPublisher(config.eventBusName, { region }) : noModerationBus;
}

export function exportBucket(adapters: Adapters): ExportBlobs {
  const { config, s3Endpoint, region, credentials, options } = adapters;
  return new S3Exports({
    bucket: config.attachmentBucket,
    endpoint: s3Endpoint,
    region,
    credentials,
    plugins: options.s3Plugins,
  });
}
