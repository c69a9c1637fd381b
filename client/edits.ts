/**
 * Recall and edit (docs/protocol.md "Recall and edit"): `ChatClient.recall` and `edit` call these, and the client
 * turns the server's `msg_recalled` / `msg_edited` frames into events of the same names. The sender recalls within
 * the recall window (a group's owner any time) and edits a text message within the edit window; outside those rules
 * the server answers `not_allowed`, thrown as {@link MessageChangeNotAllowedError}.
 */
import { sessionRefOf, type Conversation } from './conversation.js';
import { ChatServerError } from './errors.js';
import type { MsgEditedFrame, MsgRecalledFrame, ReplyFrame, RequestMap, ServerFrame } from './frames.js';

/** `recall()` or `edit()` refused by the rules (`not_allowed`): another's message, past the window, not text, removed. */
export class MessageChangeNotAllowedError extends ChatServerError {
  override readonly name = 'MessageChangeNotAllowedError';
}

/** The request half of ChatClient these need. */
export type EditRequester = <A extends 'msg_recall' | 'msg_edit'>(
  action: A,
  fields: RequestMap[A]['request'],
) => Promise<ReplyFrame<A>>;

function checkedMsgId(method: string, msgId: number): number {
  if (!Number.isSafeInteger(msgId) || msgId < 1) throw new TypeError(`${method}: msgId must be a msg_id (1, 2, …)`);
  return msgId;
}

function notAllowed(error: unknown): unknown {
  if (!(error instanceof ChatServerError) || error.constructor !== ChatServerError || error.code !== 'not_allowed')
    return error;
  const typed = new MessageChangeNotAllowedError(error.serverCode, '', error.seq);
  typed.message = error.message;
  return typed;
}

/** Recalls the message for everyone; recalling a recalled message resolves again. */
export async function recall(request: EditRequester, conversation: Conversation, msgId: number): Promise<void> {
  await request('msg_recall', { ...sessionRefOf(conversation), msg_id: checkedMsgId('recall', msgId) }).catch(
    (error: unknown) => {
      throw notAllowed(error);
    },
  );
}

/** Replaces the text of this user's text message; resolves with `edited_at` (unix seconds). */
export async function edit(
  request: EditRequester,
  conversation: Conversation,
  msgId: number,
  text: string,
): Promise<number> {
  if (typeof text !== 'string' || text.length === 0) throw new TypeError('edit: text must be a non-empty string');
  const fields = { ...sessionRefOf(conversation), msg_id: checkedMsgId('edit', msgId), msg_data: text };
  const reply = await request('msg_edit', fields).catch((error: unknown) => {
    throw notAllowed(error);
  });
  return reply.edited_at;
}

const isInt = (value: unknown): value is number => Number.isSafeInteger(value);

export function isMsgRecalledFrame(frame: ServerFrame): frame is MsgRecalledFrame & ServerFrame {
  return (
    frame.type === 'msg_recalled' &&
    typeof frame['session_id'] === 'string' &&
    isInt(frame['session_type']) &&
    isInt(frame['msg_id'])
  );
}

export function isMsgEditedFrame(frame: ServerFrame): frame is MsgEditedFrame & ServerFrame {
  return (
    frame.type === 'msg_edited' &&
    typeof frame['session_id'] === 'string' &&
    isInt(frame['session_type']) &&
    isInt(frame['msg_id']) &&
    typeof frame['msg_data'] === 'string' &&
    isInt(frame['edited_at'])
  );
}
