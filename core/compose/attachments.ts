/** The attachment bucket of a function that signs, checks or copies attachments: its S3 client, none without a bucket. */
import { S3Attachments } from '../blob/s3-attachments.js';
import type { AttachmentBlobs } from '../ports/attachments.js';
import type { Adapters } from './adapters.js';

export function attachmentBucket(adapters: Adapters): AttachmentBlobs | undefined {
  const { config, s3Endpoint, region, credentials, options } = adapters;
  if (!config.attachmentBucket) return undefined;
  return new S3Attachments({
    bucket: config.attachmentBucket,
    endpoint: s3Endpoint,
    region,
    credentials,
    plugins: options.s3Plugins,
  });
}
