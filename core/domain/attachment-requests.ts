/** Schemas of the attachment requests (docs/protocol.md "Attachments"). */
import * as v from 'valibot';
import { MAX_ATTACHMENT_BYTES_LIMIT } from '../config.js';
import { seqSchema as seq, sessionIdSchema } from './client-frames.js';

export const AttachmentUploadSchema = v.object({
  action: v.literal('attachment_upload'),
  seq,
  // The type's own check (allowed types, parameters like `;codecs=opus` dropped) is the use-case's.
  content_type: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  size: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(MAX_ATTACHMENT_BYTES_LIMIT)),
});

export const AttachmentUrlSchema = v.object({
  action: v.literal('attachment_url'),
  seq,
  session_id: sessionIdSchema,
  session_type: v.picklist([1, 2], 'must be 1 or 2'),
  key: v.pipe(v.string(), v.maxLength(256)),
});
