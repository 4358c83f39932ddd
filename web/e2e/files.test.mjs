// End-to-end: files in the browser against a real `natter serve`: several files at
// once with progress, paste and drop, previews and the lightbox, cancel and retry.
// Run: NATTER_BIN=../target/debug/natter npm run e2e (after `npm run build`).
import assert from 'node:assert/strict';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { api, ensureScreenshotDir, launchBrowser, newContext, startServer } from './harness.mjs';

const T = 15_000;
const PASSWORD = 'correct-horse-9';
const ANA = { email: 'ana@files.test', username: 'ana_files', name: 'Ana Files' };
const LUIS = { email: 'luis@files.test', username: 'luis_files', name: 'Luis Files' };

let server;
let browser;
let A;
let B;
const contexts = [];

/** A real PNG of w × h in one colour, made here (no fixture files). */
function png(w, h, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

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

const roomItem = (page, name) => page.getByTestId('room-item').filter({ hasText: name });
const chips = (page) => page.getByTestId('upload-chip');

async function openRoom(page, name, phone = false) {
  if (phone) await page.getByRole('button', { name: 'Open sidebar' }).first().click();
  await roomItem(page, name).click();
  await page.getByTestId('room-title').filter({ hasText: name }).waitFor({ timeout: T });
}

/** Slows this page's uploads to `kbps` KB/s (Chromium's own network emulation). */
async function throttle(page, kbps) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: kbps > 0 ? kbps * 1024 : -1,
  });
  return cdp;
}

async function imageLoaded(locator) {
  await locator.waitFor({ timeout: T });
  await locator.evaluate(
    (img) => (img.complete && img.naturalWidth > 0) || new Promise((r, j) => ((img.onload = r), (img.onerror = j))),
  );
  return locator.evaluate((img) => img.naturalWidth);
}

/** Messages of the room as the server holds them. */
async function roomMessages(token, roomId) {
  const { messages } = await api(server.base, 'GET', `/messages?roomId=${roomId}`, undefined, token);
  return messages;
}

let anaToken;
let luisToken;
let roomId;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const who of [ANA, LUIS]) await api(server.base, 'POST', '/auth/register', { ...who, password: PASSWORD });
  anaToken = (await api(server.base, 'POST', '/auth/login', { login: ANA.username, password: PASSWORD })).token;
  luisToken = (await api(server.base, 'POST', '/auth/login', { login: LUIS.username, password: PASSWORD })).token;
  roomId = (await api(server.base, 'POST', '/rooms', { name: 'pictures', description: 'files e2e' }, anaToken)).room.id;
  await api(server.base, 'POST', `/rooms/${roomId}/join`, {}, luisToken);
});

after(async () => {
  for (const c of contexts) await c.ctx.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop();
});

