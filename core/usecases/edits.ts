/**
 * msg_recall and msg_edit (docs/protocol.md "Recall and edit"). Both read the message once (strongly consistent GetItem),
 * check the rules there so a refusal says why, then write it with one conditional UpdateItem that repeats the rules
 * (core/store/message-edits.ts), and post `msg_recalled` / `msg_edited` to the live connections of the conversation's
 * members (the caller's other connections included; the asking connection gets the reply). The message keeps its
 * item, so every read path shows the new state; nothing else is stored.
 *
 * - Recall: the sender within `recallWindowSeconds` of create_time, or a group's owner at any time. The attachment goes
 *   first, as for a tombstone (core/usecases/remove-message.ts): a crash in between leaves a message whose picture is
 *   gone and a retry finishes it. Recalling a recalled message answers the same reply and posts nothing again (a
 *   repeated request must not repeat a fan-out); a tombstone cannot be recalled (`not_allowed`).
 * - Edit: the sender, text messages only (msg_type 1 or 17), within `editWindowSeconds`; the text is checked as a send
 *   checks it (empty, size, the word filter, the team's content check) and every edit takes from the sender's
 *   msg_data budget (one frame, its receivers) before the message is read. The same text again writes and posts
 *   nothing and answers the stored edited_at.
 * - A blocked pair: a one-to-one edit is refused as a send would be (`not_allowed`); a recall goes through (it only
 *   removes content). Group members who block the sender still get the frames, as they get the messages (flagged).
 * - A msg_id with no message: `bad_request`; a conversation the caller is not in: `not_member`.
 */
import { isRejectedText } from '../domain/content-filter.js';
import { SessionType } from '../domain/ids.js';
import { FrameError } from '../errors.js';
import type { AttachmentBlobs } from '../ports/attachments.js';
import type { Clock } from '../ports/clock.js';
import type { EditableMessage, MessageEditStore, RecallRule } from '../ports/edits.js';
import type { Gateway } from '../ports/gateway.js';
import type { ContentCheck } from '../ports/moderation.js';
import type { BlockStore, GroupStore, PresenceStore, RateLimiter } from '../ports/stores.js';
import { type ConversationRef, resolveConversation } from './conversation-access.js';
import type { Caller as WebSocketCaller } from '../websocket-event.js';
import { notifyUsers } from './notify.js';
import { attachmentKeys } from './remove-message.js';

export interface EditPorts {
  readonly edits: MessageEditStore;
  readonly groups: GroupStore;
  readonly blocks: Pick<BlockStore, 'isBlockedEitherWay'>;
  readonly rateLimits: Pick<RateLimiter, 'acquireSend'>;
  readonly presence: PresenceStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
  /** Undefined when the stack has no attachment bucket. */
  readonly attachments: AttachmentBlobs | undefined;
  /** The team's content check (the `contentCheck` prop); undefined: none. */
  readonly contentCheck?: ContentCheck | undefined;
  readonly config: {
    readonly recallWindowSeconds: number;
    readonly editWindowSeconds: number;
    readonly maxMsgBytes: number;
    readonly contentFilterWords: readonly string[];
    readonly fanoutConcurrency: number;
  };
}

type Caller = Pick<WebSocketCaller, 'userId' | 'connectionId'>;

export interface MessageRef {
  readonly session_id: string;
  readonly session_type: number;
  readonly msg_id: number;
}

type Reply = { session_id: string; session_type: number; msg_id: number };

