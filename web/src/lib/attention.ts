// What pulls a user back: the `focus` event (no push for the room they are looking at),
// the unread count in the favicon, and page notifications while the tab is hidden and
// Web Push is off.
import { connection, realtime } from '../api/socket';
import type { Message, NotificationLevel, Room } from '../api/types';

/** How often a focus is re-sent while it holds (the server forgets it after 120 s). */
const FOCUS_REFRESH_MS = 60_000;

/** The room shown, visible and focused, or null. */
function lookingAt(activeRoomId: string | null): string | null {
  if (typeof document === 'undefined') return null;
  return document.visibilityState === 'visible' && document.hasFocus() ? activeRoomId : null;
}

/**
 * Keeps the server told which room this tab is looking at. Returns a function that
 * takes the new active room (call it on every room change) and a stop function.
 */
export function startFocusReports(initial: string | null): { setRoom: (id: string | null) => void; stop: () => void } {
  let room = initial;
  let sent: string | null | undefined;
  const report = (force = false) => {
    const now = lookingAt(room);
    if (!force && now === sent) return;
    sent = now;
    void realtime.focus(now);
  };
  const onChange = () => report();
  window.addEventListener('focus', onChange);
  window.addEventListener('blur', onChange);
  document.addEventListener('visibilitychange', onChange);
  // a new connection starts with no focus on the server
  const unsubscribe = connection.subscribe((s) => {
    if (s === 'online') report(true);
  });
  const timer = window.setInterval(() => {
    if (sent) report(true);
  }, FOCUS_REFRESH_MS);
  report(true);
  return {
    setRoom(id) {
      room = id;
      report();
    },
    stop() {
      window.removeEventListener('focus', onChange);
      window.removeEventListener('blur', onChange);
      document.removeEventListener('visibilitychange', onChange);
      unsubscribe();
      window.clearInterval(timer);
    },
  };
}

const ICON =
  '<rect width="64" height="64" rx="16" fill="#3f7d6e"/><path d="M18 20h28a6 6 0 0 1 6 6v12a6 6 0 0 1-6 6H30l-9 8v-8h-3a6 6 0 0 1-6-6V26a6 6 0 0 1 6-6z" fill="#fff"/>';

/** The favicon, with the unread total on a red badge when there is any. */
export function faviconHref(unread: number): string {
  const label = unread > 99 ? '99+' : String(unread);
  const badge =
    unread > 0
      ? `<circle cx="46" cy="18" r="18" fill="#c62828"/><text x="46" y="25" text-anchor="middle" font-family="Arial,sans-serif" font-weight="700" font-size="${label.length > 2 ? 14 : 20}" fill="#fff">${label}</text>`
      : '';
  return `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">${ICON}${badge}</svg>`)}`;
}

export function setFavicon(unread: number): void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (link) link.href = unread > 0 ? faviconHref(unread) : '/favicon.svg';
}

/** Markdown to one plain line of at most 140 characters (like the server's pushes). */
export function plainPreview(markdown: string): string {
  const text = markdown
    .replace(/```[^\n]*\n?/g, ' ')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_~`>#]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return [...text].length > 140 ? `${[...text].slice(0, 139).join('').trimEnd()}…` : text;
}

let pushOn = false;
/** The notifications control tells us whether Web Push covers this device. */
export function setPushOn(on: boolean): void {
  pushOn = on;
}

/** Whether a message notifies at this level. */
export function notifies(level: NotificationLevel | undefined, isDirect: boolean, mentioned: boolean): boolean {
  const l = level ?? (isDirect ? 'all' : 'mentions');
  return l === 'all' || (l === 'mentions' && mentioned);
}

/**
 * A notification from the page itself: only while the tab is hidden, only when Web
 * Push is off here (or it would say it twice), only with permission already given.
 */
export function pageNotify(room: Room | undefined, title: string, message: Message, onOpen: () => void): void {
  if (pushOn || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden' || !room) return;
  try {
    const n = new Notification(title, {
      body: plainPreview(message.content) || 'New message',
      tag: `room-${room.id}`,
      icon: '/favicon.svg',
    });
    n.onclick = () => {
      window.focus();
      onOpen();
      n.close();
    };
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}
