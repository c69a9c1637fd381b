/** Account exports in the attachment bucket (under `exports/`): the job's PUT of the JSON and its presigned GET. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportBlobs } from '../ports/moderation.js';
import { bucketClient, type S3AttachmentsOptions } from './s3-attachments.js';

export class S3Exports implements ExportBlobs {
  private readonly s3: S3Client;

  constructor(private readonly options: S3AttachmentsOptions) {
    this.s3 = bucketClient(options);
  }

  async putJson(key: string, body: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
  }

  presignDownload(key: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.options.bucket, Key: key }), {
      expiresIn: ttlSeconds,
    });
  }
}