export async function recallMessage(ports: EditPorts, caller: Caller, request: MessageRef): Promise<Reply> {
  const conversation = await resolveConversation(ports, caller.userId, request.session_type, request.session_id);
  const message = await readMessage(ports, conversation, request);
  const reply = { session_id: request.session_id, session_type: request.session_type, msg_id: message.msgId };
  // Recalled already: the same reply, and no frames again (a repeated request must not repeat a fan-out).
  if (message.recalled) return reply;
  const rule = await recallRule(ports, caller.userId, conversation, message);
  for (const key of attachmentKeys(message.msgData)) await ports.attachments?.delete(key);
  if (!(await ports.edits.recall(conversation.conversationId, message.msgId, rule))) {
    // Raced: recalled meanwhile (the same reply), or no longer allowed.
    if ((await readMessage(ports, conversation, request)).recalled) return reply;
    throw notAllowed(`msg_id ${message.msgId} can no longer be recalled`);
  }
  await notifyMembers(ports, caller, conversation, { type: 'msg_recalled', msg_id: message.msgId });
  return reply;
}

export async function editMessage(
  ports: EditPorts,
  caller: Caller,
  request: MessageRef & { readonly msg_data: string },
): Promise<Reply & { edited_at: number }> {
  checkText(ports.config, request.msg_data);
  const conversation = await resolveConversation(ports, caller.userId, request.session_type, request.session_id);
  await takeBudget(ports, caller.userId, conversation);
  const message = await readMessage(ports, conversation, request);
  const createdSince = editableSince(ports, caller.userId, message);
  const reply = (editedAt: number) => ({
    session_id: request.session_id,
    session_type: request.session_type,
    msg_id: message.msgId,
    edited_at: editedAt,
  });
  if (message.msgData === request.msg_data) {
    // A retried edit: the same reply, no write and no frames again; the text it was sent with: nothing to change.
    if (message.editedAt !== undefined) return reply(message.editedAt);
    throw new FrameError('bad_request', 'msg_data: the message has this text already');
  }
  await checkEditAllowed(ports, caller.userId, conversation, message, request.msg_data);
  const editedAt = Math.floor(ports.clock.now() / 1000);
  const change = { senderId: caller.userId, createdSince, msgData: request.msg_data, editedAt };
  if (!(await ports.edits.edit(conversation.conversationId, message.msgId, change)))
    throw notAllowed(`msg_id ${message.msgId} can no longer be edited`);
  const fields = { msg_id: message.msgId, msg_data: request.msg_data, edited_at: editedAt };
  await notifyMembers(ports, caller, conversation, { type: 'msg_edited', ...fields });
  return reply(editedAt);
}

/** The sender's msg_data budget: one frame and the conversation's receivers (1, or the group's members but it). */
async function takeBudget(ports: EditPorts, userId: string, conversation: ConversationRef): Promise<void> {
  const isGroup = conversation.sessionType === SessionType.Group;
  const receivers = isGroup ? Math.max(0, (await ports.groups.memberCount(conversation.sessionId)) - 1) : 1;
  const over = await ports.rateLimits.acquireSend(userId, ports.clock.now(), receivers);
  if (over) throw new FrameError('rate_limited', `more msg_data and msg_edit a second than the limit allows (${over})`);
}

async function readMessage(
  ports: EditPorts,
  conversation: ConversationRef,
  request: MessageRef,
): Promise<EditableMessage> {
  const message = await ports.edits.read(conversation.conversationId, request.msg_id);
  if (!message) throw new FrameError('bad_request', `msg_id: no message ${request.msg_id} with ${request.session_id}`);
  return message;
}

/** The sender within the window, else a group's owner (one GetItem of the group); else `not_allowed`. */
async function recallRule(
  ports: EditPorts,
  userId: string,
  conversation: ConversationRef,
  message: EditableMessage,
): Promise<RecallRule> {
  if (message.deleted) throw notAllowed(`msg_id ${message.msgId} was removed`);
  const createdSince = Math.floor(ports.clock.now() / 1000) - ports.config.recallWindowSeconds;
  if (message.fromUserId === userId && message.createTime >= createdSince)
    return { kind: 'sender', senderId: userId, createdSince };
  if (conversation.sessionType === SessionType.Group) {
    const group = await ports.groups.get(conversation.sessionId);
    if (group?.ownerId === userId) return { kind: 'owner' };
  }
  throw notAllowed(
    message.fromUserId === userId
      ? `msg_id ${message.msgId} is older than the recall window (${ports.config.recallWindowSeconds} s)`
      : `msg_id ${message.msgId} was sent by another user; only the group's owner may recall it`,
  );
}

