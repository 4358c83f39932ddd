// Web Push in the browser: the service worker (/sw.js), the push subscription, and the
// state the "Notifications" control shows. Nothing here asks for permission on its own:
// only `enablePush`, called from the user's click, does.
import { rest } from '../api/rest';

/** on: subscribed; off: not (yet); blocked: the browser denies notifications;
 * page: no Web Push here, but the page may notify while open; unsupported: neither. */
export type PushState = 'on' | 'off' | 'blocked' | 'page' | 'unsupported';

const SW_URL = '/sw.js';

function hasNotifications(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function hasPush(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    'serviceWorker' in navigator &&
    typeof window !== 'undefined' &&
    'PushManager' in window &&
    window.isSecureContext
  );
}

/** base64url → bytes (the VAPID key as `applicationServerKey`). */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

async function registration(): Promise<ServiceWorkerRegistration | undefined> {
  if (!hasPush()) return undefined;
  return navigator.serviceWorker.getRegistration('/');
}

/** What the control should show now (no prompt, no network). */
export async function pushState(): Promise<PushState> {
  if (!hasNotifications()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  if (!hasPush()) return Notification.permission === 'granted' ? 'page' : 'off';
  if (Notification.permission !== 'granted') return 'off';
  try {
    const reg = await registration();
    const sub = await reg?.pushManager.getSubscription();
    return sub ? 'on' : 'off';
  } catch {
    return 'off';
  }
}

/** Asks for permission (the user pressed the button), subscribes, tells the server. */
export async function enablePush(): Promise<PushState> {
  if (!hasNotifications()) return 'unsupported';
  const permission = await Notification.requestPermission();
  if (permission === 'denied') return 'blocked';
  if (permission !== 'granted') return 'off';
  if (!hasPush()) return 'page';
  const reg = await navigator.serviceWorker.register(SW_URL, { scope: '/' });
  await navigator.serviceWorker.ready;
  const key = fromBase64Url((await rest.vapidPublicKey()).key);
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub.options.applicationServerKey, key)) {
    // made for another server key (the server's key changed): start over
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await rest.subscribePush(sub.toJSON());
  return 'on';
}

/** Stops push on this device, on the server and in the browser. */
export async function disablePush(): Promise<PushState> {
  const reg = await registration();
  const sub = await reg?.pushManager.getSubscription();
  if (sub) {
    try {
      await rest.unsubscribePush(sub.endpoint);
    } finally {
      await sub.unsubscribe();
    }
  }
  return pushState();
}

/**
 * On start: a subscription this browser already has is registered again for the
 * signed-in user (an endpoint moves to the newest user who registers it).
 */
export async function refreshPush(): Promise<PushState> {
  const state = await pushState();
  if (state !== 'on') return state;
  try {
    const sub = await (await registration())?.pushManager.getSubscription();
    if (sub) await rest.subscribePush(sub.toJSON());
  } catch {
    /* the server will hear of it next time */
  }
  return state;
}

/** On sign-out: this device stops getting that user's pushes. */
export async function forgetPushOnThisDevice(): Promise<void> {
  try {
    await disablePush();
  } catch {
    /* signed out anyway */
  }
}
