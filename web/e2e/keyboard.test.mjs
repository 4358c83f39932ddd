// Keyboard only: register, create a room, send, reply, react, edit, open and close
// every dialog and switch rooms without a mouse. Focus is always visible and goes back
// where it came from when a dialog closes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
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

/** What has focus: its accessible name (or text), and whether a focus ring shows. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { name: '', tag: 'body', visible: false };
    // the ring may be drawn by the element or by the box around it (:focus-within)
    const hasRing = (e) => {
      const s = getComputedStyle(e);
      return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
    };
    let ring = false;
    for (let e = el, up = 0; e && up < 4 && !ring; e = e.parentElement, up++) ring = hasRing(e);
    const label = el.labels?.[0]?.textContent?.trim();
    const name = el.getAttribute('aria-label') || label || el.getAttribute('placeholder') || el.textContent?.trim().slice(0, 60) || '';
    return { name, tag: el.tagName.toLowerCase(), visible: !!ring, testid: el.getAttribute('data-testid') };
  });
}

/** Tabs (at most `max` times) until the focused element's name matches. */
async function tabTo(page, match, { back = false, max = 60 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (match.test(f.name)) {
      assert.ok(f.visible, `focus on "${f.name}" (${f.tag}) has no visible focus ring`);
      return f;
    }
  }
  throw new Error(`Tab never reached ${match}; last focus: ${JSON.stringify(await focused(page))}`);
}

async function expectFocus(page, match, what) {
  const f = await focused(page);
  assert.match(f.name, match, `${what}: focus is on ${JSON.stringify(f)}`);
}

/** Like `expectFocus`, for focus an effect moves once something has loaded (the emoji
 * picker's list arrives after its popover): waits up to `T` for it. */
async function expectFocusOnceLoaded(page, match, what) {
  const deadline = Date.now() + T;
  let f = await focused(page);
  while (!match.test(f.name) && Date.now() < deadline) {
    await page.waitForTimeout(50);
    f = await focused(page);
  }
  assert.match(f.name, match, `${what}: focus is on ${JSON.stringify(f)}`);
}

test('a whole session without a mouse', async () => {
  const c = await newContext(browser, server.base);
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  await page.getByLabel('Email or username').waitFor({ timeout: T });
  const kb = page.keyboard;

  // register
  await tabTo(page, /Create an account/);
  await kb.press('Enter');
  await page.getByLabel('Display name').waitFor({ timeout: T });
  const fields = [
    ['Email', 'kbd@e2e.test'],
    ['Username', 'kbd_user'],
    ['Display name', 'Keyboard User'],
    ['Password', 'correct-horse-9'],
  ];
  for (const [label, value] of fields) {
    // each field is reachable with Tab from the one before
    const el = page.getByLabel(label, { exact: true });
    if (!(await el.evaluate((e) => e === document.activeElement))) await kb.press('Tab');
    assert.equal(await el.evaluate((e) => e === document.activeElement), true, `Tab reaches ${label}`);
    await kb.type(value);
  }
  await kb.press('Enter');
  const nav = page.getByRole('navigation', { name: 'Rooms and direct messages' });
  await nav.waitFor({ timeout: T });

  // create two rooms from the sidebar's button; the dialog returns focus to it
  for (const name of ['kbd-one', 'kbd-two']) {
    await tabTo(page, /^Create a room$/);
    await kb.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create a room' });
    await dialog.waitFor({ timeout: T });
    await expectFocus(page, /name/i, 'the dialog focuses its first field');
    await kb.type(name);
    await kb.press('Enter');
    await dialog.waitFor({ state: 'detached', timeout: T });
    await page.getByTestId('room-title').filter({ hasText: name }).waitFor({ timeout: T });
  }

  // send: the composer is a Tab away
  await tabTo(page, /^Message #kbd-two/);
  await kb.type('first by keyboard');
  await kb.press('Enter');
  const msg = (text) => page.getByTestId('message').filter({ hasText: text });
  const stored = (text) => page.locator('[data-testid="message"][data-status="sent"]', { hasText: text });
  await stored('first by keyboard').waitFor({ timeout: T });
  await kb.type('second by keyboard');
  await kb.press('Enter');
  await stored('second by keyboard').waitFor({ timeout: T });

  // reply: Shift+Tab from the composer reaches the newest message, ↑ the one before,
  // Tab its actions
  await tabTo(page, /Keyboard User/, { back: true, max: 5 });
  await kb.press('ArrowUp');
  const first = await focused(page);
  assert.equal(first.testid, 'message');
  assert.ok(first.visible, 'a focused message shows a focus ring');
  await tabTo(page, /^Reply$/, { max: 5 });
  await kb.press('Enter');
  await expectFocus(page, /^Message #kbd-two/, 'reply puts focus in the composer');
  await kb.type('a reply by keyboard');
  await kb.press('Enter');
  await msg('a reply by keyboard').getByTestId('reply-quote').waitFor({ timeout: T });
  // a message's actions appear once it is stored (none while it is sending)
  await stored('a reply by keyboard').waitFor({ timeout: T });

  // react: to the newest message, from its "Add reaction" button
  await tabTo(page, /Keyboard User/, { back: true, max: 5 });
  await tabTo(page, /^Add reaction$/, { max: 3 });
  await kb.press('Enter');
  const picker = page.getByRole('dialog', { name: 'Choose an emoji' });
  await picker.waitFor({ timeout: T });
  await expectFocusOnceLoaded(page, /^React with/, 'the picker takes focus');
  await kb.press('Enter');
  await picker.waitFor({ state: 'detached', timeout: T });
  await msg('a reply by keyboard').getByRole('button', { name: /1/ }).first().waitFor({ timeout: T });
  await expectFocus(page, /^Add reaction$/, 'focus returns to "Add reaction"');

  // edit: ↑ in the empty composer edits my last message; Enter saves
  await tabTo(page, /^Message #kbd-two/);
  await kb.press('ArrowUp');
  await expectFocus(page, /^Edit message$/, 'editing in the composer');
  await kb.press('End');
  await kb.type(' (fixed)');
  await kb.press('Enter');
  await msg('a reply by keyboard (fixed)').getByTestId('message-edited').waitFor({ timeout: T });

  // every dialog opens from the keyboard, closes on Escape, and gives focus back
  for (const [button, dialogName] of [
    ['Browse rooms', 'Browse rooms'],
    ['New direct message', 'New direct message'],
    ['Create a room', 'Create a room'],
    ['Room settings', /Settings/],
    ['Leave room', /Leave/],
  ]) {
    await tabTo(page, new RegExp(`^${button}$`));
    await kb.press('Enter');
    const d = page.getByRole('dialog', { name: dialogName });
    await d.waitFor({ timeout: T });
    const inside = await d.evaluate((el) => el.contains(document.activeElement));
    assert.ok(inside, `${button}: focus moves into the dialog`);
    await kb.press('Escape');
    await d.waitFor({ state: 'detached', timeout: T });
    await expectFocus(page, new RegExp(`^${button}$`), `${button}: focus returns after Escape`);
  }

  // switch rooms with Alt+↑/↓
  await kb.press('Alt+ArrowUp');
  await page.getByTestId('room-title').filter({ hasText: 'kbd-one' }).waitFor({ timeout: T });
  await kb.press('Alt+ArrowDown');
  await page.getByTestId('room-title').filter({ hasText: 'kbd-two' }).waitFor({ timeout: T });
  await c.ctx.close();
});
