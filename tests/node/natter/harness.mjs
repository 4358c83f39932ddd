// Shared helpers of Natter's Socket.IO protocol tests (Node's built-in test runner +
// the real socket.io-client). Every test file starts its own `natter serve` on a fresh
// data directory (SQLite) or a fresh PostgreSQL database (NATTER_TEST_STORE=postgres),
// and everything it starts is stopped and removed again: processes, sockets, temp
// directories, databases. Every wait is bounded.
//
// Environment:
//   NATTER_BIN          path of the `natter` binary (required)
//   NATTER_TEST_STORE   `sqlite` (default) or `postgres`
//   NATTER_TEST_PG      base URL of the PostgreSQL server, default postgres://postgres@127.0.0.1:5432
//   NATTER_TEST_LOGS=1  print the server's log when it stops

import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';

export { sleep };

export const STORE = (process.env.NATTER_TEST_STORE || 'sqlite').toLowerCase();
const PG_BASE = (process.env.NATTER_TEST_PG || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');

/** Default bound of one wait (ack, event) in ms. */
export const WAIT_MS = 10_000;

function natterBin() {
  const bin = process.env.NATTER_BIN;
  if (!bin) {
    throw new Error(
      'NATTER_BIN is not set: point it at the natter binary, e.g. ' +
        'NATTER_BIN=target/debug/natter node --test tests/node/natter/',
    );
  }
  return bin;
}

// ---------------------------------------------------------------------------
// Cleanup of last resort: whatever is still alive when the process exits.
const live = { procs: new Set(), dirs: new Set(), dbs: new Set() };
function cleanupSync() {
  for (const p of live.procs) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const db of live.dbs) dropDatabaseSync(db);
  for (const d of live.dirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanupSync(); process.exit(130); });
}

function psql(sql) {
  const u = new URL(PG_BASE);
  const args = ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'),
    '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql];
  const env = { ...process.env };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return spawnSync('psql', args, { env, encoding: 'utf8', timeout: 30_000 });
}

function createDatabaseSync(name) {
  const r = psql(`CREATE DATABASE ${name}`);
  if (r.status !== 0) throw new Error(`could not create PostgreSQL database ${name}: ${r.stderr || r.error}`);
  live.dbs.add(name);
}

function dropDatabaseSync(name) {
  const r = psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  if (r.status === 0) live.dbs.delete(name);
  else process.stderr.write(`warning: could not drop database ${name}: ${r.stderr}\n`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function rand(n = 8) {
  return randomBytes(n).toString('hex').slice(0, n);
}

// ---------------------------------------------------------------------------
// The server.

/**
 * Starts a Natter server on a fresh store. Returns a `Natter` handle; call `stop()`
 * (in an `after` hook) to kill it and remove its data.
 */
export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'natter-proto-'));
  live.dirs.add(dataDir);
  let dbName = null;
  let databaseUrl;
  if (STORE === 'postgres' || STORE === 'postgresql') {
    dbName = `natter_p_${rand(12)}`;
    createDatabaseSync(dbName);
    databaseUrl = `${PG_BASE}/${dbName}`;
  } else if (STORE === 'sqlite') {
    databaseUrl = `sqlite://${join(dataDir, 'natter.db')}`;
  } else {
    throw new Error(`NATTER_TEST_STORE must be sqlite or postgres, not ${STORE}`);
  }
  const n = new Natter({ dataDir, dbName, databaseUrl, jwtSecret: `test-secret-${rand(40)}` });
  try {
    await n.boot();
  } catch (e) {
    await n.stop();
    throw e;
  }
  return n;
}

export class Natter {
  constructor({ dataDir, dbName, databaseUrl, jwtSecret }) {
    this.dataDir = dataDir;
    this.dbName = dbName;
    this.databaseUrl = databaseUrl;
    this.jwtSecret = jwtSecret;
    this.proc = null;
    this.url = null;
    this.log = '';
    this.sockets = new Set();
  }

