// End-to-end: the account menu (issue 14). Change the password in one tab and
// the other device is signed out; "Sign out everywhere" signs out every device.
// Keyboard-usable menu; screenshots in light/dark, desktop/phone.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureScreenshotDir, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const WHO = { email: 'acct@e2e.test', username: 'acct_e2e', name: 'Ada Account' };
const FIRST = 'first-password-1';
const SECOND = 'second-password-2';

let server;
let browser;
const contexts = [];

async function open(opts) {
  const c = await newContext(browser, server.base, opts);
  contexts.push(c);
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  return { ...c, page };
}

const nav = (page) => page.getByRole('navigation', { name: 'Rooms and direct messages' });
const signInButton = (page) => page.getByRole('button', { name: 'Sign in' });

async function login(page, password) {
  await page.getByLabel('Email or username').fill(WHO.username);
  await page.getByLabel('Password').fill(password);
  await signInButton(page).click();
  await page.getByRole('main', { name: 'Conversation' }).waitFor({ timeout: T });
}

async function menuItem(page, name) {
  await nav(page).getByRole('button', { name: 'Account' }).click();
  await page.getByRole('menu', { name: 'Account' }).getByRole('menuitem', { name }).click();
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

describe('account menu', { concurrency: false }, () => {
  let A;
  let B;

  test('the menu works with the keyboard', async () => {
    A = await open();
    const p = A.page;
    await p.getByRole('button', { name: 'Create an account' }).click();
    await p.getByLabel('Email', { exact: true }).fill(WHO.email);
    await p.getByLabel('Username', { exact: true }).fill(WHO.username);
    await p.getByLabel('Display name').fill(WHO.name);
    await p.getByLabel('Password').fill(FIRST);
    await p.getByRole('button', { name: 'Create account' }).click();
    await nav(p).waitFor({ timeout: T });

    const button = nav(p).getByRole('button', { name: 'Account' });
    await button.focus();
    await p.keyboard.press('Enter');
    const menu = p.getByRole('menu', { name: 'Account' });
    await menu.waitFor({ timeout: T });
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    const focused = () => p.evaluate(() => document.activeElement?.textContent?.trim());
    assert.equal(await focused(), 'Change password…');
    await p.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Sign out');
    await p.keyboard.press('End');
    assert.equal(await focused(), 'Sign out everywhere');
    await p.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Change password…', 'wraps around');
    await p.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached', timeout: T });
    assert.equal(await p.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Account');
  });

  test('changing the password signs out the other device, not this one', async () => {
    B = await open();
    await login(B.page, FIRST);
    const p = A.page;
    await menuItem(p, 'Change password…');
    const dialog = p.getByRole('dialog', { name: 'Change password' });
    await dialog.getByLabel('Current password').fill('not-my-password');
    await dialog.getByLabel('New password', { exact: true }).fill(SECOND);
    await dialog.getByLabel('Repeat the new password').fill(SECOND);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByText('The current password is wrong.').waitFor({ timeout: T });
    await dialog.getByLabel('Current password').fill(FIRST);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    const done = p.getByRole('dialog', { name: 'Password changed' });
    await done.getByRole('status').waitFor({ timeout: T });
    await p.screenshot({ path: path.join(ensureScreenshotDir(), 'password-changed-light-desktop.png') });
    await done.getByRole('button', { name: 'Done' }).click();
    // the other device lands on the sign-in page by itself
    await signInButton(B.page).waitFor({ timeout: T });
    // this one stays signed in, also after a reload
    await p.reload();
    await nav(p).waitFor({ timeout: T });
  });

  test('sign out everywhere signs out every device', async () => {
    await login(B.page, SECOND);
    await menuItem(A.page, 'Sign out everywhere');
    await signInButton(A.page).waitFor({ timeout: T });
    await signInButton(B.page).waitFor({ timeout: T });
    await B.page.reload();
    await signInButton(B.page).waitFor({ timeout: T });
  });

  test('screenshots of the open menu (light/dark, desktop/phone)', async () => {
    const dir = ensureScreenshotDir();
    const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
    for (const scheme of ['light', 'dark']) {
      for (const [label, viewport] of Object.entries(sizes)) {
        const c = await open({ viewport, colorScheme: scheme });
        const p = c.page;
        await login(p, SECOND);
        // on a phone the sidebar is a drawer: open it to find the menu
        const drawer = async () => {
          if (label === 'phone') await p.getByRole('button', { name: 'Open sidebar' }).first().click();
        };
        await drawer();
        await nav(p).getByRole('button', { name: 'Account' }).click();
        await p.getByRole('menu', { name: 'Account' }).waitFor({ timeout: T });
        await p.waitForTimeout(300);
        await p.screenshot({ path: path.join(dir, `account-menu-${scheme}-${label}.png`) });
        await p.keyboard.press('Escape');
        await menuItem(p, 'Change password…');
        await p.getByRole('dialog', { name: 'Change password' }).getByLabel('Current password').fill('typed');
        await p.waitForTimeout(300); // the dialog fades in
        await p.getByRole('dialog', { name: 'Change password' }).waitFor({ timeout: T });
        await p.screenshot({ path: path.join(dir, `change-password-${scheme}-${label}.png`) });
        await c.ctx.close();
      }
    }
  });

  test('nothing was fetched from another origin and no page error happened', async () => {
    for (const c of contexts) {
      assert.deepEqual(c.problems.outside, []);
      assert.deepEqual(c.problems.pageErrors, []);
    }
  });
});
