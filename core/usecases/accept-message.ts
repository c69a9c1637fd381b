/**
 * The storing half of send (TeamTalk's msg_server checks + db_proxy sendMessage): validate, rate-limit, take the
 * next msg_id, make sure both users' session rows exist, store the message. Storing is the last step: it returns
 * only once the message is durably stored, so the sender is never acked for a message that is not, and a failure
 * before it stores nothing.
 */
import { MsgDataSchema, parseFrame, validateFrame } from '../domain/client-frames.js';
import { FrameError } from '../domain/frames.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, sideOf, singleConversationId } from '../domain/ids.js';
import { GROUP_MSG_TYPES, type StoredMessage } from '../domain/message.js';
import type { Clock, ConversationStore, GroupStore, MessageStore, RateLimiter, SessionStore } from '../ports.js';

export interface AcceptMessagePorts {
  readonly rateLimits: RateLimiter;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly sessions: SessionStore;
  readonly groups: GroupStore;
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
  const createTime = Math.floor(now / 1000);
  // Group members' session rows are made when they join; a group counts no sides.
  const counter = await ports.conversations.nextMsgId(conversationId, isGroup ? undefined : sideOf(from, to), createTime);
  const message: StoredMessage = {
    conversationId,
    msgId: counter.msgId,
    fromUserId: from,
    toSessionId: to,
    msgType: request.msg_type,
    msgData: request.msg_data,
    createTime,
    ...(request.client_msg_id === undefined ? {} : { clientMsgId: request.client_msg_id }),
  };
  if (!isGroup && !counter.sessionsCreated) {
    // First message(s) of the pair: create both session rows, then remember it on the head so later sends skip
    // this. Before the message is stored, so a stored message always has its sessions and a failure here is
    // answered `internal` with nothing stored but a consumed msg_id.
    await Promise.all([
      ports.sessions.ensure({ userId: from, sessionType: SessionType.Single, sessionId: to, conversationId, createdTime: createTime }),
      ports.sessions.ensure({ userId: to, sessionType: SessionType.Single, sessionId: from, conversationId, createdTime: createTime }),
    ]);
    await ports.conversations.markSessionsCreated(conversationId);
  }
  // The last step: once this succeeds the message is stored and must be acked.
  await ports.messages.put(message, counter);
  return { message, sessionType: isGroup ? SessionType.Group : SessionType.Single, seq: request.seq };
}
