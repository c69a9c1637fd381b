/**
 * Web Push on the chat page: registers the service worker (sw.js), subscribes with the local VAPID key (GET
 * /local/push-config) and registers the subscription's JSON as a `web` device token, so that the push sender reaches
 * this browser while it has no connection (answering the challenge push when another account on this browser still
 * holds the subscription); and lists the notifications the service worker showed meanwhile
 * (#away > li[data-tag]). A browser without a push service (headless Chromium) keeps the list and skips the
 * subscription (#away[data-push] = unavailable).
 */
import type { ChatClient } from 'teamtalk-serverless-client';

const away = () => document.getElementById('away') as HTMLUListElement | null;

export async function enablePush(chat: ChatClient): Promise<void> {
  const list = away();
  if (!('serviceWorker' in navigator) || !list) return;
  const registration = await navigator.serviceWorker.register('/sw.js');
  await navigator.serviceWorker.ready;
  await showAwayNotifications(registration);
  try {
    const config = (await (await fetch('/local/push-config')).json()) as { vapid_public_key?: string };
    if (!config.vapid_public_key || (await Notification.requestPermission()) !== 'granted') throw new Error('no push');
    let subscription = await registration.pushManager.getSubscription();
    // Each `npm start` has new VAPID keys: a subscription made with an older key would be refused by its push service.
    if (subscription && base64url(subscription.options.applicationServerKey) !== config.vapid_public_key) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: config.vapid_public_key,
    });
    const token = JSON.stringify(subscription);
    // Another account on this browser still holds the subscription: the challenge push's code makes it this user's.
    navigator.serviceWorker.addEventListener('message', (event: MessageEvent<{ device_token_code?: string }>) => {
      const code = event.data?.device_token_code;
      if (code) void chat.verifyDeviceToken({ token, code }).catch(() => undefined);
    });
    await chat.registerDeviceToken({ token, platform: 'web' });
    list.dataset['push'] = 'subscribed';
  } catch {
    list.dataset['push'] = 'unavailable';
  }
}

function base64url(key: ArrayBuffer | null): string {
  if (!key) return '';
  return btoa(String.fromCharCode(...new Uint8Array(key)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The notifications still shown (received while the page was closed), newest last. */
async function showAwayNotifications(registration: ServiceWorkerRegistration): Promise<void> {
  const list = away();
  if (!list) return;
  const shown = await registration.getNotifications();
  list.replaceChildren(
    ...shown.map((n) => {
      const item = document.createElement('li');
      item.dataset['tag'] = n.tag;
      item.textContent = `${n.title}: ${n.body}`;
      return item;
    }),
  );
  list.hidden = shown.length === 0;
}
