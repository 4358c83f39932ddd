// "Jump to first unread": opening a room with more unread messages than fit on the
// screen lands on the newest and offers a way up to the first unread one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import path from 'node:path';
import { api, ensureScreenshotDir, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const PASSWORD = 'correct-horse-9';
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
});

test('a room with unread messages above the screen offers "Jump to first unread"', async () => {
  const reg = (u) => api(server.base, 'POST', '/auth/register', { email: `${u}@u.test`, username: u, name: u, password: PASSWORD });
  const ana = await reg('unread_ana');
  const bobToken = (await reg('unread_bob')).token;
  const { room } = await api(server.base, 'POST', '/rooms', { name: 'unread-room' }, ana.token);
  const { room: quiet } = await api(server.base, 'POST', '/rooms', { name: 'quiet-room' }, ana.token);
  await api(server.base, 'POST', `/rooms/${room.id}/join`, undefined, bobToken);
  await api(server.base, 'POST', `/rooms/${quiet.id}/join`, undefined, bobToken);
  // after Bob joined, so they are unread for him: 30 in one room, 2 in the other
  for (let i = 1; i <= 30; i++) await api(server.base, 'POST', '/messages', { roomId: room.id, content: `unread number ${i}` }, ana.token);
  for (let i = 1; i <= 2; i++) await api(server.base, 'POST', '/messages', { roomId: quiet.id, content: `quiet number ${i}` }, ana.token);

  const c = await newContext(browser, server.base, { viewport: { width: 1280, height: 800 } });
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  await page.getByLabel('Email or username').fill('unread_bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('main', { name: 'Conversation' }).waitFor({ timeout: T });
  const jump = page.getByRole('button', { name: 'Jump to first unread' });

  // two unread fit on the screen: nothing to jump to
  await page.getByTestId('room-item').filter({ hasText: 'quiet-room' }).click();
  await page.getByTestId('message').filter({ hasText: 'quiet number 2' }).waitFor({ timeout: T });
  await page.waitForTimeout(300); // let the list settle at the bottom
  assert.equal(await jump.count(), 0, 'no jump button when the first unread is on screen');

  // thirty do not: the list opens at the newest, the first unread is above
  await page.getByTestId('room-item').filter({ hasText: 'unread-room' }).click();
  await page.getByTestId('message').filter({ hasText: 'unread number 30' }).waitFor({ timeout: T });
  await jump.waitFor({ timeout: T });
  await page.screenshot({ path: path.join(ensureScreenshotDir(), 'jump-to-unread-light-desktop.png') });
  // whether the first unread message is inside the list's visible area
  const firstInView = () =>
    page.evaluate(() => {
      const el = [...document.querySelectorAll('[data-testid="message"]')].find((m) => /unread number 1(?!\d)/.test(m.textContent ?? ''));
      const list = document.querySelector('[data-testid="message-list"]');
      if (!el || !list) return false;
      const r = el.getBoundingClientRect();
      const l = list.getBoundingClientRect();
      return r.top >= l.top && r.bottom <= l.bottom;
    });
  assert.equal(await firstInView(), false, 'the first unread starts off screen');
  await jump.click();
  // the room reopens at the first unread, highlighted
  await page.locator('.msg-highlight', { hasText: /unread number 1(?!\d)/ }).waitFor({ timeout: T });
  for (let i = 0; i < 50 && !(await firstInView()); i++) await page.waitForTimeout(100);
  assert.equal(await firstInView(), true, 'the first unread is on screen after the jump');
  await jump.waitFor({ state: 'detached', timeout: T });
  await c.ctx.close();
});
