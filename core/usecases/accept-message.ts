/**
 * The storing half of send (TeamTalk's msg_server checks + db_proxy sendMessage): validate, rate-limit, take the
 * next msg_id, claim the idempotency key, make sure the session rows and index exist, store the message. Storing is
 * the last step: it returns only once the message is durably stored, so the sender is never acked for a message that
 * is not, and a failure before it stores nothing.
 *
 * A send with a client_msg_id is idempotent for 48 h under the key (sender, conversation, client_msg_id)
 * (contract: "Idempotency"):
 * - a duplicate racing the first attempt, or a prompt resend, finds the key's tag in the head's ring when numbering:
 *   it takes no msg_id and continues with the first attempt's numbering;
 * - a later resend takes a msg_id (which stays a gap), then finds the key claimed in SentMessages and continues with
 *   the first attempt's numbering;
 * - continuing means: if the message is stored, check that it is this content (else `client_msg_id_reused`) and
 *   finish its delivery; if not (the first attempt died before storing, or is still on its way), store it under that
 *   msg_id — conditionally, so of two racing attempts one writes and both ack the same message.
 */
import { isRejectedText } from '../domain/content-filter.js';
import { allSettledOrThrow } from '../concurrency.js';
import { MsgDataSchema, parseFrame, validateFrame, type MsgDataRequest } from '../domain/client-frames.js';
import { FrameError, MessageAlreadyStoredError } from '../errors.js';
import { groupConversationId } from '../domain/group.js';
import { contentHash, idempotencyKey, type IdempotencyKey } from '../domain/idempotency.js';
import { SessionType, isGroupId, sideOf, singleConversationId, unixDay } from '../domain/ids.js';
import { isGroupMsgType, type MessageRecord, type StoredMessage } from '../domain/message.js';
import type { Clock } from '../ports/clock.js';
import type {
  ConversationStore,
  GroupStore,
  MessageStore,
  RateLimiter,
  SentMessageStore,
  SessionStore,
} from '../ports/stores.js';
import type { CounterResult, RingEntry } from '../domain/numbering.js';
import type { ContentCheck } from '../ports/moderation.js';
import { prepareAttachmentReference, type AttachmentPorts, type AttachmentReference } from './attachments.js';

export interface AcceptMessagePorts {
  readonly rateLimits: RateLimiter;
  readonly attachmentRecords: AttachmentPorts['attachmentRecords'];
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly sessions: SessionStore;
  readonly groups: GroupStore;
  readonly sentMessages: SentMessageStore;
  readonly clock: Clock;
  readonly attachments: AttachmentPorts['attachments'];
  /** A team's own content check (the `contentCheck` prop); undefined: none. */
  readonly contentCheck?: ContentCheck | undefined;
  readonly config: {
    readonly maxMsgBytes: number;
    readonly contentFilterWords: readonly string[];
  } & AttachmentPorts['config'];
}

export interface AcceptMessageInput {
  /** The authenticated sender, from the authorizer: never from the frame. */
  readonly userId: string;
  readonly body: string | undefined;
}

/** What a msg_data frame asked to store: the ack must match it (see verifiedAck in send-message.ts). */
export interface AskedSend {
  readonly senderId: string;
  readonly conversationId: string;
  readonly clientMsgId: string | undefined;
  readonly contentHash: string;
}

export interface AcceptedMessage {
  /** The message as stored under its msg_id: what the ack and the deliveries carry. */
  readonly message: MessageRecord;
  readonly asked: AskedSend;
  readonly sessionType: number;
  readonly seq: number | undefined;
  /** The idempotency key, when the frame had a client_msg_id: the ack is checked against it. */
  readonly key: IdempotencyKey | undefined;
  /**
   * `first`: this attempt numbered the message and delivers it. `resend`: an earlier attempt numbered it; it may
   * have delivered it in part, so delivery is finished without resetting what was done.
   */
  readonly attempt: 'first' | 'resend';
  /** The members' index day at numbering (groups index in the fan-out). */
  readonly indexedDay: number;
}