describe('Files in the browser', { concurrency: false }, () => {
  test('several files at once: progress while uploading, then a preview and a chip for both users', async () => {
    A = await open();
    B = await open();
    await login(A.page, ANA);
    await login(B.page, LUIS);
    await openRoom(A.page, 'pictures');
    await openRoom(B.page, 'pictures');

    const cdp = await throttle(A.page, 150);
    const photo = png(900, 600, [40, 120, 200]);
    // Noise does not compress: about 1.5 s at 150 KB/s, long enough to watch.
    const bulky = Buffer.from(Array.from({ length: 220_000 }, (_, i) => (i * 7919) % 251));
    await A.page.getByTestId('file-input').setInputFiles([
      { name: 'sky.png', mimeType: 'image/png', buffer: photo },
      { name: 'data.bin', mimeType: 'application/octet-stream', buffer: bulky },
    ]);
    await assert.doesNotReject(chips(A.page).filter({ hasText: 'data.bin' }).waitFor({ timeout: T }));
    const bar = A.page.getByRole('progressbar', { name: 'Uploading data.bin' });
    await bar.waitFor({ timeout: T });
    await A.page.waitForFunction(
      () => {
        const el = document.querySelector('[aria-label="Uploading data.bin"]');
        const v = Number(el?.getAttribute('aria-valuenow'));
        return v > 0 && v < 100;
      },
      undefined,
      { timeout: T },
    );
    const meta = await chips(A.page).filter({ hasText: 'data.bin' }).innerText();
    assert.match(meta, /BIN · 215 KB/);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    for (const page of [A.page, B.page]) {
      const img = page.getByTestId('attachment-image').locator('img');
      assert.ok((await imageLoaded(img)) > 0, 'the thumbnail loads');
      const chip = page.getByTestId('attachment-file').filter({ hasText: 'data.bin' });
      await chip.waitFor({ timeout: T });
      await page.waitForFunction(() => /BIN · 215 KB/.test(document.querySelector('[data-testid=attachment-file]')?.textContent ?? ''), undefined, { timeout: T });
    }
    await chips(A.page).first().waitFor({ state: 'detached', timeout: T });
    const kinds = (await roomMessages(anaToken, roomId)).map((m) => m.type).sort();
    assert.deepEqual(kinds, ['file', 'image']);
  });

  test('the lightbox opens on click, Escape closes it, and focus returns to the image', async () => {
    const page = B.page;
    const opener = page.getByRole('button', { name: 'Open image sky.png' });
    await opener.click();
    const box = page.getByRole('dialog', { name: 'Image: sky.png' });
    await box.waitFor({ timeout: T });
    assert.equal(await imageLoaded(box.locator('img')), 900, 'the full image, not the thumbnail');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Close image');
    await page.keyboard.press('Escape');
    await box.waitFor({ state: 'detached', timeout: T });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Open image sky.png');
    // Keyboard alone: Enter opens it again, the close button closes it.
    await page.keyboard.press('Enter');
    await box.waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Close image' }).click();
    await box.waitFor({ state: 'detached', timeout: T });
  });

  test('an image pasted into the composer and a file dropped on the conversation are sent', async () => {
    const page = A.page;
    const shot = [...png(300, 200, [220, 60, 60])];
    await page.getByTestId('composer-input').focus();
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }));
      const box = document.querySelector('[data-testid=composer-input]');
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, shot);
    await page.getByRole('button', { name: 'Open image screenshot.png' }).waitFor({ timeout: T });
    assert.equal(await page.getByTestId('composer-input').inputValue(), '', 'nothing pasted as text');

    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['meeting notes\n'], 'notes.txt', { type: 'text/plain' }));
      const zone = document.querySelector('[data-testid=drop-zone]');
      for (const type of ['dragenter', 'dragover']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.getByText('Drop files to upload').waitFor({ timeout: T });
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['meeting notes\n'], 'notes.txt', { type: 'text/plain' }));
      const zone = document.querySelector('[data-testid=drop-zone]');
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.getByTestId('attachment-file').filter({ hasText: 'notes.txt' }).waitFor({ timeout: T });
    await page.getByText('Drop files to upload').waitFor({ state: 'detached', timeout: T });
    await B.page.getByTestId('attachment-file').filter({ hasText: 'TXT · 14 B' }).waitFor({ timeout: T });
  });

  test('cancel stops an upload and sends nothing; a failed upload can be retried', async () => {
    const page = A.page;
    const before = (await roomMessages(anaToken, roomId)).length;
    const cdp = await throttle(page, 40);
    const big = Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 31) % 253));
    await page.getByTestId('file-input').setInputFiles([{ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: big }]);
    await page.getByRole('progressbar', { name: 'Uploading huge.bin' }).waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Cancel upload of huge.bin' }).click();
    await chips(page).filter({ hasText: 'huge.bin' }).waitFor({ state: 'detached', timeout: T });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    // The server fails the next upload once (as a full disk would).
    let failures = 1;
    await page.route('**/api/upload', async (route) => {
      if (failures-- > 0) {
        await route.fulfill({
          status: 500,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'internal', message: 'file storage failed (put); retry shortly' } }),
        });
      } else {
        await route.continue();
      }
    });
    await page.getByTestId('file-input').setInputFiles([{ name: 'report.txt', mimeType: 'text/plain', buffer: Buffer.from('quarterly numbers\n') }]);
    const failed = chips(page).filter({ hasText: 'report.txt' });
    await failed.getByText('file storage failed').waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Retry report.txt' }).click();
    await page.getByTestId('attachment-file').filter({ hasText: 'report.txt' }).waitFor({ timeout: T });
    await failed.waitFor({ state: 'detached', timeout: T });
    await page.unroute('**/api/upload');
    const after = await roomMessages(anaToken, roomId);
    assert.equal(after.length, before + 1, 'the cancelled upload sent nothing, the retried one one message');
  });

  test('nothing was fetched from another origin and no page error happened', async () => {
    for (const c of contexts) {
      assert.deepEqual(c.problems.outside, []);
      assert.deepEqual(c.problems.pageErrors, []);
    }
  });

  test('screenshots: attachments, upload tray and lightbox (light/dark, desktop/phone)', async () => {
    const dir = ensureScreenshotDir();
    const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
    for (const scheme of ['light', 'dark']) {
      for (const [label, viewport] of Object.entries(sizes)) {
        const c = await open({ viewport, colorScheme: scheme });
        const p = c.page;
        await login(p, LUIS);
        await openRoom(p, 'pictures', label === 'phone');
        await imageLoaded(p.getByTestId('attachment-image').first().locator('img'));
        await p.waitForTimeout(300);
        await p.screenshot({ path: path.join(dir, `files-${scheme}-${label}.png`) });
        const cdp = await throttle(p, 20);
        await p.getByTestId('file-input').setInputFiles([
          { name: 'holiday-photos.zip', mimeType: 'application/zip', buffer: Buffer.alloc(300_000, 7) },
          { name: 'plan.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(200_000, 3) },
        ]);
        await p.getByRole('progressbar', { name: 'Uploading plan.pdf' }).waitFor({ timeout: T });
        await p.waitForTimeout(600);
        await p.screenshot({ path: path.join(dir, `uploads-${scheme}-${label}.png`) });
        for (const name of ['holiday-photos.zip', 'plan.pdf']) await p.getByRole('button', { name: `Cancel upload of ${name}` }).click();
        await cdp.detach();
        await p.getByRole('button', { name: 'Open image sky.png' }).click();
        await imageLoaded(p.getByRole('dialog', { name: 'Image: sky.png' }).locator('img'));
        await p.screenshot({ path: path.join(dir, `lightbox-${scheme}-${label}.png`) });
        await c.ctx.close();
      }
    }
  });
});
