/**
 * Recall and edit (docs/protocol.md "Recall and edit"): `ChatClient.recall` and `edit` call these, and the client
 * turns the server's `msg_recalled` / `msg_edited` frames into events of the same names. The sender recalls within
 * the recall window (a group's owner any time) and edits a text message within the edit window; outside those rules
 * the server answers `not_allowed`, thrown as {@link MessageChangeNotAllowedError}.
 */
import { sessionRefOf, type Conversation } from './conversation.js';
import { ChatServerError } from './errors.js';
import type { MsgEditedFrame, MsgRecalledFrame, ReplyFrame, RequestMap, ServerFrame } from './frames.js';
import { typed } from './safety-blocks.js';

/** `recall()` or `edit()` refused by the rules (`not_allowed`): another's message, past the window, not text, removed. */
export class MessageChangeNotAllowedError extends ChatServerError {
  override readonly name = 'MessageChangeNotAllowedError';
}

/** The request half of ChatClient these need. */
export type EditRequester = <A extends 'msg_recall' | 'msg_edit'>(
  action: A,
  fields: RequestMap[A]['request'],
) => Promise<ReplyFrame<A>>;

/** Sends `msg_recall` (no `text`) or `msg_edit`; resolves with the reply. */
export async function change<A extends 'msg_recall' | 'msg_edit'>(
  request: EditRequester,
  action: A,
  conversation: Conversation,
  msgId: number,
  text?: string,
): Promise<ReplyFrame<A>> {
  if (!Number.isSafeInteger(msgId) || msgId < 1) throw new TypeError(`${action}: msgId must be a msg_id (1, 2, …)`);
  if (action === 'msg_edit' && !text) throw new TypeError('msg_edit: text must be a non-empty string');
  const fields = { ...sessionRefOf(conversation), msg_id: msgId, ...(text === undefined ? {} : { msg_data: text }) };
  return request(action, fields as RequestMap[A]['request']).catch((error: unknown) => {
    throw typed(error, 'not_allowed', MessageChangeNotAllowedError);
  });
}

/** A `msg_recalled` or `msg_edited` frame with the fields its type needs. */
export function isMessageChangeFrame(frame: ServerFrame): frame is (MsgRecalledFrame | MsgEditedFrame) & ServerFrame {
  const ints = (...keys: string[]) => keys.every((key) => Number.isSafeInteger(frame[key]));
  if (typeof frame['session_id'] !== 'string' || !ints('session_type', 'msg_id')) return false;
  return (
    frame.type === 'msg_recalled' ||
    (frame.type === 'msg_edited' && typeof frame['msg_data'] === 'string' && ints('edited_at'))
  );
}
