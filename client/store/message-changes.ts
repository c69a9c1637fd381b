/**
 * A recall or an edit applied to a message the store holds (a `msg_recalled` / `msg_edited` frame, or this device's
 * own `recall()` / `edit()` once the server answered): the message keeps its key, msg_id and place, and takes the new
 * state. ConversationRecord.addStored takes it only when it is later than what is held (isLaterState), so a stale
 * copy never undoes a recall or an older edit a newer one.
 */
import { contentOf, type ChatMessage, type MessagePreview } from './model.js';

export type MessageChange =
  | { readonly kind: 'recalled' }
  | { readonly kind: 'edited'; readonly text: string; readonly editedAt: number };

export function changedMessage(message: ChatMessage, change: MessageChange): ChatMessage {
  if (change.kind === 'recalled')
    return Object.freeze({
      ...message,
      data: '',
      text: undefined,
      attachment: undefined,
      recalled: true,
      editedAt: undefined,
    });
  const content = contentOf(1, change.text);
  return Object.freeze({ ...message, ...content, data: change.text, editedAt: change.editedAt });
}

/** The session list's preview of the same message, changed the same way. */
export function changedPreview(preview: MessagePreview, change: MessageChange): MessagePreview {
  if (change.kind === 'recalled')
    return Object.freeze({ ...preview, text: undefined, attachment: undefined, recalled: true, editedAt: undefined });
  return Object.freeze({ ...preview, text: change.text, editedAt: change.editedAt });
}