/** A msg_data frame that passed every check that needs no write. */
interface CheckedSend {
  readonly request: MsgDataRequest;
  readonly senderId: string;
  readonly conversationId: string;
  readonly sessionType: number;
  readonly isGroup: boolean;
  readonly key: IdempotencyKey | undefined;
  readonly asked: AskedSend;
  /** Members it goes to, the sender excluded: what it takes from the member-delivery budget. */
  readonly receivers: number;
}

export interface AcceptOptions {
  /**
   * Durable work that needs only the message's msg_id (a group's fan-out marker), run while the message is being
   * stored and awaited with it. Called only for a fresh numbering, after every check that can refuse the frame, so a
   * refused frame never reaches it; the put can still fail (a fault), so what it writes must be safe to find without
   * its message.
   */
  readonly whileStoring?: (message: StoredMessage) => Promise<void>;
}

/** Throws FrameError for a refused frame; nothing is stored then. */
export async function acceptMessage(
  ports: AcceptMessagePorts,
  input: AcceptMessageInput,
  options: AcceptOptions = {},
): Promise<AcceptedMessage> {
  const send = await checkSend(ports, input);
  const now = ports.clock.now();
  const over = await ports.rateLimits.acquireSend(send.senderId, now, send.receivers);
  if (over) {
    throw new FrameError(
      'rate_limited',
      over === 'msg'
        ? 'more msg_data a second than the limit allows for this user'
        : 'more member deliveries a second than the limit allows for this user (a group message takes one per member)',
    );
  }
  // After the rate limit (which bounds the S3 calls a user can cause), before numbering (a refused reference takes no
  // msg_id). What it writes waits for the commit just before the message is stored; any refusal before releases it.
  const { request } = send;
  const reference = await prepareAttachmentReference(ports, {
    senderId: send.senderId,
    conversationId: send.conversationId,
    msgType: request.msg_type,
    msgData: request.msg_data,
  });
  try {
    return await numberAndStore(ports, send, Math.floor(now / 1000), reference, options);
  } finally {
    await reference?.release();
  }
}

async function numberAndStore(
  ports: AcceptMessagePorts,
  send: CheckedSend,
  nowSeconds: number,
  reference: AttachmentReference | undefined,
  options: AcceptOptions,
): Promise<AcceptedMessage> {
  const numbering = await ports.conversations.nextMsgId({
    conversationId: send.conversationId,
    senderSide: send.isGroup ? undefined : sideOf(send.senderId, send.request.to_session_id),
    nowSeconds,
    ...(send.key ? { key: send.key } : {}),
  });
  if (numbering.kind === 'blocked') throw blockedSend(send);
  if (numbering.kind === 'seen') return continueEarlierAttempt(ports, send, numbering.previous, undefined, reference);

  const { counter } = numbering;
  if (send.key) {
    const claim = await ports.sentMessages.claim(send.key, {
      msgId: counter.msgId,
      createTime: nowSeconds,
      sentLo: counter.sentLo,
      sentHi: counter.sentHi,
      contentHash: send.key.contentHash,
    });
    // A resend too late for the ring: this msg_id stays unused (a gap), the earlier numbering counts.
    if (!claim.claimed) return continueEarlierAttempt(ports, send, claim.existing, counter, reference);
  }
  await writeSessionRows(ports, send, counter, nowSeconds);
  await reference?.commit();
  // Beside the put: the head's marks (they follow the rows, not the message) and the caller's work (the msg_id only).
  const message = buildMessage(send, counter.msgId, nowSeconds);
  const [{ stored }] = await allSettledOrThrow([
    ports.messages.put(message, counter),
    markSessionsPrepared(ports, send, counter, nowSeconds),
    options.whileStoring?.(message) ?? Promise.resolve(),
  ]);
  return accepted(send, stored, 'first', counter.indexedDay);
}

