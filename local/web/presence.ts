/**
 * Presence on the chat page: an online dot (online / away / offline) beside each one-to-one conversation in the
 * session list and beside the open conversation's heading. The page watches the peers it shows with the SDK's
 * `client.presence.subscribe` (the SDK subscribes again on every reconnect) and redraws on each `presence` event; it
 * sets itself away while the tab is hidden (visibilitychange) and online when it is shown again.
 *
 * Hooks for browser tests: #peer-presence[data-presence] (online | away | offline; empty for a group or nothing open),
 * #sessions > li > button .presence-dot[data-presence].
 */
import { MAX_PRESENCE_IDS, type ChatClient, type PresenceStatus } from 'teamtalk-serverless-client';
import { page } from './state.js';

const LABELS: Readonly<Record<PresenceStatus, string>> = { online: 'online', away: 'away', offline: 'offline' };

const statusOf = (userId: string): PresenceStatus => page.client?.presence.status(userId) ?? 'offline';

/** A dot showing the user's status, for the session list. */
export function presenceDot(userId: string): HTMLSpanElement {
  const dot = document.createElement('span');
  dot.className = 'presence-dot';
  const status = statusOf(userId);
  dot.dataset['presence'] = status;
  dot.title = `${userId} is ${LABELS[status]}`;
  return dot;
}

/** The dot beside the open conversation's heading: the peer's status, none for a group. */
export function renderHeaderPresence(): void {
  const dot = document.getElementById('peer-presence') as HTMLSpanElement;
  const peer = page.me && page.current?.type === 'peer' ? page.current.id : undefined;
  dot.hidden = peer === undefined;
  dot.dataset['presence'] = peer === undefined ? '' : statusOf(peer);
  dot.title = peer === undefined ? '' : `${peer} is ${LABELS[statusOf(peer)]}`;
}

/**
 * Watches the peers shown: the open conversation's and the session list's one-to-one peers (the first 100, the
 * server's cap per connection). Only new ids are subscribed; the SDK keeps the union.
 */
export function watchShownPeers(peers: readonly string[]): void {
  const client = page.client;
  if (!client) return;
  const watched = new Set(client.presence.watched);
  const open = page.current?.type === 'peer' ? [page.current.id] : [];
  const wanted = [...new Set([...open, ...peers])].filter((id) => id !== page.me);
  const room = MAX_PRESENCE_IDS - watched.size;
  const added = wanted.filter((id) => !watched.has(id)).slice(0, Math.max(0, room));
  if (added.length > 0) void client.presence.subscribe(added).catch(() => undefined);
}

/** Redraws on each status heard; away while the tab is hidden. */
export function listenPresence(client: ChatClient, onChange: () => void): void {
  client.on('presence', () => {
    if (page.client === client) onChange();
  });
}

export function wirePresence(): void {
  document.addEventListener('visibilitychange', () => {
    const client = page.client;
    if (client && client.state === 'open')
      void client.setPresence(document.visibilityState === 'hidden' ? 'away' : 'online').catch(() => undefined);
  });
}
