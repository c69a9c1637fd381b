/**
 * The attachment bucket on S3 (or a local S3-compatible server): presigned upload and download URLs, HEAD, the
 * server-side copy that stores an upload once (`If-None-Match: *`: S3's conditional write, so a copy never replaces
 * what a message already references), and the copy of an object onto itself that restarts its lifecycle age. The
 * same code runs on AWS and locally; only the endpoint differs.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttachmentBlobs, AttachmentObject } from '../ports/attachments.js';

export interface S3AttachmentsOptions {
  readonly bucket: string;
  /** Local mode: the S3-compatible server's URL (path-style addressing). On AWS unset. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** Middleware to add to the client (local mode's S3 grant guard). */
  readonly plugins?: readonly { attach(client: S3Client): void }[] | undefined;
}

/** The bucket's S3 client (also the account exports', core/blob/s3-exports.ts), with its plugins attached. */
export function bucketClient(options: S3AttachmentsOptions): S3Client {
  const s3 = new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    // Without this the SDK would sign a CRC32 of the (empty) body into a presigned PUT, and S3 would refuse the
    // real bytes; the signed Content-Length and Content-Type are what bound an upload.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  for (const plugin of options.plugins ?? []) plugin.attach(s3);
  return s3;
}

/** The headers a presigned PUT signs: S3 refuses an upload whose body length or type differs from them. */
const SIGNED_UPLOAD_HEADERS = new Set(['content-type', 'content-length']);

export class S3Attachments implements AttachmentBlobs {
  private readonly s3: S3Client;

  constructor(private readonly options: S3AttachmentsOptions) {
    this.s3 = bucketClient(options);
  }

  presignUpload(key: string, contentType: string, size: number, ttlSeconds: number): Promise<string> {
    const put = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ContentType: contentType,
      ContentLength: size,
    });
    return getSignedUrl(this.s3, put, { expiresIn: ttlSeconds, signableHeaders: SIGNED_UPLOAD_HEADERS });
  }

  presignDownload(key: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.options.bucket, Key: key }), {
      expiresIn: ttlSeconds,
    });
  }

  async head(key: string): Promise<AttachmentObject | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        contentType: head.ContentType ?? '',
        lastModified: head.LastModified?.getTime() ?? 0,
      };
    } catch (error) {
      // Without s3:ListBucket (the functions have none) S3 answers a missing key with 403, not 404.
      if (
        error instanceof S3ServiceException &&
        (error.$metadata.httpStatusCode === 404 || error.$metadata.httpStatusCode === 403)
      )
        return undefined;
      throw error;
    }
  }

  async copyOnce(fromKey: string, toKey: string): Promise<boolean> {
    try {
      // Keys are made by the server from [A-Za-z0-9_/-] only: nothing in CopySource needs escaping.
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.options.bucket,
          Key: toKey,
          CopySource: `${this.options.bucket}/${fromKey}`,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) return false;
      throw error;
    }
  }

  async refresh(key: string, contentType: string): Promise<void> {
    // S3 copies an object onto itself only when something changes: the metadata, replaced by the same.
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        CopySource: `${this.options.bucket}/${key}`,
        MetadataDirective: 'REPLACE',
        ContentType: contentType,
      }),
    );
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a key that is not there: deleting twice is no error.
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }
}
