/**
 * Typing on the chat page: while the composer holds text, the SDK is told the user types in the open conversation
 * (`client.typing()`, which sends `start` at most once per 3.5 s); clearing the input or sending says it stopped.
 * Under the messages, "<name> is typing…" for the users the store's snapshot says type in the open conversation; the
 * SDK ends it on their stop, their message, or 6 s without a refresh.
 *
 * Hook for browser tests: #typing[data-user-ids] (comma-separated; empty and hidden when nobody types).
 */
import { conversationKey, type ChatSnapshot } from 'teamtalk-serverless-client';
import { ui } from './dom.js';
import { page } from './state.js';

const line = () => document.getElementById('typing') as HTMLElement;

/** The open conversation's typists, by name. */
export function renderTyping(snapshot: ChatSnapshot | undefined): void {
  const typists = (page.current && snapshot?.typing[conversationKey(page.current)]) || [];
  const names = typists.map((id) => snapshot?.names[id] ?? id);
  const element = line();
  element.dataset['userIds'] = typists.join(',');
  element.hidden = names.length === 0;
  element.textContent =
    names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
}

/** The composer's input says whether the user types; a send (the composer's submit) says it stopped. */
export function wireTyping(): void {
  ui.input.addEventListener('input', () => {
    const conversation = page.current;
    if (!page.client || !conversation) return;
    if (ui.input.value.trim() === '') page.client.stopTyping(conversation);
    else page.client.typing(conversation);
  });
  ui.composer.addEventListener('submit', () => {
    if (page.client && page.current) page.client.stopTyping(page.current);
  });
}
