/**
 * What the attachment use-case (core/usecases/attachments.ts) needs: the uploader's records of references and bytes
 * (core/store/attachment-records.ts, DynamoDB) and the bucket that holds the bytes (core/blob/s3-attachments.ts, S3).
 */
import type { QuotaPeriod } from '../domain/attachment-quota.js';

/** Attachments' references and byte quota, in the uploader's records. */
export interface AttachmentRecordStore {
  /** Counts `bytes` more stored by the user in the period unless that passes `max`; false then, and nothing counted. */
  reserveBytes(userId: string, period: QuotaPeriod, bytes: number, max: number): Promise<boolean>;
  /** Gives back bytes reserved and not stored (the send was refused, or another reference stored the object first). */
  releaseBytes(userId: string, period: QuotaPeriod, bytes: number): Promise<void>;
  /** Records that a message of the conversation references the upload; `expiresAt` (unix seconds) with a retention. */
  putReference(
    uploaderId: string,
    uploadId: string,
    conversationId: string,
    expiresAt: number | undefined,
  ): Promise<void>;
  /** Whether a message of the conversation references the upload, at `nowSeconds`. */
  isReferenced(uploaderId: string, uploadId: string, conversationId: string, nowSeconds: number): Promise<boolean>;
}

export interface AttachmentObject {
  readonly size: number;
  readonly contentType: string;
  /** Unix ms of the object's last write (0 when the server did not say). */
  readonly lastModified: number;
}

/** The attachment bucket. */
export interface AttachmentBlobs {
  presignUpload(key: string, contentType: string, size: number, ttlSeconds: number): Promise<string>;
  presignDownload(key: string, ttlSeconds: number): Promise<string>;
  /** The object's size and type, or undefined when there is none. */
  head(key: string): Promise<AttachmentObject | undefined>;
  /** Copies unless `toKey` exists (a conditional write): true when this call wrote it. */
  copyOnce(fromKey: string, toKey: string): Promise<boolean>;
  /** Rewrites an object with its own bytes, so that its lifecycle age starts again. */
  refresh(key: string, contentType: string): Promise<void>;
  /** Deletes an object (a tombstoned message's attachment); an absent one is no error. */
  delete(key: string): Promise<void>;
}
