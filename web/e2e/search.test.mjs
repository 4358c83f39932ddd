// End-to-end: message search in the browser (issue 10) against a real `natter serve`:
// shortcut, scope, filter chips, highlighted snippets, keyboard, "no results" help,
// and a jump to a result with history loadable on both sides.
// Run: NATTER_BIN=../target/debug/natter npm run e2e   (after `npm run build`).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, ensureScreenshotDir, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const PASSWORD = 'correct-horse-9';
const ANA = { email: 'ana@search.test', username: 'ana_s', name: 'Ana Souza' };
const LUIS = { email: 'luis@search.test', username: 'luis_s', name: 'Luis Ortega' };

let server;
let browser;
const contexts = [];
let ana;
let luis;
let lounge;
let random;

async function open(opts) {
  const c = await newContext(browser, server.base, opts);
  contexts.push(c);
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  return { ...c, page };
}

async function login(page, who) {
  await page.getByLabel('Email or username').fill(who.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('main', { name: 'Conversation' }).waitFor({ timeout: T });
}

const message = (page, text) => page.getByTestId('message').filter({ hasText: text });
const results = (page) => page.getByTestId('search-result');

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const reg = async (who) => api(server.base, 'POST', '/auth/register', { ...who, password: PASSWORD });
  ana = await reg(ANA);
  luis = await reg(LUIS);
  lounge = (await api(server.base, 'POST', '/rooms', { name: 'lounge', isPrivate: false }, ana.token)).room;
  random = (await api(server.base, 'POST', '/rooms', { name: 'random', isPrivate: false }, ana.token)).room;
  await api(server.base, 'POST', `/rooms/${lounge.id}/join`, {}, luis.token);
  const say = (who, room, content) => api(server.base, 'POST', '/messages', { roomId: room.id, content }, who.token);
  for (let i = 1; i <= 120; i++) {
    if (i === 40) await say(ana, lounge, 'The Café deployment is at PLT-3699, see you there');
    else if (i === 80) await say(luis, lounge, 'Docs: https://github.com/natter/natter/issues/42');
    else await say(i % 2 ? ana : luis, lounge, `filler message ${i}`);
  }
  await say(ana, random, 'A random cafe note, 明日の会議は東京で行います');
});

after(async () => {
  for (const c of contexts) await c.ctx.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop();
});

