/**
 * History reads (TeamTalk CID_MSG_LIST, CID_MSG_GET_LATEST_MSG_ID, CID_MSG_GET_BY_MSG_ID), paging by msg_id. Replies
 * hold as many messages as fit in one frame and say how to go on (`has_more`, `remaining_msg_ids`).
 */
import { listedMessage, type ListedMessage } from '../domain/frames.js';
import { SessionType } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import { fitItems } from '../domain/reply-size.js';
import type { BlockStore, GroupStore, MessageStore } from '../ports/stores.js';
import { resolveConversation, type ConversationRef } from './conversation-access.js';

export interface HistoryPorts {
  readonly messages: MessageStore;
  readonly groups: GroupStore;
  /** Whom the reader blocks among a group page's senders: those messages are flagged `blocked_sender`. */
  readonly blocks: Pick<BlockStore, 'blockedAmong'>;
}

/**
 * The messages as the reader sees them: in a group, those of a sender the reader blocks carry `blocked_sender` (one
 * BatchGetItem of the page's distinct senders, at most 100); a one-to-one history is shown as stored.
 */
async function listedFor(
  ports: HistoryPorts,
  userId: string,
  conversation: ConversationRef,
  messages: readonly MessageRecord[],
): Promise<ListedMessage[]> {
  const blocked =
    conversation.sessionType === SessionType.Group && messages.length > 0
      ? await ports.blocks.blockedAmong(
          userId,
          messages.map((m) => m.fromUserId),
        )
      : new Set<string>();
  return messages.map((m) => listedMessage(m, { blockedSender: blocked.has(m.fromUserId) }));
}

interface SessionRequest {
  readonly session_id: string;
  readonly session_type: number;
}

/**
 * Up to msg_cnt messages, newest first, msg_id ≤ msg_id_begin unless it is 0: one Query of msg_cnt + 1 items, the
 * extra one telling whether older messages remain (`has_more`), which is also set when the page was cut to fit.
 */
export async function listMessages(
  ports: HistoryPorts,
  userId: string,
  request: SessionRequest & { msg_id_begin: number; msg_cnt: number },
): Promise<{
  session_id: string;
  session_type: number;
  msg_id_begin: number;
  msg_list: ListedMessage[];
  has_more: boolean;
}> {
  const conversation = await resolveConversation(ports, userId, request.session_type, request.session_id);
  const messages = await ports.messages.listBefore(
    conversation.conversationId,
    request.msg_id_begin,
    request.msg_cnt + 1,
  );
  const { fitted } = fitItems(await listedFor(ports, userId, conversation, messages.slice(0, request.msg_cnt)));
  return {
    session_id: request.session_id,
    session_type: request.session_type,
    msg_id_begin: request.msg_id_begin,
    msg_list: fitted,
    has_more: messages.length > fitted.length,
  };
}

/** The newest stored msg_id (0 when none): one Query of one item, so a counter value lost to a failed send is not reported. */
export async function latestMsgId(
  ports: HistoryPorts,
  userId: string,
  request: SessionRequest,
): Promise<{ session_id: string; session_type: number; latest_msg_id: number }> {
  const conversation = await resolveConversation(ports, userId, request.session_type, request.session_id);
  const [latest] = await ports.messages.listBefore(conversation.conversationId, 0, 1);
  return { session_id: request.session_id, session_type: request.session_type, latest_msg_id: latest?.msgId ?? 0 };
}

/** The listed messages that exist, newest first (one BatchGetItem); those left out to fit are in remaining_msg_ids. */
export async function messagesByIds(
  ports: HistoryPorts,
  userId: string,
  request: SessionRequest & { msg_ids: readonly number[] },
): Promise<{ session_id: string; session_type: number; msg_list: ListedMessage[]; remaining_msg_ids?: number[] }> {
  const conversation = await resolveConversation(ports, userId, request.session_type, request.session_id);
  const messages = await ports.messages.getMany(
    request.msg_ids.map((msgId) => ({ conversationId: conversation.conversationId, msgId })),
  );
  const sorted = messages.sort((a, b) => b.msgId - a.msgId);
  const { fitted, rest } = fitItems(await listedFor(ports, userId, conversation, sorted));
  return {
    session_id: request.session_id,
    session_type: request.session_type,
    msg_list: fitted,
    ...(rest.length > 0 ? { remaining_msg_ids: rest.map((m) => m.msg_id) } : {}),
  };
}
