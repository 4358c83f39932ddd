// Web Push in Chromium (issue 11): the service worker at the root scope shows a delivered
// push (DevTools protocol ServiceWorker.deliverPushMessage, a real push event) and a click
// on it opens the app at the message's room; the "Enable notifications" control never
// prompts on load and shows the state; "Notify me" per room; the unread favicon badge.
// Run: NATTER_BIN=… npm run e2e (after `npm run build`).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, ensureScreenshotDir, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const PASSWORD = 'correct-horse-9';

let server;
let browser;
const contexts = [];

async function register(page, who) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email', { exact: true }).fill(`${who}@push.test`);
  await page.getByLabel('Username', { exact: true }).fill(who);
  await page.getByLabel('Display name').fill(who.toUpperCase());
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('navigation', { name: 'Rooms and direct messages' }).waitFor({ timeout: T });
}

async function until(f, what, timeoutMs = T) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

describe('web push in the browser', () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    for (const c of contexts) await c.ctx.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  test('sw.js is served from the root, uncached, under the CSP', { timeout: 30_000 }, async () => {
    const res = await fetch(`${server.base}/sw.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await res.text(), /addEventListener\('push'/);
  });

  test('no prompt on load; the control; a pushed message shows and its click opens the room', { timeout: 90_000 }, async () => {
    const c = await newContext(browser, server.base);
    contexts.push(c);
    const page = await c.ctx.newPage();
    await page.goto(server.base);
    await register(page, 'pia');
    const token = await page.evaluate(() => localStorage.getItem('natter.token'));
    const control = page.getByTestId('notifications-control');
    await control.waitFor({ timeout: T });
    assert.equal(await control.getAttribute('data-state'), 'off');
    assert.equal(await page.evaluate(() => Notification.permission), 'default', 'nothing asked on load');
    assert.ok(await control.getByRole('button', { name: 'Enable notifications' }).isVisible());
    assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), 0, 'no worker before the user asks');

    // Two rooms: the push will point at the one not open.
    const { room: general } = await api(server.base, 'POST', '/rooms', { name: 'general' }, token);
    const { room: design } = await api(server.base, 'POST', '/rooms', { name: 'design' }, token);
    await page.reload();
    await page.getByTestId('room-item').filter({ hasText: 'general' }).click();
    await page.getByTestId('room-title').filter({ hasText: 'general' }).waitFor({ timeout: T });

    // The user enables notifications: the browser says yes; the worker is registered.
    await c.ctx.grantPermissions(['notifications'], { origin: server.base });
    await control.getByRole('button', { name: 'Enable notifications' }).click();
    await until(
      () => page.evaluate(async () => (await navigator.serviceWorker.getRegistration('/'))?.active?.state === 'activated'),
      'service worker active',
    );
    // This Chromium has no push service of its own to subscribe with; the state says so.
    const state = await until(async () => {
      const s = await control.getAttribute('data-state');
      const busy = await control.getByRole('button', { name: 'Enabling…' }).count();
      return busy === 0 && s;
    }, 'control settled');
    assert.ok(['on', 'off'].includes(state), state);
    await page.screenshot({ path: path.join(ensureScreenshotDir(), 'notifications-enabled-light-desktop.png') });
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration('/')).scope);
    assert.equal(scope, `${server.base}/`);

    // Deliver a real push event to the worker through the DevTools protocol.
    const { message } = await api(server.base, 'POST', '/messages', { roomId: design.id, content: 'new mockups' }, token);
    const cdp = await c.ctx.newCDPSession(page);
    const registrations = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    const reg = await until(() => registrations.find((r) => r.scopeURL === `${server.base}/` && !r.isDeleted), 'registration id');
    const payload = {
      title: 'PIA in #design',
      body: 'new mockups',
      roomId: design.id,
      messageId: message.id,
      url: `/#/room/${design.id}/message/${message.id}`,
    };
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: server.base,
      registrationId: reg.registrationId,
      data: JSON.stringify(payload),
    });
    const shown = await until(
      () =>
        page.evaluate(async () => {
          const r = await navigator.serviceWorker.getRegistration('/');
          const ns = await r.getNotifications();
          return ns.length ? ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })) : null;
        }),
      'notification shown',
    );
    assert.equal(shown.length, 1);
    assert.equal(shown[0].title, 'PIA in #design');
    assert.equal(shown[0].body, 'new mockups');
    assert.equal(shown[0].tag, `room-${design.id}`);
    assert.equal(shown[0].data.url, `${server.base}/#/room/${design.id}/message/${message.id}`);

    // A foreign url in a payload never leaves the app.
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: server.base,
      registrationId: reg.registrationId,
      data: JSON.stringify({ ...payload, roomId: general.id, url: 'https://evil.example/x' }),
    });
    const foreign = await until(
      () =>
        page.evaluate(async (tag) => {
          const ns = await (await navigator.serviceWorker.getRegistration('/')).getNotifications({ tag });
          return ns[0]?.data?.url ?? null;
        }, `room-${general.id}`),
      'second notification',
    );
    assert.equal(foreign, `${server.base}/`);

    // Click the first notification (in the worker): the open tab moves to that room.
    const [worker] = c.ctx.serviceWorkers().length ? c.ctx.serviceWorkers() : [await c.ctx.waitForEvent('serviceworker')];
    await worker.evaluate(async (tag) => {
      const [n] = await self.registration.getNotifications({ tag });
      self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
    }, `room-${design.id}`);
    await page.getByTestId('room-title').filter({ hasText: 'design' }).waitFor({ timeout: T });
    assert.equal(await page.evaluate(() => window.location.hash), `#/room/${design.id}`);
    const left = await page.evaluate(async (tag) => (await (await navigator.serviceWorker.getRegistration('/')).getNotifications({ tag })).length, `room-${design.id}`);
    assert.equal(left, 0, 'the clicked notification is closed');
    assert.deepEqual(c.problems.pageErrors, []);
    assert.deepEqual(c.problems.outside, []);
  });

  test('Notify me per room; blocked state; unread in the title and favicon', { timeout: 90_000 }, async () => {
    const c = await newContext(browser, server.base);
    contexts.push(c);
    const page = await c.ctx.newPage();
    await page.goto(server.base);
    await register(page, 'quin');
    const token = await page.evaluate(() => localStorage.getItem('natter.token'));
    const { room } = await api(server.base, 'POST', '/rooms', { name: 'ops' }, token);
    const { room: quiet } = await api(server.base, 'POST', '/rooms', { name: 'quiet' }, token);
    await page.reload();
    await page.getByTestId('room-item').filter({ hasText: 'ops' }).click();
    await page.getByTestId('room-title').filter({ hasText: 'ops' }).waitFor({ timeout: T });

    const bell = page.getByRole('button', { name: /^Notify me:/ });
    assert.equal(await bell.getAttribute('aria-label'), 'Notify me: Mentions', 'rooms default to mentions');
    await bell.click();
    const menu = page.getByRole('menu', { name: 'Notify me' });
    await menu.waitFor({ timeout: T });
    assert.equal(await menu.getByRole('menuitemradio', { name: /Mentions/ }).getAttribute('aria-checked'), 'true');
    const shots = ensureScreenshotDir();
    await page.screenshot({ path: path.join(shots, 'notify-menu-light-desktop.png') });
    // keyboard: arrow down from the checked item, Enter picks it
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await until(async () => (await bell.getAttribute('aria-label')) === 'Notify me: Nothing', 'level none');
    const { rooms } = await api(server.base, 'GET', '/rooms', undefined, token);
    assert.equal(rooms.find((r) => r.id === room.id).notifications, 'none', 'stored on the server');
    await bell.click();
    await menu.getByRole('menuitemradio', { name: /All messages/ }).click();
    await until(async () => (await bell.getAttribute('aria-label')) === 'Notify me: All messages', 'level all');
    await bell.click();
    await page.keyboard.press('Escape');
    assert.equal(await menu.count(), 0, 'Escape closes the menu');

    // Someone else writes in the room not shown: title and favicon count it.
    const other = await api(server.base, 'POST', '/auth/register', {
      email: 'rex@push.test', username: 'rex', name: 'Rex', password: PASSWORD,
    });
    await api(server.base, 'POST', `/rooms/${quiet.id}/join`, undefined, other.token);
    await api(server.base, 'POST', '/messages', { roomId: quiet.id, content: 'psst' }, other.token);
    await until(() => page.evaluate(() => document.title.startsWith('(1) ')), 'unread in the title');
    const icon = await page.evaluate(() => document.querySelector('link[rel="icon"]').href);
    assert.ok(icon.startsWith('data:image/svg+xml,'), icon.slice(0, 40));
    assert.ok(decodeURIComponent(icon).includes('>1</text>'), 'the badge shows 1');

    // The tab is hidden, push is off here, permission was given: the page notifies a DM.
    await c.ctx.grantPermissions(['notifications'], { origin: server.base });
    const { user: me } = await api(server.base, 'GET', '/me', undefined, token);
    const { room: dm } = await api(server.base, 'POST', '/dms', { userId: me.id }, other.token);
    await page.reload();
    await page.getByTestId('room-item').filter({ hasText: 'Rex' }).waitFor({ timeout: T });
    await page.evaluate(() => {
      const shown = [];
      window.__shown = shown;
      const Real = window.Notification;
      window.Notification = class extends Real {
        constructor(title, options) {
          shown.push({ title, body: options?.body, tag: options?.tag });
          super(title, options);
        }
      };
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    });
    await api(server.base, 'POST', '/messages', { roomId: dm.id, content: 'are you **there**?' }, other.token);
    const notified = await until(() => page.evaluate(() => (window.__shown.length ? window.__shown : null)), 'page notification');
    assert.deepEqual(notified, [{ title: 'Rex', body: 'are you there?', tag: `room-${dm.id}` }]);

    // Blocked by the browser: the control says so (and offers no button that cannot work).
    const cdp = await c.ctx.newCDPSession(page);
    const { targetInfo } = await cdp.send('Target.getTargetInfo');
    await cdp.send('Browser.setPermission', {
      browserContextId: targetInfo.browserContextId,
      origin: server.base,
      permission: { name: 'notifications' },
      setting: 'denied',
    });
    await page.reload();
    const control = page.getByTestId('notifications-control');
    await until(async () => (await control.getAttribute('data-state')) === 'blocked', 'blocked state');
    assert.equal(await control.getByRole('button', { name: 'Enable notifications' }).count(), 0);
    assert.match(await control.innerText(), /Blocked by the browser/);

    // Dark, phone-sized: the control and the bell still fit.
    const phone = await newContext(browser, server.base, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    contexts.push(phone);
    await phone.ctx.addInitScript((t) => {
      try {
        localStorage.setItem('natter.token', t);
      } catch {
        /* about:blank */
      }
    }, token);
    const p2 = await phone.ctx.newPage();
    await p2.goto(`${server.base}/#/room/${room.id}`);
    await p2.getByTestId('room-title').filter({ hasText: 'ops' }).waitFor({ timeout: T });
    await p2.getByRole('button', { name: /^Notify me:/ }).click();
    await p2.getByRole('menu', { name: 'Notify me' }).waitFor({ timeout: T });
    await p2.screenshot({ path: path.join(shots, 'notify-menu-dark-phone.png') });
    await p2.keyboard.press('Escape');
    await p2.getByRole('button', { name: 'Open sidebar' }).click();
    await p2.getByTestId('notifications-control').waitFor({ timeout: T });
    // the drawer slides in: shoot once it is in place
    await p2.waitForFunction(() => document.querySelector('.sidebar').getBoundingClientRect().left >= 0, null, { timeout: T });
    await p2.waitForTimeout(300);
    await p2.screenshot({ path: path.join(shots, 'notifications-control-dark-phone.png') });
    assert.deepEqual(phone.problems.pageErrors, []);
    assert.deepEqual(c.problems.pageErrors, []);
  });
});
