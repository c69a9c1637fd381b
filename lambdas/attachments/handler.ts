/**
 * Routes attachment_upload (a presigned PUT for a picture or voice note) and attachment_url (a presigned GET of an
 * attachment a message of the asked session references): core/usecases/attachments.ts.
 */
import { AttachmentUploadSchema, AttachmentUrlSchema } from '../../core/domain/attachment-requests.js';
import { logger } from '../../core/observability.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { attachmentBucket } from '../../core/compose/attachments.js';
import { attachmentRecordTable, groupTables, rateLimitTable } from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { downloadUrl, requestUpload } from '../../core/usecases/attachments.js';

export type AttachmentsHandlerPorts = Pick<
  Runtime,
  'config' | 'clock' | 'gateway' | 'rateLimits' | 'attachments' | 'attachmentRecords' | 'groups'
>;

/** The attachment bucket (S3), DynamoDB (the uploader's records, Groups, RateLimits) and @connections: no EventBridge. */
export function attachmentsHandlerPorts(adapters: Adapters): AttachmentsHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    attachments: attachmentBucket(adapters),
    attachmentRecords: attachmentRecordTable(db, config),
    groups: groupTables(db, config),
  };
}

export function createAttachmentsHandler(runtime: AttachmentsHandlerPorts) {
  return createRequestHandler(runtime, {
    attachment_upload: request({
      schema: AttachmentUploadSchema,
      run: async (rt, caller, r) => {
        const grant = await requestUpload(rt, caller.userId, r);
        // The audit trail of who may write which object (the bucket keeps no access log: see lib/attachments.ts).
        logger.info('upload signed', { key: grant.key, contentType: grant.headers['Content-Type'], size: r.size });
        return { ...grant };
      },
    }),
    attachment_url: request({
      schema: AttachmentUrlSchema,
      run: async (rt, caller, r) => {
        const grant = await downloadUrl(rt, caller.userId, r);
        logger.info('download signed', { key: grant.key, sessionId: grant.session_id });
        return { ...grant };
      },
    }),
  });
}
