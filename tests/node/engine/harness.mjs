// Starts the realtime engine's `conformance` binary on a free port for a test file.
//
//   NATTER_CONFORMANCE_BIN  path of the binary; default
//                           $CARGO_TARGET_DIR/debug/conformance (or <repo>/target/debug/conformance)
//   NATTER_TEST_LOGS=1      print the server's output when it stops

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function conformanceBin() {
  if (process.env.NATTER_CONFORMANCE_BIN) return process.env.NATTER_CONFORMANCE_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repo, 'target');
  return join(target, 'debug', 'conformance');
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Spawns the conformance server; resolves once it listens. */
export async function startServer(env = {}) {
  const port = await freePort();
  const child = spawn(conformanceBin(), [], {
    env: {
      ...process.env,
      PORT: String(port),
      PING_INTERVAL_MS: '2000',
      PING_TIMEOUT_MS: '2000',
      CONNECT_TIMEOUT_MS: '5000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`conformance did not start:\n${log}`)), 10000);
    child.on('exit', (code) => fail(new Error(`conformance exited (${code}):\n${log}`)));
    child.stdout.on('data', () => {
      if (log.includes('listening')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.on('error', fail);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((ok) => child.on('exit', ok));
        child.kill('SIGTERM');
        await gone;
      }
      if (process.env.NATTER_TEST_LOGS === '1') console.log(log);
    },
  };
}

export function once(emitter, event, timeoutMs = 5000) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`timed out waiting for '${event}'`)), timeoutMs);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      ok(args);
    });
  });
}

/** Connects to `/interop` (or `nsp`) and waits for `connect`. */
export async function connect(url, opts = {}, nsp = '/interop') {
  const socket = io(url + nsp, {
    forceNew: true,
    reconnection: false,
    auth: { token: 'secret', name: 'tester' },
    ...opts,
  });
  await new Promise((ok, fail) => {
    socket.once('connect', ok);
    socket.once('connect_error', fail);
  });
  return socket;
}

export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, fail) => (t = setTimeout(() => fail(new Error(`timed out: ${what}`)), ms))),
  ]);
}
