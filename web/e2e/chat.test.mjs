// End-to-end: two people in two browser contexts against a real `natter serve`.
// Run: NATTER_BIN=../target/debug/natter npm run e2e   (after `npm run build` and a server
// build that embedded web/dist).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, ensureScreenshotDir, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const PASSWORD = 'correct-horse-9';
const ANA = { email: 'ana@e2e.test', username: 'ana_e2e', name: 'Ana Souza' };
const LUIS = { email: 'luis@e2e.test', username: 'luis_e2e', name: 'Luis Ortega' };

let server;
let browser;
let A; // { ctx, problems, page }
let B;
const contexts = [];

async function open(opts) {
  const c = await newContext(browser, server.base, opts);
  contexts.push(c);
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  return { ...c, page };
}

async function register(page, who) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Username', { exact: true }).fill(who.username);
  await page.getByLabel('Display name').fill(who.name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('navigation', { name: 'Rooms and direct messages' }).waitFor({ timeout: T });
}

async function login(page, who) {
  await page.getByLabel('Email or username').fill(who.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('main', { name: 'Conversation' }).waitFor({ timeout: T });
}

const nav = (page) => page.getByRole('navigation', { name: 'Rooms and direct messages' });
const roomItem = (page, name) => page.getByTestId('room-item').filter({ hasText: name });
const message = (page, text) => page.getByTestId('message').filter({ hasText: text });

async function send(page, text) {
  const box = page.getByTestId('composer-input');
  await box.fill(text);
  await box.press('Enter');
}

async function createRoom(page, name, description = '') {
  await nav(page).getByRole('button', { name: 'Create a room' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a room' });
  await dialog.getByLabel('Name').fill(name);
  if (description) await dialog.getByLabel(/Description/).fill(description);
  await dialog.getByRole('button', { name: 'Create room' }).click();
  await dialog.waitFor({ state: 'detached', timeout: T });
  await page.getByTestId('room-title').filter({ hasText: name }).waitFor({ timeout: T });
}

async function joinFromBrowser(page, name) {
  await nav(page).getByRole('button', { name: 'Browse rooms' }).click();
  const dialog = page.getByRole('dialog', { name: 'Browse rooms' });
  await dialog.getByLabel('Search public rooms').fill(name);
  await dialog.getByRole('button', { name: `Join ${name}` }).click();
  await dialog.waitFor({ state: 'detached', timeout: T });
  await page.getByTestId('room-title').filter({ hasText: name }).waitFor({ timeout: T });
}

async function loginToken(who) {
  const { token } = await api(server.base, 'POST', '/auth/login', { login: who.username, password: PASSWORD });
  return token;
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.ctx.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop();
});

describe('Natter in the browser', { concurrency: false }, () => {
  test('two people register; the session survives a reload', async () => {
    A = await open();
    B = await open();
    await register(A.page, ANA);
    await register(B.page, LUIS);
    await A.page.reload();
    await A.page.getByRole('navigation', { name: 'Rooms and direct messages' }).waitFor({ timeout: T });
    await A.page.getByText(ANA.name).first().waitFor();
  });

  test('register shows field errors from the server', async () => {
    const c = await open();
    await c.page.getByRole('button', { name: 'Create an account' }).click();
    await c.page.getByLabel('Email', { exact: true }).fill('other@e2e.test');
    await c.page.getByLabel('Username', { exact: true }).fill(ANA.username);
    await c.page.getByLabel('Display name').fill('Someone');
    await c.page.getByLabel('Password').fill(PASSWORD);
    await c.page.getByRole('button', { name: 'Create account' }).click();
    const err = c.page.locator('#auth-username-error');
    await err.waitFor({ timeout: T });
    assert.match(await err.innerText(), /taken/i);
  });

  test('one creates a room, the other joins it from the room browser', async () => {
    await createRoom(A.page, 'lounge', 'Where the e2e people hang out');
    await joinFromBrowser(B.page, 'lounge');
    await roomItem(A.page, 'lounge').waitFor();
    await roomItem(B.page, 'lounge').waitFor();
  });

  test('messages appear live on both sides', async () => {
    await send(A.page, 'Hello from **Ana**');
    await message(B.page, 'Hello from Ana').waitFor({ timeout: T });
    await message(A.page, 'Hello from Ana').and(A.page.locator('[data-status="sent"]')).waitFor({ timeout: T });
    assert.equal(await B.page.getByTestId('message').filter({ hasText: 'Hello from Ana' }).locator('strong').innerText(), 'Ana');
    await send(B.page, 'Hi Ana, Luis here');
    await message(A.page, 'Hi Ana, Luis here').waitFor({ timeout: T });
    assert.equal(await message(A.page, 'Hello from Ana').count(), 1, 'no duplicate of an optimistic message');
  });

  test('presence dot and typing indicator are visible to the other user', async () => {
    const luisMember = A.page.getByTestId('member').filter({ hasText: LUIS.name });
    await luisMember.waitFor({ timeout: T });
    await A.page
      .locator(`[data-testid="member"][data-username="${LUIS.username}"][data-online="true"] [data-testid="presence-dot"]`)
      .waitFor({ timeout: T });
    await B.page.getByTestId('composer-input').pressSequentially('typing something', { delay: 30 });
    await A.page.getByTestId('typing-indicator').filter({ hasText: `${LUIS.name} is typing…` }).waitFor({ timeout: T });
    await B.page.getByTestId('composer-input').fill('');
    await A.page.getByTestId('typing-indicator').filter({ hasText: 'typing' }).waitFor({ state: 'detached', timeout: T });
  });

  test('reply, edit and delete show on both sides', async () => {
    // Luis replies to Ana's message.
    const target = message(B.page, 'Hello from Ana');
    await target.hover();
    await target.getByRole('button', { name: 'Reply' }).click();
    await B.page.getByTestId('composer-reply').waitFor();
    await send(B.page, 'This is my reply');
    for (const p of [A.page, B.page]) {
      await message(p, 'This is my reply').getByTestId('reply-quote').filter({ hasText: ANA.username }).waitFor({ timeout: T });
    }

    // Ana edits her last message with ↑.
    await send(A.page, 'Typo mesage');
    await message(B.page, 'Typo mesage').waitFor({ timeout: T });
    await message(A.page, 'Typo mesage').and(A.page.locator('[data-status="sent"]')).waitFor({ timeout: T });
    const box = A.page.getByTestId('composer-input');
    await box.click();
    await box.press('ArrowUp');
    await A.page.getByTestId('composer-editing').waitFor();
    await box.fill('Fixed message');
    await box.press('Enter');
    for (const p of [A.page, B.page]) {
      await message(p, 'Fixed message').getByTestId('message-edited').waitFor({ timeout: T });
    }

    // Ana deletes it, with confirmation.
    const mine = message(A.page, 'Fixed message');
    await mine.hover();
    await mine.getByRole('button', { name: 'Delete' }).click();
    const confirm = A.page.getByRole('dialog', { name: 'Delete message?' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    for (const p of [A.page, B.page]) {
      await message(p, 'Fixed message').waitFor({ state: 'detached', timeout: T });
      assert.ok((await p.getByTestId('message-deleted').count()) >= 1);
    }
  });

  test('a hostile message renders inert', async () => {
    const evil = 'XSS probe <img src=x onerror=alert(1)> and [x](javascript:alert(1)) end';
    await send(B.page, evil);
    for (const p of [A.page, B.page]) {
      const m = message(p, 'XSS probe');
      await m.waitFor({ timeout: T });
      const text = m.getByTestId('message-text');
      assert.equal(await text.locator('img').count(), 0, 'no img element');
      assert.equal(await p.locator('[data-testid="message-text"] a[href^="javascript:" i]').count(), 0, 'no javascript: link');
      assert.match(await text.innerText(), /<img src=x onerror=alert\(1\)>/);
    }
    await A.page.waitForTimeout(500);
    assert.deepEqual(A.problems.dialogs, []);
    assert.deepEqual(B.problems.dialogs, []);
  });

  test('unread badge appears, then clears when read in another tab', async () => {
    // Ana sits in another room in tab 1.
    await createRoom(A.page, 'quiet');
    await send(B.page, 'Are you there, Ana?');
    const badge = roomItem(A.page, 'lounge').getByTestId('unread-badge');
    await badge.waitFor({ timeout: T });
    assert.equal(await badge.innerText(), '1');
    assert.match(await A.page.title(), /^\(1\)/);

    // Ana reads the room in a second tab of the same session.
    const tab2 = await A.ctx.newPage();
    await tab2.goto(server.base);
    await roomItem(tab2, 'lounge').click();
    await message(tab2, 'Are you there, Ana?').waitFor({ timeout: T });
    await badge.waitFor({ state: 'detached', timeout: T });
    assert.doesNotMatch(await A.page.title(), /^\(\d+\)/);
    await tab2.close();
  });

  test('older history loads on scroll up', async () => {
    const token = await loginToken(LUIS);
    const { room } = await api(server.base, 'POST', '/rooms', { name: 'history', description: 'Long backlog', isPrivate: false }, token);
    for (let i = 1; i <= 120; i++) {
      await api(server.base, 'POST', '/messages', { roomId: room.id, content: `history ${String(i).padStart(3, '0')}` }, token);
    }
    await joinFromBrowser(A.page, 'history');
    await message(A.page, 'history 120').waitFor({ timeout: T });
    assert.equal(await message(A.page, 'history 001').count(), 0, 'oldest not loaded yet');
    const scroller = A.page.locator('[data-testid="message-list"] [data-virtuoso-scroller]');
    for (let i = 0; i < 30 && (await message(A.page, 'history 001').count()) === 0; i++) {
      await scroller.evaluate((el) => {
        el.scrollTop = 0;
      });
      await A.page.waitForTimeout(300);
    }
    await message(A.page, 'history 001').waitFor({ timeout: T });
    await A.page.getByText('This is the start of #history').waitFor({ timeout: T });
    // No duplicates among what is rendered around the top.
    const seqs = await A.page.locator('[data-testid="message"][data-seq]').evaluateAll((els) => els.map((e) => e.dataset.seq));
    assert.equal(new Set(seqs).size, seqs.length);
  });

  test('leaving a room, after confirming, takes it off the sidebar for good', async () => {
    await roomItem(A.page, 'history').click();
    await A.page.getByRole('button', { name: 'Leave room' }).click();
    const confirm = A.page.getByRole('dialog', { name: 'Leave #history?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await roomItem(A.page, 'history').count(), 1, 'cancel keeps the room');
    await A.page.getByRole('button', { name: 'Leave room' }).click();
    await confirm.getByRole('button', { name: 'Leave' }).click();
    await roomItem(A.page, 'history').waitFor({ state: 'detached', timeout: T });
    const { rooms } = await api(server.base, 'GET', '/rooms', undefined, await loginToken(ANA));
    assert.ok(!rooms.some((r) => r.name === 'history'), 'the server agrees: no longer a member');
    await A.page.reload();
    await nav(A.page).waitFor({ timeout: T });
    assert.equal(await roomItem(A.page, 'history').count(), 0, 'still gone after a reload');
  });

  test('nothing was fetched from another origin and no page error happened', async () => {
    for (const c of contexts) {
      assert.deepEqual(c.problems.outside, []);
      assert.deepEqual(c.problems.pageErrors, []);
    }
  });

  test('screenshots of the main screens (light/dark, desktop/phone)', async () => {
    const dir = ensureScreenshotDir();
    const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
    for (const scheme of ['light', 'dark']) {
      for (const [label, viewport] of Object.entries(sizes)) {
        const c = await open({ viewport, colorScheme: scheme });
        const p = c.page;
        await p.getByLabel('Email or username').waitFor();
        await p.screenshot({ path: path.join(dir, `login-${scheme}-${label}.png`) });
        await login(p, ANA);
        if (label === 'phone') await p.getByRole('button', { name: 'Open sidebar' }).first().click();
        await roomItem(p, 'lounge').click();
        await message(p, 'Hi Ana, Luis here').waitFor({ timeout: T });
        await p.waitForTimeout(500);
        await p.screenshot({ path: path.join(dir, `room-${scheme}-${label}.png`) });
        if (label === 'phone') await p.getByRole('button', { name: 'Open sidebar' }).first().click();
        await nav(p).getByRole('button', { name: 'Browse rooms' }).click();
        await p.getByTestId('public-room').first().waitFor({ timeout: T });
        await p.waitForTimeout(400);
        await p.screenshot({ path: path.join(dir, `browser-${scheme}-${label}.png`) });
        await c.ctx.close();
      }
    }
  });
});
