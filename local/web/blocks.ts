/**
 * Blocking on the chat page: a Block / Unblock button in the conversation header of a one-to-one conversation, and a
 * blocked user's group messages collapsed (the server flags them `blocked_sender`; click one to show it). The users
 * this user blocks are read with the SDK's blockList() after sign-in and kept here; a one-to-one send either way is
 * refused by the server (`not_allowed`), so it shows as failed.
 *
 * Hooks for browser tests: #block-user[data-blocked] (true | false), #messages > li[data-blocked-sender="true"].
 */
import type { ChatMessage } from 'teamtalk-serverless-client';
import { page } from './state.js';

const blocked = new Set<string>();
/** The user the set was read for: a sign-in as someone else starts empty. */
let owner = '';

const button = () => document.getElementById('block-user') as HTMLButtonElement;

/** Reads every page of the user's blocks; `onChange` redraws. */
export async function loadBlocks(onChange: () => void): Promise<void> {
  const client = page.client;
  const me = page.me;
  if (!client) return;
  const ids: string[] = [];
  for await (const id of client.blockList()) ids.push(id);
  if (page.me !== me) return;
  blocked.clear();
  for (const id of ids) blocked.add(id);
  owner = me;
  onChange();
}

/** The header's button: shown for a one-to-one conversation, saying what a click does. */
export function renderBlockControl(): void {
  const peer = page.current?.type === 'peer' ? page.current.id : undefined;
  const control = button();
  control.hidden = !page.me || peer === undefined;
  const isBlocked = peer !== undefined && owner === page.me && blocked.has(peer);
  control.dataset['blocked'] = String(isBlocked);
  control.textContent = isBlocked ? 'Unblock' : 'Block';
  control.title = isBlocked
    ? `Let ${peer} message you again`
    : `Stop one-to-one messages with ${peer ?? 'this user'} both ways; their group messages are collapsed`;
}

/** Flags a blocked user's group message, collapsed until clicked. */
export function markBlockedSender(element: HTMLElement, message: ChatMessage): void {
  if (message.blockedSender) element.dataset['blockedSender'] = 'true';
  else delete element.dataset['blockedSender'];
}

async function toggle(onChange: () => void, onError: (error: unknown) => void): Promise<void> {
  const client = page.client;
  const peer = page.current?.type === 'peer' ? page.current.id : undefined;
  if (!client || peer === undefined) return;
  const me = page.me;
  try {
    if (blocked.has(peer)) {
      await client.unblock(peer);
      if (page.me === me) blocked.delete(peer);
    } else {
      await client.block(peer);
      if (page.me === me) blocked.add(peer);
    }
    owner = me;
    onChange();
  } catch (error) {
    onError(error);
  }
}

export function wireBlocks(onChange: () => void, onError: (error: unknown) => void): void {
  button().addEventListener('click', () => void toggle(onChange, onError));
  document.getElementById('messages')!.addEventListener('click', (event) => {
    const item = (event.target as HTMLElement).closest<HTMLElement>('li[data-blocked-sender="true"]');
    if (item) item.dataset['revealed'] = String(item.dataset['revealed'] !== 'true');
  });
}