  /** Starts the process (again, on the same store) and waits for /healthz = 200. */
  async boot() {
    const bin = natterBin();
    let lastErr;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const env = {
        ...process.env,
        NATTER_DATA_DIR: this.dataDir,
        DATABASE_URL: this.databaseUrl,
        JWT_SECRET: this.jwtSecret,
        NATTER_RATE_LIMITS: 'off',
        RUST_LOG: process.env.RUST_LOG || 'warn',
      };
      for (const k of ['REDIS_URL', 'PORT', 'NATTER_BIND', 'FRONTEND_URL']) delete env[k];
      const proc = spawn(bin, ['serve', '--port', String(port), '--bind', '127.0.0.1'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      live.procs.add(proc);
      this.proc = proc;
      const onData = (d) => {
        this.log += d.toString();
        if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      let exited = null;
      proc.once('exit', (code, sig) => { exited = { code, sig }; live.procs.delete(proc); });
      proc.once('error', (e) => { exited = { code: -1, sig: String(e) }; live.procs.delete(proc); });
      this.url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !exited) {
        try {
          const r = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
          if (r.status === 200) return;
        } catch { /* not up yet */ }
        await sleep(100);
      }
      if (!exited) {
        await this.kill();
        throw new Error(`natter did not answer /healthz = 200 within 60 s. Log:\n${this.log.slice(-4000)}`);
      }
      lastErr = new Error(`natter exited (${exited.code ?? exited.sig}) before it was healthy. Log:\n${this.log.slice(-4000)}`);
      if (!/address.*in use/i.test(this.log)) break; // only a port race is worth a retry
    }
    throw lastErr;
  }

  /** Kills the process (SIGKILL by default: a crash), keeping the store. */
  async kill(signal = 'SIGKILL') {
    for (const s of this.sockets) s.disconnect();
    this.sockets.clear();
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) { live.procs.delete(proc); return; }
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await Promise.race([gone, sleep(10_000)]);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await Promise.race([gone, sleep(5_000)]);
    }
    live.procs.delete(proc);
  }

  /** Crash and start again on the same data directory / database and JWT secret. */
  async restart() {
    await this.kill('SIGKILL');
    await this.boot();
  }

  /** Stops the process and removes its data directory and database. */
  async stop() {
    await this.kill('SIGTERM');
    if (process.env.NATTER_TEST_LOGS === '1') process.stderr.write(`--- natter log ---\n${this.log}\n`);
    if (this.dbName) dropDatabaseSync(this.dbName);
    try { rmSync(this.dataDir, { recursive: true, force: true }); } catch { /* ignore */ }
    live.dirs.delete(this.dataDir);
  }

  // -------------------------------------------------------------------------
  // REST

  /** `{status, body, headers}`; never throws on an HTTP error status. */
  async api(method, path, { token, body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { raw: text }; }
    return { status: r.status, body: json, headers: r.headers };
  }

  /** Like `api` but asserts a 2xx status and returns the body. */
  async ok(method, path, opts) {
    const r = await this.api(method, path, opts);
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body;
  }

  /** Registers a fresh user: `{user, token, username, email, password}`. */
  async register(prefix = 'u') {
    const username = `${prefix}${rand(8)}`.toLowerCase().slice(0, 32);
    const email = `${username}@example.test`;
    const password = `pw-${rand(16)}`;
    const body = await this.ok('POST', '/api/auth/register', {
      body: { email, username, name: `Test ${username}`, password },
    });
    if (!body?.user?.id || !body?.token) throw new Error(`register: unexpected body ${JSON.stringify(body)}`);
    return { user: body.user, token: body.token, id: body.user.id, username, email, password };
  }

  async createRoom(owner, { name, description = '', isPrivate = false } = {}) {
    const body = await this.ok('POST', '/api/rooms', {
      token: owner.token,
      body: { name: name || `room-${rand(6)}`, description, isPrivate },
    });
    return body.room;
  }

  async joinRoom(user, roomId) {
    return this.ok('POST', `/api/rooms/${roomId}/join`, { token: user.token });
  }

  async invite(admin, roomId, userId) {
    return this.ok('POST', `/api/rooms/${roomId}/members`, { token: admin.token, body: { userId } });
  }

  async setRole(admin, roomId, userId, role) {
    return this.ok('PATCH', `/api/rooms/${roomId}/members/${userId}`, { token: admin.token, body: { role } });
  }

  /** `GET /api/rooms` entry of this room for this user (or undefined). */
  async myRoom(user, roomId) {
    const { rooms } = await this.ok('GET', '/api/rooms', { token: user.token });
    return rooms.find((r) => r.id === roomId);
  }

  /** A room's whole history, oldest first, read forwards with `after=` pages. */
  async history(user, roomId, limit = 100) {
    const all = [];
    let after = 0;
    for (let i = 0; i < 1000; i++) {
      const { messages, hasMore } = await this.ok('GET', `/api/messages?roomId=${roomId}&after=${after}&limit=${limit}`, { token: user.token });
      all.push(...messages);
      if (!hasMore || messages.length === 0) return all;
      after = messages[messages.length - 1].seq;
    }
    throw new Error('history: more than 1000 pages');
  }

  // -------------------------------------------------------------------------
  // Socket.IO

  /** Connects a socket (websocket transport) and resolves once connected. */
  async connect(user, opts = {}) {
    const socket = this.socket(user ? { auth: { token: user.token }, ...opts } : opts);
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => { cleanup(); reject(new Error('socket did not connect within 10 s')); }, 10_000);
      const cleanup = () => { clearTimeout(t); socket.off('connect', ok); socket.off('connect_error', bad); };
      const ok = () => { cleanup(); resolve(); };
      const bad = (e) => { cleanup(); reject(new Error(`connect_error: ${e.message}`)); };
      socket.on('connect', ok);
      socket.on('connect_error', bad);
    });
    return socket;
  }

  /** A socket, not awaited; closed by `stop()`. */
  socket(opts = {}) {
    const s = io(this.url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 10_000, ...opts });
    this.sockets.add(s);
    return s;
  }

  /** Resolves with the `connect_error` message (rejects if the socket connects). */
  connectError(opts = {}) {
    const socket = this.socket(opts);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { socket.disconnect(); reject(new Error('no connect_error within 10 s')); }, 10_000);
      socket.on('connect', () => { clearTimeout(t); socket.disconnect(); reject(new Error('the socket connected')); });
      socket.on('connect_error', (e) => { clearTimeout(t); socket.disconnect(); resolve(e); });
    });
  }

  /** A token signed with this server's secret, with the given claims. */
  signToken(claims) {
    return signJwt(claims, this.jwtSecret);
  }
}

