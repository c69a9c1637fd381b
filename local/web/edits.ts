/**
 * Recall and edit on the chat page: on the user's own stored messages, "Edit" (text, within the edit window) and
 * "Recall" (within the recall window) in the message's row; a recalled message reads "message recalled", an edited one
 * carries "(edited)". The store applies the change at once on this tab and from msg_recalled / msg_edited on the
 * others (client/store/), and after a reconnect from the re-read page.
 *
 * Hooks for browser tests: #messages > li[data-recalled="true"], li[data-edited-at], li button[data-action="edit"],
 * li button[data-action="recall"], li input.edit-input, li button[data-action="save-edit"].
 */
import { LIMIT_DEFAULTS, type ChatMessage } from 'teamtalk-serverless-client';
import { page } from './state.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Which actions the user has on the message now: its own, stored, neither recalled nor removed, within a window. */
function actionsOf(message: ChatMessage): { edit: boolean; recall: boolean } {
  const age = nowSeconds() - (message.createTime ?? 0);
  const own = message.fromMe && message.status === 'stored' && !message.recalled && !message.deleted;
  return {
    edit: own && message.kind === 'text' && age <= LIMIT_DEFAULTS.editWindowSeconds,
    recall: own && age <= LIMIT_DEFAULTS.recallWindowSeconds,
  };
}

function button(action: string, label: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.dataset['action'] = action;
  element.textContent = label;
  return element;
}

/** Marks a recalled or edited message and gives the row its Edit / Recall buttons (kept while they stay the same). */
export function markChanges(element: HTMLLIElement, message: ChatMessage): void {
  const data = element.dataset;
  if (message.recalled) data['recalled'] = 'true';
  else delete data['recalled'];
  if (message.editedAt !== undefined) data['editedAt'] = String(message.editedAt);
  else delete data['editedAt'];
  const [meta, body] = [element.children[0] as HTMLElement, element.children[1] as HTMLElement];
  if (message.recalled) body.textContent = 'message recalled';
  if (message.editedAt !== undefined && !message.recalled) meta.textContent += ' · (edited)';
  const allowed = actionsOf(message);
  const key = `${allowed.edit}|${allowed.recall}`;
  let actions = element.querySelector<HTMLElement>(':scope > .edit-actions');
  if (actions?.dataset['key'] === key) return;
  actions?.remove();
  if (!allowed.edit && !allowed.recall) return;
  actions = document.createElement('span');
  actions.className = 'edit-actions';
  actions.dataset['key'] = key;
  if (allowed.edit) actions.append(button('edit', 'Edit'));
  if (allowed.recall) actions.append(button('recall', 'Recall'));
  element.append(actions);
}

/** The row's Edit turns into a text field and Save. */
function startEditing(item: HTMLElement): void {
  const actions = item.querySelector<HTMLElement>(':scope > .edit-actions');
  if (!actions) return;
  const input = document.createElement('input');
  input.className = 'edit-input';
  input.value = item.querySelector('.body')?.textContent ?? '';
  actions.replaceChildren(input, button('save-edit', 'Save'));
  input.focus();
}

async function run(item: HTMLElement, action: string, onError: (error: unknown) => void): Promise<void> {
  const store = page.store;
  const msgId = Number(item.dataset['msgId']);
  if (!store || !page.current || !Number.isSafeInteger(msgId)) return;
  try {
    if (action === 'recall') await store.recall(page.current, msgId);
    else {
      const text = item.querySelector<HTMLInputElement>('input.edit-input')?.value ?? '';
      await store.edit(page.current, msgId, text);
    }
  } catch (error) {
    onError(error);
  }
}

export function wireEdits(onError: (error: unknown) => void): void {
  const list = document.getElementById('messages')!;
  list.addEventListener('click', (event) => {
    const target = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    const item = target?.closest<HTMLElement>('li');
    if (!target || !item) return;
    const action = target.dataset['action']!;
    if (action === 'edit') startEditing(item);
    else void run(item, action === 'save-edit' ? 'edit' : action, onError);
  });
  list.addEventListener('keydown', (event) => {
    const input = (event.target as HTMLElement).closest<HTMLInputElement>('input.edit-input');
    const item = input?.closest<HTMLElement>('li');
    if (event.key === 'Enter' && item) void run(item, 'edit', onError);
  });
}
