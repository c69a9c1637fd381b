/**
 * The attachment records of a user, in the uploader's partition of the Sessions table (PK user_id), told apart from
 * session rows, index entries and the group quota row by the sort key:
 * - a reference, SK `a#<upload id>#<conversation id>`: a message of that conversation references the upload. One small
 *   item per conversation instead of a copy of the bytes per conversation: forwarding a 10 MiB picture to a second
 *   conversation costs one write unit, not 10 MiB more in S3. `attachment_url` asks for it with one GetItem. With a
 *   message retention it carries the messages' `expires_at` (TTL), and one read past it counts as absent (TTL deletes
 *   lazily);
 * - the byte quota, SK `q#attachments#<period>`: bytes of attachments the user stored in the period, counted with a
 *   conditional ADD against the cap (the group counters' pattern), so concurrent sends never pass it together.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AttachmentRecordStore } from '../ports/attachments.js';
import type { QuotaPeriod } from '../domain/attachment-quota.js';
import { isConditionFailed } from './document-client.js';

const referenceKey = (uploadId: string, conversationId: string) => `a#${uploadId}#${conversationId}`;
const quotaKey = (period: QuotaPeriod) => `q#attachments#${period.id}`;

export class AttachmentRecordTable implements AttachmentRecordStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserveBytes(userId: string, period: QuotaPeriod, bytes: number, max: number): Promise<boolean> {
    if (bytes > max) return false;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId, session_key: quotaKey(period) },
          UpdateExpression: period.expiresAt === undefined ? 'ADD bytes :n' : 'ADD bytes :n SET expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(bytes) OR bytes <= :room',
          ExpressionAttributeValues: {
            ':n': bytes,
            ':room': max - bytes,
            ...(period.expiresAt === undefined ? {} : { ':exp': period.expiresAt }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async releaseBytes(userId: string, period: QuotaPeriod, bytes: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { user_id: userId, session_key: quotaKey(period) },
          UpdateExpression: 'ADD bytes :minus',
          ConditionExpression: 'bytes >= :n',
          ExpressionAttributeValues: { ':minus': -bytes, ':n': bytes },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  async putReference(
    uploaderId: string,
    uploadId: string,
    conversationId: string,
    expiresAt: number | undefined,
  ): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          user_id: uploaderId,
          session_key: referenceKey(uploadId, conversationId),
          ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
        },
      }),
    );
  }

  async isReferenced(
    uploaderId: string,
    uploadId: string,
    conversationId: string,
    nowSeconds: number,
  ): Promise<boolean> {
    // Strongly consistent: a receiver asks right after the message that wrote it reached them.
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { user_id: uploaderId, session_key: referenceKey(uploadId, conversationId) },
        ConsistentRead: true,
      }),
    );
    const expiresAt = Item?.['expires_at'] as number | undefined;
    return Item !== undefined && (expiresAt === undefined || expiresAt > nowSeconds);
  }
}
