/**
 * SentMessages table: the durable idempotency record of a send with a client_msg_id, keyed by (sender, conversation,
 * client_msg_id) and kept 48 hours (IDEMPOTENCY_WINDOW_SECONDS). It is claimed right after the msg_id is taken and
 * before the message is stored, and holds everything needed to store that message under that msg_id and to tell a
 * resend (same content hash) from a reuse of the key (another hash). The claim is a conditional put that returns the
 * record holding the key when it fails (ReturnValuesOnConditionCheckFailure ALL_OLD), so no read precedes it: one
 * write unit per message with a client_msg_id, and nothing for a message without one.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IDEMPOTENCY_WINDOW_SECONDS, type IdempotencyKey } from '../domain/idempotency.js';
import type { SentMessageRecord } from '../domain/numbering.js';
import type { SentMessageStore } from '../ports/stores.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

/** `#` occurs in no user id, and the conversation id has a fixed shape, so the key reads back unambiguously. */
const recordKey = (key: IdempotencyKey) => `${key.senderId}#${key.conversationId}#${key.clientMsgId}`;

export class SentMessageTable implements SentMessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(
    key: IdempotencyKey,
    record: SentMessageRecord,
  ): Promise<{ claimed: true } | { claimed: false; existing: SentMessageRecord }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            sender_key: recordKey(key),
            msg_id: record.msgId,
            create_time: record.createTime,
            sent_lo: record.sentLo,
            sent_hi: record.sentHi,
            content_hash: record.contentHash,
            expires_at: record.createTime + IDEMPOTENCY_WINDOW_SECONDS,
          },
          // An expired record may be taken over: the key is free again after its 48 h.
          ConditionExpression: 'attribute_not_exists(sender_key) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': record.createTime },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const existing = conditionFailure(error);
      // A retried put whose first response was lost finds its own record: that is our claim.
      if (!existing || sameNumbering(existing, record)) return { claimed: true };
      return { claimed: false, existing: toRecord(existing) };
    }
  }
}

function sameNumbering(item: Record<string, unknown>, record: SentMessageRecord): boolean {
  return item['msg_id'] === record.msgId && item['content_hash'] === record.contentHash;
}

function toRecord(item: Record<string, unknown>): SentMessageRecord {
  return {
    msgId: item['msg_id'] as number,
    createTime: item['create_time'] as number,
    sentLo: (item['sent_lo'] as number | undefined) ?? 0,
    sentHi: (item['sent_hi'] as number | undefined) ?? 0,
    contentHash: (item['content_hash'] as string | undefined) ?? '',
  };
}
