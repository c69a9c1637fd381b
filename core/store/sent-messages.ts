/**
 * SentMessages table: the idempotency record of a send with a client_msg_id. It is claimed (conditional put) after
 * the msg_id is taken and before the message is stored, and holds everything needed to store that message under
 * that msg_id: a resend finds it and is answered with the original msg_id, and if the first attempt died before
 * storing, the resend stores the message under the claimed msg_id. Records live 48 h (the contract asks 24).
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SentMessageRecord, SentMessageStore } from '../ports.js';
import { isConditionFailed } from './document-client.js';

export const SENT_MESSAGE_TTL_SECONDS = 48 * 60 * 60;

const senderKey = (senderId: string, clientMsgId: string) => `${senderId}#${clientMsgId}`;

export class SentMessageTable implements SentMessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(senderId: string, clientMsgId: string, nowSeconds: number, consistent: boolean): Promise<SentMessageRecord | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { sender_key: senderKey(senderId, clientMsgId) }, ConsistentRead: consistent }),
    );
    const item = result.Item;
    // TTL deletes lag: an expired record is no record.
    if (!item || (item['expires_at'] as number) < nowSeconds) return undefined;
    return {
      conversationId: item['conversation_id'] as string,
      msgId: item['msg_id'] as number,
      createTime: item['create_time'] as number,
      counts: { sentLo: item['sent_lo'] as number, sentHi: item['sent_hi'] as number },
    };
  }

  async claim(senderId: string, clientMsgId: string, record: SentMessageRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            sender_key: senderKey(senderId, clientMsgId),
            conversation_id: record.conversationId,
            msg_id: record.msgId,
            create_time: record.createTime,
            sent_lo: record.counts.sentLo,
            sent_hi: record.counts.sentHi,
            expires_at: record.createTime + SENT_MESSAGE_TTL_SECONDS,
          },
          // An expired record may be taken over: the key is free again after its 48 h.
          ConditionExpression: 'attribute_not_exists(sender_key) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': record.createTime },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
