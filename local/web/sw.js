// The chat page's service worker: shows each Web Push as a notification (the payload of core/push/web-push.ts:
// {title, body, badge, tag, data}); the tag collapses a conversation's pushes into one notification. Clicking one
// opens the page.
self.addEventListener('push', (event) => {
  let push = { title: 'New message', body: '' };
  try {
    if (event.data) push = event.data.json();
  } catch {
    // Not JSON: show the generic line.
  }
  event.waitUntil(
    self.registration.showNotification(push.title, { body: push.body, tag: push.tag, data: push.data, renotify: Boolean(push.tag) }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow('/'));
});