/** Validation, size, addressing and group membership: everything before the first write. */
async function checkSend(ports: AcceptMessagePorts, input: AcceptMessageInput): Promise<CheckedSend> {
  const request = validateFrame(MsgDataSchema, parseFrame(input.body));
  if (request.msg_data.length === 0) throw new FrameError('empty_message', 'msg_data is empty');
  const size = Buffer.byteLength(request.msg_data, 'utf8');
  if (size > ports.config.maxMsgBytes) {
    throw new FrameError('too_large', `msg_data is ${size} bytes of UTF-8, the limit is ${ports.config.maxMsgBytes}`);
  }
  if (isRejectedText(ports.config.contentFilterWords, request.msg_type, request.msg_data)) {
    throw new FrameError('content_rejected', 'msg_data contains a word this server does not accept');
  }
  const senderId = input.userId;
  const to = request.to_session_id;
  const isGroup = isGroupMsgType(request.msg_type);
  let receivers = 1;
  if (isGroup) {
    // TeamTalk's membership check (db_proxy), before anything is counted or written.
    const [member, members] = isGroupId(to)
      ? await Promise.all([ports.groups.isMember(to, senderId), ports.groups.memberCount(to)])
      : [false, 0];
    if (!member) throw new FrameError('not_member', `you are not a member of group ${to}`);
    receivers = Math.max(0, members - 1);
  } else if (isGroupId(to)) {
    throw new FrameError('bad_request', 'to_session_id names a group: a group message has msg_type 17 or 18');
  } else if (to === senderId) {
    throw new FrameError('self_message', 'a single chat message cannot be sent to oneself');
  }
  // The team's own check, last: a frame refused for anything else costs it no call.
  const check = { from_user_id: senderId, to_session_id: to, msg_type: request.msg_type, msg_data: request.msg_data };
  if (ports.contentCheck && !(await ports.contentCheck.allows(check))) {
    throw new FrameError('content_rejected', "msg_data was refused by this server's content check");
  }
  const conversationId = isGroup ? groupConversationId(to) : singleConversationId(senderId, to);
  const key =
    request.client_msg_id === undefined
      ? undefined
      : idempotencyKey({
          senderId,
          conversationId,
          clientMsgId: request.client_msg_id,
          msgType: request.msg_type,
          msgData: request.msg_data,
        });
  const asked = {
    senderId,
    conversationId,
    clientMsgId: request.client_msg_id,
    contentHash: key?.contentHash ?? contentHash(request.msg_type, request.msg_data),
  };
  return {
    request,
    senderId,
    conversationId,
    sessionType: isGroup ? SessionType.Group : SessionType.Single,
    isGroup,
    key,
    asked,
    receivers,
  };
}

/**
 * Before the message is stored, so that a stored message always has its session rows (single chat; group members'
 * rows are made when they join) and its session index entries for the day (single chat; groups index in the fan-out).
 */
async function writeSessionRows(
  ports: AcceptMessagePorts,
  send: CheckedSend,
  head: Pick<CounterResult, 'sessionsCreated' | 'indexedDay'>,
  createTime: number,
): Promise<void> {
  if (send.isGroup) return;
  const { conversationId, sessionType, senderId } = send;
  const peerId = send.request.to_session_id;
  const day = unixDay(createTime);
  const sides = [
    { userId: senderId, sessionType, sessionId: peerId, conversationId },
    { userId: peerId, sessionType, sessionId: senderId, conversationId },
  ];
  await Promise.all([
    head.sessionsCreated
      ? undefined
      : Promise.all(sides.map((s) => ports.sessions.ensure({ ...s, createdTime: createTime }))),
    head.indexedDay >= day ? undefined : ports.sessions.index(sides, day, head.indexedDay),
  ]);
}

/**
 * After the rows (writeSessionRows): the head records them, so later messages skip them. A send that dies before
 * leaves the marks unset and the next message writes the rows again (the same rows).
 */