describe('search in the browser', { concurrency: false }, () => {
  let A;

  test('Ctrl+K focuses the search; results show highlighted words as written', async () => {
    A = await open();
    await login(A.page, ANA);
    await A.page.goto(`${server.base}/#/room/${lounge.id}`);
    await A.page.reload();
    await message(A.page, 'filler message 120').waitFor({ timeout: T });
    await A.page.keyboard.press('Control+k');
    const input = A.page.getByTestId('search-input');
    assert.equal(await input.evaluate((el) => el === document.activeElement), true);
    await input.fill('cafe');
    await results(A.page).nth(1).waitFor({ timeout: T });
    assert.equal(await results(A.page).count(), 2);
    const marks = await A.page.locator('.search-results mark').allInnerTexts();
    assert.deepEqual(marks.sort(), ['Café', 'cafe']);
    assert.match(await A.page.getByTestId('search-scope').innerText(), /All rooms/);
    // No markup from a message ever reaches the page as HTML: pieces are text.
    assert.equal(await A.page.locator('.search-snippet script, .search-snippet a').count(), 0);
  });

  test('scope: this room / all rooms, visible', async () => {
    await A.page.getByRole('button', { name: 'This room' }).click();
    await A.page.getByTestId('search-scope').filter({ hasText: 'This room' }).waitFor();
    await A.page.waitForFunction(() => document.querySelectorAll('[data-testid="search-result"]').length === 1, null, { timeout: T });
    assert.match(await results(A.page).first().innerText(), /deployment/);
    await A.page.getByRole('button', { name: 'All rooms' }).click();
    await A.page.waitForFunction(() => document.querySelectorAll('[data-testid="search-result"]').length === 2, null, { timeout: T });
  });

  test('filters are chips: From and Has write the operators, and can be removed', async () => {
    const input = A.page.getByTestId('search-input');
    await input.fill('github');
    await results(A.page).filter({ hasText: 'github' }).waitFor({ timeout: T });
    await A.page.getByRole('button', { name: 'From ▾' }).click();
    await A.page.getByRole('menuitem', { name: /Ana Souza/ }).click();
    assert.equal(await input.inputValue(), 'github from:@ana_s ');
    await A.page.getByTestId('search-empty').waitFor({ timeout: T });
    assert.match(await A.page.getByTestId('search-empty').innerText(), /No messages match/);
    await A.page.getByRole('button', { name: 'Remove filter from:@ana_s' }).click();
    await results(A.page).first().waitFor({ timeout: T });
    await A.page.getByRole('button', { name: 'Has ▾' }).click();
    await A.page.getByRole('menuitem', { name: 'A link' }).click();
    assert.equal(await input.inputValue(), 'github has:link ');
    await A.page.waitForFunction(() => document.querySelectorAll('[data-testid="search-result"]').length === 1, null, { timeout: T });
    // CJK inside a sentence.
    await input.fill('東京');
    await A.page.locator('.search-results mark', { hasText: '東京' }).waitFor({ timeout: T });
  });

  test('keyboard: arrows and Enter open a result at its message, highlighted, history both ways', async () => {
    const input = A.page.getByTestId('search-input');
    await input.fill('deploy');
    await results(A.page).filter({ hasText: 'deployment' }).waitFor({ timeout: T });
    await A.page.waitForFunction(() => document.querySelectorAll('[data-testid="search-result"]').length === 1, null, { timeout: T });
    await input.press('ArrowDown');
    await input.press('Enter');
    const hit = message(A.page, 'The Café deployment').and(A.page.locator('.msg-highlight'));
    await hit.waitFor({ timeout: T });
    await message(A.page, 'filler message 39').waitFor({ timeout: T });
    await message(A.page, 'filler message 41').waitFor({ timeout: T });
    assert.equal(await message(A.page, 'filler message 120').count(), 0, 'opened at the result, not the newest');
    await A.page.waitForTimeout(300);
    const dir = ensureScreenshotDir();
    await A.page.screenshot({ path: path.join(dir, 'search-jump-light-desktop.png') });
    // Newer history loads by scrolling down, older by scrolling up.
    const scroller = A.page.locator('[data-testid="message-list"] [data-virtuoso-scroller="true"]');
    for (let i = 0; i < 40 && (await message(A.page, 'filler message 95').count()) === 0; i++) {
      await scroller.evaluate((el) => el.scrollBy(0, 2000));
      await A.page.waitForTimeout(150);
    }
    await message(A.page, 'filler message 95').waitFor({ timeout: T });
    const second = A.page.getByText('filler message 2', { exact: true });
    for (let i = 0; i < 60 && (await second.count()) === 0; i++) {
      await scroller.evaluate((el) => el.scrollTo(0, 0));
      await A.page.waitForTimeout(150);
    }
    await second.waitFor({ timeout: T });
    // "Jump to newest" leaves the result.
    await A.page.getByRole('button', { name: /Jump to newest|New messages/ }).click();
    await message(A.page, 'filler message 120').waitFor({ timeout: T });
  });

  test('/ focuses the search outside a text field; Escape closes it', async () => {
    await A.page.locator('.room-title').click();
    await A.page.keyboard.press('/');
    const input = A.page.getByTestId('search-input');
    assert.equal(await input.evaluate((el) => el === document.activeElement), true);
    await A.page.getByRole('region', { name: 'Search' }).waitFor();
    await input.press('Escape');
    await A.page.getByRole('region', { name: 'Search' }).waitFor({ state: 'detached' });
    for (const c of contexts) {
      assert.deepEqual(c.problems.outside, []);
      assert.deepEqual(c.problems.pageErrors, []);
    }
  });

  test('screenshots of search (light/dark, desktop/phone)', async () => {
    const dir = ensureScreenshotDir();
    const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
    for (const scheme of ['light', 'dark']) {
      for (const [label, viewport] of Object.entries(sizes)) {
        const c = await open({ viewport, colorScheme: scheme });
        const p = c.page;
        await login(p, ANA);
        await p.goto(`${server.base}/#/room/${lounge.id}`);
        await p.reload();
        await message(p, 'filler message 120').waitFor({ timeout: T });
        const input = p.getByTestId('search-input');
        await input.click();
        await input.fill('cafe');
        await results(p).nth(1).waitFor({ timeout: T });
        await p.waitForTimeout(300);
        await p.screenshot({ path: path.join(dir, `search-${scheme}-${label}.png`) });
        await c.ctx.close();
      }
    }
  });
});