// ---------------------------------------------------------------------------
// Socket helpers.

/** Emits with an ack, bounded. Resolves with the ack payload. */
export async function ack(socket, event, payload, timeoutMs = WAIT_MS) {
  try {
    return await socket.timeout(timeoutMs).emitWithAck(event, payload);
  } catch (e) {
    throw new Error(`no ack to ${event} ${JSON.stringify(payload)?.slice(0, 200)} within ${timeoutMs} ms (${e.message})`);
  }
}

/** Emits with an ack and asserts `{ok: true}`. */
export async function ackOk(socket, event, payload, timeoutMs = WAIT_MS) {
  const r = await ack(socket, event, payload, timeoutMs);
  if (!r || r.ok !== true) throw new Error(`${event} ${JSON.stringify(payload)?.slice(0, 200)} → ${JSON.stringify(r)}`);
  return r;
}

/** Resolves with the first `event` payload matching `pred`, rejects after `timeoutMs`. */
export function waitFor(socket, event, pred = () => true, timeoutMs = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const onEvent = (data) => {
      let hit = false;
      try { hit = pred(data); } catch { hit = false; }
      if (hit) { cleanup(); resolve(data); } else seen.push(data);
    };
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching '${event}' within ${timeoutMs} ms; saw ${seen.length}: ${JSON.stringify(seen).slice(0, 500)}`));
    }, timeoutMs);
    const cleanup = () => { clearTimeout(t); socket.off(event, onEvent); };
    socket.on(event, onEvent);
  });
}

/** Records every `event` on the socket into `.items` until `.stop()`. */
export function collect(socket, event) {
  const items = [];
  const on = (data) => items.push(data);
  socket.on(event, on);
  return {
    items,
    stop() { socket.off(event, on); return items; },
    /** Waits (bounded) until `n` items matching `pred` are in. */
    async until(n, pred = () => true, timeoutMs = WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (items.filter(pred).length >= n) return items.filter(pred);
        await sleep(20);
      }
      throw new Error(`'${event}': ${items.filter(pred).length} of ${n} expected within ${timeoutMs} ms`);
    },
  };
}

/** Records every event of any name into `.items` as `[name, data]`. */
export function collectAll(socket) {
  const items = [];
  const on = (name, data) => items.push([name, data]);
  socket.onAny(on);
  return { items, stop() { socket.offAny(on); return items; } };
}

/** Asserts no `event` (matching `pred`) arrives on any of `sockets` within `ms`. */
export async function expectNone(sockets, event, pred = () => true, ms = 700) {
  const list = Array.isArray(sockets) ? sockets : [sockets];
  const got = [];
  const handlers = list.map((s, i) => {
    const h = (d) => { let m = false; try { m = pred(d); } catch { m = false; } if (m) got.push([i, d]); };
    s.on(event, h);
    return [s, h];
  });
  await sleep(ms);
  for (const [s, h] of handlers) s.off(event, h);
  if (got.length) throw new Error(`unexpected '${event}' on socket #${got[0][0]}: ${JSON.stringify(got[0][1]).slice(0, 300)}`);
}

export async function closeSocket(socket) {
  if (!socket.connected) { socket.disconnect(); return; }
  const done = new Promise((r) => socket.once('disconnect', r));
  socket.disconnect();
  await Promise.race([done, sleep(2_000)]);
}

/** An id of the same shape as `like` that no row has. */
export function unknownIdLike(like) {
  const s = String(like);
  if (/^\d+$/.test(s)) return '987654321';
  if (/^[0-9a-f-]{36}$/i.test(s)) return randomUUID();
  return `${s.slice(0, Math.max(1, s.length - 6))}zzzzzz`;
}

// ---------------------------------------------------------------------------
// JWT (HS256), to forge expired or wrongly signed tokens.

const b64url = (buf) => Buffer.from(buf).toString('base64url');
export function signJwt(claims, secret) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
export function jwtClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Options for every test: bounded. */
export const T = { timeout: 60_000 };
