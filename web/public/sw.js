// Natter's service worker: shows Web Push notifications and opens the app at the
// message on click. Served from the site root (scope "/") with Cache-Control: no-cache,
// so the browser always revalidates it; it caches nothing itself (Natter is not an
// offline app), so it can never serve a stale UI. Plain script, no imports: the CSP's
// script-src 'self' covers it.
/* eslint-env serviceworker */

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** A same-origin URL of the app, or the app's root. */
function appUrl(url) {
  try {
    const u = new URL(typeof url === 'string' ? url : '/', self.location.origin);
    return u.origin === self.location.origin ? u.href : self.location.origin + '/';
  } catch {
    return self.location.origin + '/';
  }
}

/** waitUntil for real events; a script-made event (tests) just runs the work. */
function keepAlive(event, work) {
  try {
    event.waitUntil(work);
  } catch {
    /* untrusted event: nothing to extend */
  }
  return work;
}

function showPush(data) {
  const title = typeof data.title === 'string' && data.title ? data.title : 'Natter';
  const body = typeof data.body === 'string' ? data.body : 'New message';
  const roomId = typeof data.roomId === 'string' ? data.roomId : null;
  return self.registration.showNotification(title, {
    body,
    // one notification per room: a burst replaces itself, each new one still alerts
    tag: roomId ? `room-${roomId}` : 'natter',
    renotify: true,
    icon: '/favicon.svg',
    data: { url: appUrl(data.url), roomId, messageId: typeof data.messageId === 'string' ? data.messageId : null },
  });
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  keepAlive(event, showPush(data && typeof data === 'object' ? data : {}));
});

async function openApp(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const mine = windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (mine) {
    // the app moves to the room itself (no reload); focusing may be refused outside a click
    mine.postMessage({ type: 'natter:open', url });
    try {
      await mine.focus();
    } catch {
      /* not allowed here */
    }
    return;
  }
  await self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = appUrl(event.notification.data && event.notification.data.url);
  keepAlive(event, openApp(url));
});
