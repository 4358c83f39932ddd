// End-to-end: one's own presence in the member panel is right from the first
// render after signing in, and the panel follows other people going on and off line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const PASSWORD = 'correct-horse-9';

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.ctx.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop();
});

async function signIn(username) {
  const c = await newContext(browser, server.base);
  contexts.push(c);
  const page = await c.ctx.newPage();
  await page.goto(server.base);
  await page.getByLabel('Email or username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Rooms and direct messages' }).waitFor({ timeout: T });
  return { ...c, page };
}

const memberRow = (page, username) => page.locator(`[data-testid="member"][data-username="${username}"]`);

test('the viewer is listed online right after signing in; others follow user:online/offline', async () => {
  const reg = (u) => api(server.base, 'POST', '/auth/register', { email: `${u}@e2e.test`, username: u, name: u, password: PASSWORD });
  const { token } = await reg('pres_ana');
  await reg('pres_bob');
  const { room } = await api(server.base, 'POST', '/rooms', { name: 'presence-room' }, token);
  const bob = await api(server.base, 'POST', '/auth/login', { login: 'pres_bob', password: PASSWORD });
  await api(server.base, 'POST', `/rooms/${room.id}/join`, undefined, bob.token);

  const A = await signIn('pres_ana');
  await A.page.getByTestId('room-item').filter({ hasText: 'presence-room' }).click();
  const me = memberRow(A.page, 'pres_ana');
  await me.waitFor({ timeout: T });
  await A.page.locator('[data-testid="member"][data-username="pres_ana"][data-online="true"]').waitFor({ timeout: T });
  assert.match(await A.page.locator('.members-scroll').innerText(), /Online — 1/i);

  // bob comes online in another browser: the panel moves him, then back when he leaves
  const B = await signIn('pres_bob');
  await A.page.locator('[data-testid="member"][data-username="pres_bob"][data-online="true"]').waitFor({ timeout: T });
  assert.match(await A.page.locator('.members-scroll').innerText(), /Online — 2/i);
  await B.ctx.close();
  await A.page.locator('[data-testid="member"][data-username="pres_bob"][data-online="false"]').waitFor({ timeout: T });
  assert.equal(await me.getAttribute('data-online'), 'true');
});
