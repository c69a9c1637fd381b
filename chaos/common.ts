/** Small helpers the steps of a chaos run (chaos/harness.ts) share. */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ConnectionClosedError,
  isGroupMsgType,
  RequestTimeoutError,
  type MsgDataAckFrame,
  type MsgDataFrame,
} from '../client/index.js';
import { groupConversationId } from '../core/domain/group.js';
import { singleConversationId } from '../core/domain/ids.js';

export const key = (conversationId: string, msgId: number) => `${conversationId}\u0000${msgId}`;
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function conversationOf(frame: Pick<MsgDataFrame, 'from_user_id' | 'to_session_id' | 'msg_type'>): string {
  return isGroupMsgType(frame.msg_type)
    ? groupConversationId(frame.to_session_id)
    : singleConversationId(frame.from_user_id, frame.to_session_id);
}

export function ackConversation(ack: MsgDataAckFrame): string {
  return ack.session_type === 2
    ? groupConversationId(ack.session_id)
    : singleConversationId(ack.user_id, ack.session_id);
}

export async function scanAll(db: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  return items;
}

export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

/**
 * A read asked again across connection losses: the devices' tokens expire during the checks, the server kicks the
 * connection, a request in flight rejects and the SDK reconnects with a fresh token. Reads are safe to repeat.
 */
export async function retryRead<T>(read: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof ConnectionClosedError || error instanceof RequestTimeoutError))
        throw error;
      await sleep(500);
    }
  }
}