/** The rules of an edit that need no other read: sender, type, state, window. Returns the window's start. */
function editableSince(ports: EditPorts, userId: string, message: EditableMessage): number {
  const createdSince = Math.floor(ports.clock.now() / 1000) - ports.config.editWindowSeconds;
  if (message.fromUserId !== userId) throw notAllowed(`msg_id ${message.msgId} was sent by another user`);
  if (message.deleted || message.recalled) throw notAllowed(`msg_id ${message.msgId} was removed or recalled`);
  if (message.msgType !== 1 && message.msgType !== 17)
    throw notAllowed('only text messages (msg_type 1, 17) can be edited');
  if (message.createTime < createdSince)
    throw notAllowed(`msg_id ${message.msgId} is older than the edit window (${ports.config.editWindowSeconds} s)`);
  return createdSince;
}

/** What a send checks of its text before anything is read: empty, size, the word filter. */
function checkText(config: EditPorts['config'], msgData: string): void {
  if (msgData.length === 0) throw new FrameError('empty_message', 'msg_data is empty');
  const size = Buffer.byteLength(msgData, 'utf8');
  if (size > config.maxMsgBytes)
    throw new FrameError('too_large', `msg_data is ${size} bytes of UTF-8, the limit is ${config.maxMsgBytes}`);
  if (isRejectedText(config.contentFilterWords, 1, msgData))
    throw new FrameError('content_rejected', 'msg_data contains a word this server does not accept');
}

/** A blocked pair, then the team's check (last, as on the send path: a refused edit costs it no call). */
async function checkEditAllowed(
  ports: EditPorts,
  userId: string,
  conversation: ConversationRef,
  message: EditableMessage,
  msgData: string,
): Promise<void> {
  if (
    conversation.sessionType !== SessionType.Group &&
    (await ports.blocks.isBlockedEitherWay(userId, conversation.sessionId))
  )
    throw notAllowed(`you cannot edit messages to ${conversation.sessionId}: one of you has blocked the other`);
  const check = {
    from_user_id: userId,
    to_session_id: conversation.sessionId,
    msg_type: message.msgType,
    msg_data: msgData,
  };
  if (ports.contentCheck && !(await ports.contentCheck.allows(check)))
    throw new FrameError('content_rejected', "msg_data was refused by this server's content check");
}

/**
 * The frame to every live connection of the conversation's members but the asking one, `session_id` from each
 * receiver's view: the peer for the caller's own connections, the caller for the peer; the group for its members
 * (at most the group cap, MAX_GROUP_MEMBERS; presence is read 100 users a BatchGetItem).
 */
async function notifyMembers(
  ports: EditPorts,
  caller: Caller,
  conversation: ConversationRef,
  fields: { type: 'msg_recalled' | 'msg_edited'; msg_id: number; [field: string]: unknown },
): Promise<void> {
  const { sessionType, sessionId } = conversation;
  if (sessionType === SessionType.Group) {
    const members = await ports.groups.members(sessionId);
    await notifyUsers(
      ports,
      members,
      { ...fields, session_id: sessionId, session_type: sessionType },
      caller.connectionId,
    );
    return;
  }
  await Promise.all([
    notifyUsers(
      ports,
      [caller.userId],
      { ...fields, session_id: sessionId, session_type: sessionType },
      caller.connectionId,
    ),
    notifyUsers(ports, [sessionId], { ...fields, session_id: caller.userId, session_type: sessionType }),
  ]);
}

function notAllowed(message: string): FrameError {
  return new FrameError('not_allowed', message);
}
