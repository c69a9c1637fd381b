/**
 * Routes attachment_upload (a presigned PUT for a picture or voice note) and attachment_url (a presigned GET of an
 * attachment a message of the asked session references): core/usecases/attachments.ts.
 */
import { AttachmentUploadSchema, AttachmentUrlSchema } from '../../core/domain/attachment-requests.js';
import { logger } from '../../core/observability.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { downloadUrl, requestUpload } from '../../core/usecases/attachments.js';

export function createAttachmentsHandler(runtime: Runtime) {
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

export const handler = createAttachmentsHandler(createRuntime());
