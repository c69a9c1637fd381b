/**
 * ChatAttachments: the S3 bucket of pictures and voice notes (core/usecases/attachments.ts). Nothing in it is
 * public: every object is reached through a URL the attachments function signs for one user. Lifecycle:
 * - `uploads/`: deleted a day after upload, referenced or not. The first message that references an upload copies
 *   it to `att/`, so an upload nobody referenced is simply gone the next day;
 * - `att/`: the stored copies messages reference, one per upload, deleted a day after the messages' retention (kept
 *   for ever without one): a new message refreshes a copy older than that day, so a copy outlives its messages;
 * - unfinished multipart uploads (not used by the service, but possible with the bucket's own credentials) after a day.
 */
import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REFERENCED_PREFIX, STORED_REFRESH_DAYS, UPLOADS_PREFIX } from '../core/usecases/attachments.js';

export interface ChatAttachmentsProps {
  /** RETAIN keeps the bucket (and its objects) when the stack is deleted; DESTROY empties and deletes it. */
  readonly removalPolicy: RemovalPolicy;
  /** Days messages are kept; a stored attachment is kept a day longer. @default - kept for ever */
  readonly retentionDays?: number;
  /** Origins a browser may upload from and download to (CORS); the signed URLs are what grant access. */
  readonly corsOrigins: readonly string[];
  /**
   * Denies `s3:DeleteBucket` to everyone in the bucket policy (S3 has no deletion-protection setting): a bucket
   * emptied by mistake still cannot be deleted until the statement is removed (deploy with deletion protection off).
   */
  readonly deletionProtection: boolean;
}

/** Lifetime of an upload no message referenced (and of every upload's original: what messages reference is a copy). */
export const UPLOAD_EXPIRATION_DAYS = 1;

export class ChatAttachments extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ChatAttachmentsProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED, // SSE-S3: no KMS request per upload and download
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false, // an expired or deleted attachment must be gone, not kept as a noncurrent version
      // No autoDeleteObjects (a custom-resource Lambda with a managed policy): with DESTROY, the bucket is deleted
      // once empty (uploads expire in a day; referenced copies with the retention).
      removalPolicy: props.removalPolicy,
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: [...props.corsOrigins],
          allowedHeaders: ['content-type'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        { id: 'UnreferencedUploads', prefix: UPLOADS_PREFIX, expiration: Duration.days(UPLOAD_EXPIRATION_DAYS) },
        ...(props.retentionDays
          ? [
              {
                id: 'AttachmentRetention',
                prefix: REFERENCED_PREFIX,
                expiration: Duration.days(props.retentionDays + STORED_REFRESH_DAYS),
              },
            ]
          : []),
        // Account exports (lambdas/exports): their URL lives an hour, the object two days.
        { id: 'AccountExports', prefix: 'exports/', expiration: Duration.days(2) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    if (props.deletionProtection) {
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DeletionProtection',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:DeleteBucket'],
          resources: [this.bucket.bucketArn],
        }),
      );
    }
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access log bucket: objects are reached only through URLs the attachments function signs, and it logs each one (user, key, action); a log bucket would add a write per request for the same facts.',
    });
  }
}
