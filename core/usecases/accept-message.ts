/**
 * The storing half of send (TeamTalk's msg_server checks + db_proxy sendMessage): validate, rate-limit, take the
 * next msg_id, claim the client_msg_id, make sure both users' session rows exist, store the message. Storing is the
 * last step: it returns only once the message is durably stored, so the sender is never acked for a message that is
 * not, and a failure before it stores nothing. A send with a client_msg_id is idempotent for 48 h: a resend (after
 * a lost ack, a crash at any step, a retried invocation) gets the first attempt's msg_id and is stored once.
 */
import { MsgDataSchema, parseFrame, validateFrame } from '../domain/client-frames.js';
import { FrameError } from '../domain/frames.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, sideOf, singleConversationId } from '../domain/ids.js';
import { GROUP_MSG_TYPES, MessageAlreadyStoredError, type StoredMessage } from '../domain/message.js';
import type { Clock, ConversationStore, GroupStore, MessageStore, RateLimiter, SentMessageRecord, SentMessageStore, SessionStore } from '../ports.js';

export interface AcceptMessagePorts {
  readonly rateLimits: RateLimiter;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly sessions: SessionStore;
  readonly groups: GroupStore;
  readonly sentMessages: SentMessageStore;
  readonly clock: Clock;
  readonly config: { readonly maxMsgBytes: number };
}

export interface AcceptMessageInput {
  /** The sending connection (rate limit key). */
  readonly connectionId: string;
  /** The authenticated sender, from the authorizer: never from the frame. */
  readonly userId: string;
  readonly body: string | undefined;
}

export interface AcceptedMessage {
  readonly message: StoredMessage;
  readonly sessionType: number;
  readonly seq: number | undefined;
  /** False for a resend of a message already stored: ack it again, deliver nothing new. */
  readonly deliver: boolean;
}

/** Throws FrameError for a refused frame; nothing is stored then. */
export async function acceptMessage(ports: AcceptMessagePorts, input: AcceptMessageInput): Promise<AcceptedMessage> {
  const request = validateFrame(MsgDataSchema, parseFrame(input.body));
  if (request.msg_data.length === 0) throw new FrameError('empty_message', 'msg_data is empty');
  const size = Buffer.byteLength(request.msg_data, 'utf8');
  if (size > ports.config.maxMsgBytes) {
    throw new FrameError('too_large', `msg_data is ${size} bytes of UTF-8, the limit is ${ports.config.maxMsgBytes}`);
  }
  const from = input.userId;
  const to = request.to_session_id;
  const isGroup = GROUP_MSG_TYPES.includes(request.msg_type);
  if (isGroup) {
    // TeamTalk's membership check (db_proxy), before anything is counted or written.
    if (!(await ports.groups.isMember(to, from))) throw new FrameError('not_member', `you are not a member of group ${to}`);
  } else if (to === from) {
    throw new FrameError('self_message', 'a single chat message cannot be sent to oneself');
  }

  const now = ports.clock.now();
  if (!(await ports.rateLimits.tryAcquire(input.connectionId, now))) {
    throw new FrameError('rate_limited', 'more than the allowed messages a second on this connection');
  }

  const conversationId = isGroup ? groupConversationId(to) : singleConversationId(from, to);
  const sessionType = isGroup ? SessionType.Group : SessionType.Single;
  const clientMsgId = request.client_msg_id;
  const nowSeconds = Math.floor(now / 1000);
  const build = (numbered: { msgId: number; createTime: number }): StoredMessage => ({
    conversationId,
    msgId: numbered.msgId,
    fromUserId: from,
    toSessionId: to,
    msgType: request.msg_type,
    msgData: request.msg_data,
    createTime: numbered.createTime,
    ...(clientMsgId === undefined ? {} : { clientMsgId }),
  });
  const ensureSessions = async (createdTime: number) => {
    // Before the message is stored, so a stored message always has its sessions. Group members' rows are made
    // when they join.
    await Promise.all([
      ports.sessions.ensure({ userId: from, sessionType, sessionId: to, conversationId, createdTime }),
      ports.sessions.ensure({ userId: to, sessionType, sessionId: from, conversationId, createdTime }),
    ]);
    await ports.conversations.markSessionsCreated(conversationId);
  };
  const result = (message: StoredMessage, deliver: boolean): AcceptedMessage => ({ message, sessionType, seq: request.seq, deliver });

  // A resend (same sender and client_msg_id): answer what the first attempt numbered, before taking a msg_id.
  if (clientMsgId !== undefined) {
    const previous = await ports.sentMessages.get(from, clientMsgId, nowSeconds, false);
    if (previous) return completeResend(previous);
  }

  const counter = await ports.conversations.nextMsgId(conversationId, isGroup ? undefined : sideOf(from, to), nowSeconds);
  const message = build({ msgId: counter.msgId, createTime: nowSeconds });
  if (clientMsgId !== undefined) {
    const record = { conversationId, msgId: counter.msgId, createTime: nowSeconds, counts: counter };
    // Two attempts of one send racing: the loser's msg_id stays unused (a gap) and it answers the winner's.
    if (!(await ports.sentMessages.claim(from, clientMsgId, record))) {
      const winner = await ports.sentMessages.get(from, clientMsgId, nowSeconds, true);
      if (winner) return completeResend(winner);
      throw new Error(`client_msg_id ${clientMsgId} claimed but not readable`);
    }
  }
  if (!isGroup && !counter.sessionsCreated) await ensureSessions(nowSeconds);
  // The last step: once this succeeds the message is stored and must be acked. A 'duplicate' was stored by a
  // racing resend, which delivers it.
  return result(message, (await ports.messages.put(message, counter)) === 'stored');

  /**
   * The first attempt numbered this send. If it also stored it, ack again and deliver nothing new; if it died
   * before storing, store it now under the same msg_id (once: the put is conditional) and deliver it.
   */
  async function completeResend(previous: SentMessageRecord): Promise<AcceptedMessage> {
    const stored = await ports.messages.get(previous.conversationId, previous.msgId);
    if (stored) return result(stored, false);
    const message = build(previous);
    if (!isGroup) await ensureSessions(previous.createTime);
    try {
      return result(message, (await ports.messages.put(message, previous.counts)) === 'stored');
    } catch (error) {
      // The first attempt stored it meanwhile (with its own text: a resend's content is not compared).
      if (error instanceof MessageAlreadyStoredError) return result((await ports.messages.get(previous.conversationId, previous.msgId)) ?? message, false);
      throw error;
    }
  }
}