async function markSessionsPrepared(
  ports: AcceptMessagePorts,
  send: CheckedSend,
  head: Pick<CounterResult, 'sessionsCreated' | 'indexedDay'>,
  createTime: number,
): Promise<void> {
  if (send.isGroup) return;
  const day = unixDay(createTime);
  await Promise.all([
    head.sessionsCreated ? undefined : ports.conversations.markSessionsCreated(send.conversationId),
    head.indexedDay >= day ? undefined : ports.conversations.markIndexed(send.conversationId, day),
  ]);
}

/**
 * An earlier attempt of this send numbered it (`previous`): ack what is stored under that msg_id if it is this content
 * (its attachment reference was committed then: nothing is written now), or store it there now. `head` is this attempt's own numbering when it took one (a late resend), for the session
 * checks; a ring hit took none, and then the sessions are prepared as for a first message of the day.
 */
async function continueEarlierAttempt(
  ports: AcceptMessagePorts,
  send: CheckedSend,
  previous: RingEntry,
  head: CounterResult | undefined,
  reference: AttachmentReference | undefined,
): Promise<AcceptedMessage> {
  const key = send.key!;
  const existing = await ports.messages.getConsistent(send.conversationId, previous.msgId);
  if (existing) return accepted(send, checkedResend(send, existing), 'resend', head?.indexedDay ?? 0);

  // Not stored: the earlier attempt died before storing, or is still on its way. Hold the key for this numbering
  // (a no-op when the earlier attempt claimed it with the same content) and store under it.
  const record = { ...previous, contentHash: key.contentHash };
  const claim = await ports.sentMessages.claim(key, record);
  if (!claim.claimed && claim.existing.contentHash !== key.contentHash) throw reused(send);
  const numbering = claim.claimed ? record : claim.existing;
  const sessions = head ?? { sessionsCreated: false, indexedDay: 0 };
  await writeSessionRows(ports, send, sessions, numbering.createTime);
  await markSessionsPrepared(ports, send, sessions, numbering.createTime);
  await reference?.commit();
  try {
    const { stored } = await ports.messages.put(buildMessage(send, numbering.msgId, numbering.createTime), numbering);
    return accepted(send, stored, 'resend', head?.indexedDay ?? 0);
  } catch (error) {
    if (!(error instanceof MessageAlreadyStoredError)) throw error;
    // Stored meanwhile with other content: the other attempt of this key won.
    const winner = await ports.messages.getConsistent(send.conversationId, numbering.msgId);
    if (!winner) throw error;
    return accepted(send, checkedResend(send, winner), 'resend', head?.indexedDay ?? 0);
  }
}

/** The message stored for this key, if it has this content; a key reused for other content is refused. */
function checkedResend(send: CheckedSend, stored: MessageRecord): MessageRecord {
  if (stored.msgType !== send.request.msg_type || stored.msgData !== send.request.msg_data) throw reused(send);
  return stored;
}

/** The same answer whoever blocks whom: the sender learns no more than that the pair is blocked. */
function blockedSend(send: CheckedSend): FrameError {
  return new FrameError(
    'not_allowed',
    `you cannot send to ${send.request.to_session_id}: one of you has blocked the other`,
  );
}

function reused(send: CheckedSend): FrameError {
  return new FrameError(
    'client_msg_id_reused',
    `client_msg_id ${send.request.client_msg_id!.slice(0, 64)} was sent in this conversation with other content; use a new one`,
  );
}

function buildMessage(send: CheckedSend, msgId: number, createTime: number): StoredMessage {
  const { request } = send;
  return {
    conversationId: send.conversationId,
    msgId,
    fromUserId: send.senderId,
    toSessionId: request.to_session_id,
    msgType: request.msg_type,
    msgData: request.msg_data,
    createTime,
    ...(request.client_msg_id === undefined ? {} : { clientMsgId: request.client_msg_id }),
  };
}

function accepted(
  send: CheckedSend,
  message: MessageRecord,
  attempt: AcceptedMessage['attempt'],
  indexedDay: number,
): AcceptedMessage {
  return {
    message,
    asked: send.asked,
    sessionType: send.sessionType,
    seq: send.request.seq,
    key: send.key,
    attempt,
    indexedDay,
  };
}
