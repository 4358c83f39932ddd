// E2E harness: starts a real `natter serve` on a temp SQLite database and a free port,
// and launches Debian's Chromium through playwright-core (never downloads a browser).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

const here = path.dirname(fileURLToPath(import.meta.url));
// Each run saves fresh screenshots here (ignored by git); the chosen ones are
// copied by hand into docs/screenshots/ for the README.
export const SCREENSHOT_DIR = process.env.NATTER_SCREENSHOT_DIR ?? path.resolve(here, '../e2e-output/screenshots');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base, child, logs, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`natter exited early with code ${child.exitCode}:\n${logs.join('')}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`natter did not become healthy within ${timeoutMs} ms:\n${logs.join('')}`);
}

/** Starts the server. NATTER_BIN must name the built `natter` binary. */
export async function startServer() {
  const bin = process.env.NATTER_BIN;
  if (!bin) {
    throw new Error('NATTER_BIN is not set: point it at the built natter binary (e.g. target/debug/natter).');
  }
  if (!existsSync(bin)) throw new Error(`NATTER_BIN=${bin} does not exist; build the server first.`);
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (tests never download a browser).`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'natter-e2e-'));
  const port = await freePort();
  const logs = [];
  const child = spawn(bin, ['serve', '--port', String(port)], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/natter.db`,
      NATTER_DATA_DIR: dir,
      // The server wants at least 16 characters.
      JWT_SECRET: 'test-secret-e2e-0123456789',
      NATTER_RATE_LIMITS: 'off',
      PORT: String(port),
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d) => {
    logs.push(d.toString());
    if (logs.length > 400) logs.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, child, logs);
  return {
    base,
    logs,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A browser context that fails the test on any request leaving our origin, and records
 * page errors and dialogs (an `alert` from a message would be a script injection).
 */
export async function newContext(browser, base, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  const problems = { outside: [], pageErrors: [], dialogs: [] };
  const origin = new URL(base).origin;
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    problems.outside.push(url);
    return route.abort();
  });
  ctx.on('page', (page) => watch(page, problems));
  return { ctx, problems };
}

function watch(page, problems) {
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('dialog', (d) => {
    problems.dialogs.push(d.message());
    void d.dismiss();
  });
}

/** REST call from the test itself (seeding), with a Bearer token. */
export async function api(base, method, pathName, body, token) {
  const res = await fetch(`${base}/api${pathName}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(`${method} ${pathName} → ${res.status} ${text}`);
  return data;
}

export function ensureScreenshotDir() {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return SCREENSHOT_DIR;
}
