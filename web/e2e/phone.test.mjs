// The phone layout (390×844): the conversation is the main view; the sidebar and the
// member panel are drawers that open on demand and close on selection, on a tap
// outside or on Escape, with focus back where it came from; touch targets ≥ 44 px.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, launchBrowser, newContext, startServer } from './harness.mjs';

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

test('drawers and touch targets on a phone', async () => {
  const reg = (u) => api(server.base, 'POST', '/auth/register', { email: `${u}@p.test`, username: u, name: u, password: PASSWORD });
  const ana = await reg('phone_ana');
  const bob = await reg('phone_bob');
  for (const name of ['phone-one', 'phone-two']) {
    const { room } = await api(server.base, 'POST', '/rooms', { name }, ana.token);
    await api(server.base, 'POST', `/rooms/${room.id}/join`, undefined, bob.token);
    await api(server.base, 'POST', '/messages', { roomId: room.id, content: `hello in ${name}` }, bob.token);
  }
  const c = await newContext(browser, server.base, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  await page.getByLabel('Email or username').fill('phone_ana');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const conversation = page.getByRole('main', { name: 'Conversation' });
  await conversation.waitFor({ timeout: T });
  const nav = page.getByRole('navigation', { name: 'Rooms and direct messages' });

  // the conversation is the main view: the sidebar and the member panel are closed
  assert.equal(await nav.isVisible(), false, 'sidebar hidden at first');
  assert.equal(await page.getByRole('complementary', { name: 'Members' }).count(), 0, 'member panel closed at first');

  // the sidebar opens on demand and closes on selection
  const opener = page.getByRole('button', { name: 'Open sidebar' });
  await opener.click();
  await nav.waitFor({ state: 'visible', timeout: T });
  await nav.getByTestId('room-item').filter({ hasText: 'phone-two' }).click();
  await nav.waitFor({ state: 'hidden', timeout: T });
  await page.getByTestId('room-title').filter({ hasText: 'phone-two' }).waitFor({ timeout: T });

  // … and on Escape, focus back on the button that opened it
  await opener.click();
  await nav.waitFor({ state: 'visible', timeout: T });
  await page.keyboard.press('Escape');
  await nav.waitFor({ state: 'hidden', timeout: T });
  assert.equal(await opener.evaluate((el) => el === document.activeElement), true, 'focus returns to "Open sidebar"');

  // the member panel is a drawer: Escape closes it, focus returns to its toggle
  const toggle = page.getByRole('button', { name: /members?$/ });
  await toggle.click();
  const panel = page.getByRole('complementary', { name: 'Members' });
  await panel.waitFor({ timeout: T });
  assert.equal(await panel.evaluate((el) => el.contains(document.activeElement)), true, 'focus moves into the drawer');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached', timeout: T });
  assert.equal(await toggle.evaluate((el) => el === document.activeElement), true, 'focus returns to the members button');
  // a tap on the dimmed conversation closes it too
  await toggle.click();
  await panel.waitFor({ timeout: T });
  await page.mouse.click(30, 400);
  await panel.waitFor({ state: 'detached', timeout: T });

  // touch targets: every visible button of the header and composer is at least 44×44
  const small = await page.evaluate(() =>
    [...document.querySelectorAll('.room-header button, .composer button')]
      .filter((b) => b.getClientRects().length > 0)
      .map((b) => ({ name: b.getAttribute('aria-label') || b.textContent, r: b.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 44 || r.height < 44)
      .map(({ name, r }) => `${name} ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
  assert.deepEqual(small, [], 'buttons smaller than 44 px');
  // the composer is inside the viewport, above the fold
  const box = await page.getByTestId('composer-input').boundingBox();
  assert.ok(box && box.y + box.height <= 844, 'composer visible');
  await c.ctx.close();
});

// Zoom: a 1280×1024 window at 200 % and 400 % zoom lays out like a 640×512 and a
// 320×256 CSS-pixel viewport (WCAG 1.4.10 Reflow: no scrolling sideways at 320 px).
test('zoomed to 200 % and 400 %: the app reflows without sideways scrolling', async () => {
  const u = 'zoom_zoe';
  const zoe = await api(server.base, 'POST', '/auth/register', { email: `${u}@p.test`, username: u, name: 'Zoe Zoom', password: PASSWORD });
  const { room } = await api(server.base, 'POST', '/rooms', { name: 'zoom-room' }, zoe.token);
  await api(server.base, 'POST', '/messages', { roomId: room.id, content: 'a long line of text that has to wrap when the window is narrow '.repeat(3) }, zoe.token);
  for (const [zoom, viewport] of [
    ['200 %', { width: 640, height: 512 }],
    ['400 %', { width: 320, height: 256 }],
  ]) {
    const c = await newContext(browser, server.base, { viewport });
    const page = await c.ctx.newPage();
    const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.goto(server.base);
    await page.getByLabel('Email or username').waitFor({ timeout: T });
    assert.ok((await sideways()) <= 0, `${zoom}: the sign-in page scrolls sideways`);
    await page.getByLabel('Email or username').fill(u);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('main', { name: 'Conversation' }).waitFor({ timeout: T });
    await page.goto(`${server.base}/#/room/${room.id}`);
    await page.getByTestId('message').first().waitFor({ timeout: T });
    assert.ok((await sideways()) <= 0, `${zoom}: the room scrolls sideways by ${await sideways()} px`);
    const input = page.getByTestId('composer-input');
    await input.scrollIntoViewIfNeeded();
    const box = await input.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width, `${zoom}: the composer fits across`);
    await c.ctx.close();
  }
});
