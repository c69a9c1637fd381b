/**
 * msg_read_ack (TeamTalk CID_MSG_READ_ACK): moves the reader's mark to msg_id — never back, and never past it, so a
 * message that arrived after the read stays unread — then tells the reader's other connections (msg_read_notify)
 * and, beyond TeamTalk, the peer's connections (msg_read_receipt).
 */
import { FrameError } from '../errors.js';
import type { Gateway } from '../ports/gateway.js';
import type { BlockStore, GroupStore, MessageStore, PresenceStore, SessionStore } from '../ports/stores.js';
import { resolveConversation } from './conversation-access.js';
import { notifyUsers } from './notify.js';

export interface ReadReceiptPorts {
  readonly messages: MessageStore;
  readonly sessions: SessionStore;
  readonly presence: PresenceStore;
  readonly gateway: Gateway;
  readonly groups: GroupStore;
  /** A blocked pair (either way) gets no receipts from each other. */
  readonly blocks: Pick<BlockStore, 'isBlockedEitherWay'>;
  readonly config: { readonly fanoutConcurrency: number };
}

/** Returns whether the mark moved. */
export async function markRead(
  ports: ReadReceiptPorts,
  caller: { userId: string; connectionId: string },
  request: { session_id: string; session_type: number; msg_id: number },
): Promise<boolean> {
  const conversation = await resolveConversation(ports, caller.userId, request.session_type, request.session_id);
  // The newest message at or before msg_id carries the peer's sent count as of the read (a gap has none).
  const [message] = await ports.messages.listBefore(conversation.conversationId, request.msg_id, 1);
  if (!message)
    throw new FrameError('bad_request', `msg_id: no message with ${request.session_id} up to ${request.msg_id}`);
  const peerCount =
    conversation.peerSide === undefined
      ? 0
      : conversation.peerSide === 'lo'
        ? message.counts.sentLo
        : message.counts.sentHi;
  // The mark is the newest message that exists at or before msg_id: a msg_id beyond the conversation cannot park
  // the mark where no later read could move it.
  const readUpTo = message.msgId;
  const moved = await ports.sessions.markRead(
    { userId: caller.userId, sessionType: conversation.sessionType, sessionId: conversation.sessionId },
    readUpTo,
    peerCount,
  );
  if (moved) {
    const fields = {
      user_id: caller.userId,
      session_id: request.session_id,
      session_type: request.session_type,
      msg_id: readUpTo,
    };
    await Promise.all([
      notifyUsers(ports, [caller.userId], { type: 'msg_read_notify', ...fields }, caller.connectionId),
      // Receipts go to the peer of a single chat; a group read would be a fan-out to every member, as TeamTalk
      // has none, neither do we.
      conversation.peerSide === undefined ? 0 : sendReceipt(ports, caller.userId, request.session_id, fields),
    ]);
  }
  return moved;
}

/** The peer's receipt, unless either of the pair blocks the other (one GetItem of the pair's head). */
async function sendReceipt(
  ports: ReadReceiptPorts,
  readerId: string,
  peerId: string,
  fields: { user_id: string; session_id: string; session_type: number; msg_id: number },
): Promise<void> {
  if (await ports.blocks.isBlockedEitherWay(readerId, peerId)) return;
  await notifyUsers(ports, [peerId], { type: 'msg_read_receipt', ...fields });
}
