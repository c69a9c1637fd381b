// The chat page's service worker: shows each Web Push as a notification (the payload of core/push-providers/web-push.ts:
// {title, body, badge, tag, data}); the tag collapses a conversation's pushes into one notification. Clicking one
// opens the page. A push with data.device_token_code is a device-token challenge: the open pages get the code.
self.addEventListener('push', (event) => {
  let push = { title: 'New message', body: '' };
  try {
    if (event.data) push = event.data.json();
  } catch {
    // Not JSON: show the generic line.
  }
  // A device-token challenge (another account holds this browser's subscription): the open page answers it.
  const code = push.data?.device_token_code;
  const answer = code
    ? self.clients.matchAll({ type: 'window' }).then((pages) => {
        for (const page of pages) page.postMessage({ device_token_code: code });
      })
    : Promise.resolve();
  event.waitUntil(
    Promise.all([
      answer,
      self.registration.showNotification(push.title, {
        body: push.body,
        tag: push.tag,
        data: push.data,
        renotify: Boolean(push.tag),
      }),
    ]),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow('/'));
});
