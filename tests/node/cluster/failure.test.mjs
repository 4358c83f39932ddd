// Failure test of a 3-node Natter cluster (issue 6; docs/CONTRACT.md §7): 60+ real
// socket.io-client clients spread over 3 nodes in several rooms, senders sending
// steadily with clientIds, while the test
//   1. kill -9s one node (its clients reconnect to the others),
//   2. restarts Redis,
//   3. restarts PostgreSQL (sends fail with a clear error, and are retried with the
//      same clientId).
// At the end every client's view of every room equals the database's: every
// acknowledged message exactly once, in seq order, none lost; cross-node live
// delivery resumed after the Redis restart without restarting any node; the dead
// node's users went offline within 30 s.
//
// Everything runs on loopback and is started and stopped by the test: its own
// PostgreSQL (initdb into a temp dir, own port, run as user `postgres`), its own
// redis-server (own port), three `natter serve` processes.
//
// Environment: NATTER_BIN (required), NATTER_PG_BIN (default
// /usr/lib/postgresql/15/bin), NATTER_TEST_LOGS=1 to print the nodes' logs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';

const BIN = process.env.NATTER_BIN;
const PG_BIN = process.env.NATTER_PG_BIN || '/usr/lib/postgresql/15/bin';
const LOGS = process.env.NATTER_TEST_LOGS === '1';
const USERS = 22; // 3 clients each: 66 clients
const ROOMS = 4;
const SENDERS = 10;
const SEND_EVERY_MS = 250;

// ----------------------------------------------------------------------------
// processes

const procs = new Set();
const dirs = new Set();
function cleanupSync() {
  for (const p of procs) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
  if (pg) pgCtl('stop', '-m', 'immediate');
  for (const d of dirs) { try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ } }
}
process.on('exit', cleanupSync);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout || r.error}`);
  return r.stdout;
}

/** Runs a PostgreSQL binary as user postgres (postgres refuses to run as root). */
function asPostgres(bin, args) {
  const quoted = [join(PG_BIN, bin), ...args].map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');
  const isRoot = process.getuid?.() === 0;
  return isRoot ? run('runuser', ['-u', 'postgres', '--', 'sh', '-c', quoted]) : run('sh', ['-c', quoted]);
}

let pg = null; // { dir, port }
function pgCtl(...args) {
  try {
    asPostgres('pg_ctl', ['-D', join(pg.dir, 'data'), '-w', '-t', '30', ...args,
      ...(args[0] === 'start' ? ['-l', join(pg.dir, 'log'), '-o', `-p ${pg.port} -k ${pg.dir} -c listen_addresses=127.0.0.1 -c fsync=off`] : [])]);
    return true;
  } catch (e) {
    if (args[0] === 'start') throw e;
    return false;
  }
}

async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'natter-pg-'));
  dirs.add(dir);
  const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (process.getuid?.() === 0) {
    if (pw.status !== 0) throw new Error('user postgres is needed to run PostgreSQL as root');
    chownSync(dir, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  pg = { dir, port: await freePort() };
  asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  pgCtl('start');
  run('psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres', '-q', '-c', 'CREATE DATABASE natter']);
  return `postgres://postgres@127.0.0.1:${pg.port}/natter`;
}

class Redis {
  constructor(port, dir) { this.port = port; this.dir = dir; }
  async start() {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' });
    procs.add(this.proc);
    await waitFor(async () => tcpOpen(this.port), 10_000, 'redis-server to listen');
  }
  async kill() {
    const p = this.proc;
    procs.delete(p);
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true)); // in use: someone listens
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

async function waitFor(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

class Node {
  constructor(i, port, env) { this.i = i; this.port = port; this.env = env; this.url = `http://127.0.0.1:${port}`; this.log = ''; }
  async start() {
    this.proc = spawn(BIN, ['serve', '--port', String(this.port), '--bind', '127.0.0.1'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(this.proc);
    for (const s of [this.proc.stdout, this.proc.stderr]) s.on('data', (d) => { this.log += d; });
    this.proc.on('exit', (code, sig) => { this.exit = { code, sig }; });
    await waitFor(async () => (await fetch(`${this.url}/readyz`)).status === 200, 60_000, `node ${this.i} to be ready`);
  }
  kill9() { procs.delete(this.proc); this.proc.kill('SIGKILL'); this.dead = true; }
  async stop() {
    if (!this.proc || this.dead) return;
    procs.delete(this.proc);
    const exited = new Promise((r) => (this.exit ? r() : this.proc.once('exit', r)));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    this.proc.kill('SIGKILL');
    if (LOGS) process.stderr.write(`--- node ${this.i} log ---\n${this.log}\n`);
  }
}

// ----------------------------------------------------------------------------
// REST

async function api(base, method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return json;
}

/** Every message of a room from the database, through GET /api/messages pages. */
async function dbMessages(base, token, roomId) {
  const all = [];
  let after = 0;
  for (;;) {
    const page = await api(base, 'GET', `/api/messages?roomId=${roomId}&after=${after}&limit=100`, token);
    all.push(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
    after = page.messages[page.messages.length - 1].seq;
  }
}

// ----------------------------------------------------------------------------
// a client: one socket at a time, on one node; moves to another node when its
// node goes away; calls `sync` after every (re)connect and on every seq gap.

const stats = { liveDelivered: 0, recoveredBySync: 0, duplicatesIgnored: 0, reconnects: 0, syncs: 0 };
/** Protocol violations seen by clients (asserted empty at the end, with context). */
const violations = [];

class Client {
  constructor(name, user, rooms, nodes, home) {
    Object.assign(this, { name, user, nodes, nodeIndex: home });
    this.rooms = new Map(rooms.map((id) => [id, { lastSeq: 0, messages: [] }]));
    this.crossNodeLive = []; // [receivedAt, msg] of live deliveries
    this.closed = false;
  }

  get node() { return this.nodes[this.nodeIndex]; }

  connect() {
    return new Promise((resolve) => {
      const tryOnce = () => {
        if (this.closed) return resolve();
        const node = this.node;
        if (node.dead) { this.nodeIndex = (this.nodeIndex + 1) % this.nodes.length; setTimeout(tryOnce, 50); return; }
        const s = io(node.url, { auth: { token: this.user.token }, transports: ['websocket'], reconnection: false, timeout: 3_000, forceNew: true });
        this.socket = s;
        s.on('connect', () => { this.connectedTo = this.nodeIndex; this.sync(); resolve(); });
        s.on('connect_error', () => { s.close(); setTimeout(tryOnce, 200); });
        s.on('disconnect', (reason) => {
          if (this.closed || reason === 'io client disconnect') return;
          stats.reconnects += 1;
          // our node may be gone: try the next one (a load balancer would)
          this.nodeIndex = (this.nodeIndex + 1) % this.nodes.length;
          setTimeout(() => this.connect(), 100);
        });
        s.on('message:new', (m) => this.onLive(m));
        s.on('user:offline', (p) => this.onOffline?.(p));
      };
      tryOnce();
    });
  }

  onLive(m) {
    const r = this.rooms.get(m.roomId);
    if (!r) return;
    if (m.eventSeq <= r.lastSeq) { stats.duplicatesIgnored += 1; return; }
    if (m.eventSeq !== r.lastSeq + 1 || this.syncing) { this.sync(); return; }
    r.lastSeq = m.eventSeq;
    r.messages.push({ id: m.id, seq: m.seq, clientId: m.clientId });
    stats.liveDelivered += 1;
    this.crossNodeLive.push({ at: Date.now(), clientId: m.clientId, node: this.connectedTo });
  }

  async sync() {
    if (this.syncing) { this.syncAgain = true; return; }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        const rooms = Object.fromEntries([...this.rooms].map(([id, r]) => [id, r.lastSeq]));
        let res;
        try {
          res = await this.socket.timeout(5_000).emitWithAck('sync', { rooms });
        } catch { this.syncAgain = !this.closed && this.socket.connected; if (this.syncAgain) await sleep(300); continue; }
        if (!res?.ok) { this.syncAgain = true; await sleep(500); continue; }
        stats.syncs += 1;
        if (res.reset?.length) violations.push(`${this.name}: sync reset ${JSON.stringify(res.reset)}`);
        for (const e of res.events) {
          const r = this.rooms.get(e.roomId);
          if (!r || e.event !== 'message:new' || e.eventSeq <= r.lastSeq) continue;
          if (e.eventSeq !== r.lastSeq + 1) {
            violations.push(`${this.name}: sync gave eventSeq ${e.eventSeq} after ${r.lastSeq} in room ${e.roomId}`);
            this.syncAgain = true;
            break;
          }
          r.lastSeq = e.eventSeq;
          r.messages.push({ id: e.data.id, seq: e.data.seq, clientId: e.data.clientId });
          stats.recoveredBySync += 1;
        }
      } while (this.syncAgain && !this.closed);
    } finally { this.syncing = false; }
  }

  close() { this.closed = true; this.socket?.close(); }
}

// ----------------------------------------------------------------------------

const sendStats = { sent: 0, acked: 0, failedAttempts: 0, failureCodes: new Map(), failureMessages: new Set(), retried: 0 };
const acked = new Map(); // clientId → { id, seq, roomId, node, at }

/** Sends one message, retrying with the same clientId until it is acknowledged. */
async function sendUntilAcked(client, roomId, content, deadline) {
  const clientId = randomUUID();
  sendStats.sent += 1;
  let attempt = 0;
  while (Date.now() < deadline) {
    attempt += 1;
    if (attempt > 1) sendStats.retried += 1;
    const s = client.socket;
    if (!s?.connected) { await sleep(100); continue; }
    try {
      const res = await s.timeout(4_000).emitWithAck('message:send', { roomId, content, clientId });
      if (res?.ok) {
        sendStats.acked += 1;
        acked.set(clientId, { id: res.message.id, seq: res.message.seq, roomId, node: client.connectedTo, at: Date.now() });
        return;
      }
      sendStats.failedAttempts += 1;
      const code = res?.error?.code ?? 'none';
      sendStats.failureCodes.set(code, (sendStats.failureCodes.get(code) ?? 0) + 1);
      assert.ok(res?.error?.message, 'a failed send says why');
      sendStats.failureMessages.add(res.error.message);
    } catch {
      sendStats.failedAttempts += 1; // timeout or disconnected: unknown outcome, retry
    }
    await sleep(250);
  }
  throw new Error(`message ${clientId} never acknowledged`);
}

let nodes = [];
let redis;
let clients = [];

before(async () => {
  assert.ok(BIN, 'NATTER_BIN must point at the natter binary');
  const databaseUrl = await startPostgres();
  const rdir = mkdtempSync(join(tmpdir(), 'natter-redis-'));
  dirs.add(rdir);
  redis = new Redis(await freePort(), rdir);
  await redis.start();
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    JWT_SECRET: `cluster-test-secret-${randomUUID()}`,
    // cluster mode needs one Web Push key for every node (issue 11)
    NATTER_VAPID_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }).d,
    NATTER_VAPID_SUBJECT: 'mailto:cluster-test@example.com',
    NATTER_RATE_LIMITS: 'off',
    RUST_LOG: process.env.RUST_LOG || 'info,tower_http=warn',
  };
  for (let i = 0; i < 3; i += 1) {
    const dir = mkdtempSync(join(tmpdir(), `natter-node${i}-`));
    dirs.add(dir);
    const n = new Node(i, await freePort(), { ...env, NATTER_DATA_DIR: dir });
    await n.start(); // one after the other: the first one migrates
    nodes.push(n);
  }
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all(nodes.map((n) => n.stop()));
  if (redis?.proc) await redis.kill();
  cleanupSync();
});

test('3 nodes survive losing a node, Redis and PostgreSQL; every view equals the database', { timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const log = (s) => process.stdout.write(`# [${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
  const tag = randomUUID().slice(0, 6);

  // users (registered on all three nodes) and rooms
  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => api(nodes[i % 3].url, 'POST', '/api/auth/register',
    null, { email: `u${i}-${tag}@example.com`, username: `u${i}_${tag}`, name: `User ${i}`, password: 'correct horse battery' })
    .then((r) => ({ id: r.user.id, token: r.token }))));
  const owner = users[0];
  const rooms = [];
  for (let r = 0; r < ROOMS; r += 1) {
    rooms.push((await api(nodes[r % 3].url, 'POST', '/api/rooms', owner.token, { name: `room-${r}-${tag}`, description: '', isPrivate: false })).room.id);
  }
  const roomsOf = (i) => (i === 0 ? rooms : [rooms[i % ROOMS], rooms[(i + 1) % ROOMS]]);
  await Promise.all(users.map(async (u, i) => {
    for (const r of roomsOf(i)) if (i !== 0) await api(nodes[(i + r.length) % 3].url, 'POST', `/api/rooms/${r}/join`, u.token);
  }));
  // a user only on node 2, with no reconnection: offline once node 2 dies
  const solo = await api(nodes[2].url, 'POST', '/api/auth/register', null,
    { email: `solo-${tag}@example.com`, username: `solo_${tag}`, name: 'Solo', password: 'correct horse battery' });
  await api(nodes[2].url, 'POST', `/api/rooms/${rooms[0]}/join`, solo.token);
  log(`${USERS + 1} users, ${ROOMS} rooms`);

  // 3 clients per user, one on each node
  clients = users.flatMap((u, i) => [0, 1, 2].map((k) => new Client(`u${i}c${k}`, u, roomsOf(i), nodes, (i + k) % 3)));
  await Promise.all(clients.map((c) => c.connect()));
  const soloSocket = io(nodes[2].url, { auth: { token: solo.token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise((r, j) => { soloSocket.on('connect', r); soloSocket.on('connect_error', j); });
  let soloOfflineAt = null;
  clients[0].onOffline = (p) => { if (p.userId === solo.user.id && !soloOfflineAt) soloOfflineAt = Date.now(); };
  log(`${clients.length + 1} clients connected: ${[0, 1, 2].map((n) => clients.filter((c) => c.connectedTo === n).length).join('/')} per node`);

  // senders: steady traffic until `stopAt`
  let stopping = false;
  const senders = clients.filter((_, i) => i % 3 === 0).slice(0, SENDERS);
  const inflight = new Set();
  const senderLoops = senders.map(async (c, k) => {
    let n = 0;
    while (!stopping) {
      const rs = [...c.rooms.keys()];
      const p = sendUntilAcked(c, rs[n % rs.length], `${c.name} #${n}`, Date.now() + 60_000);
      inflight.add(p);
      p.finally(() => inflight.delete(p));
      await p;
      n += 1;
      await sleep(SEND_EVERY_MS + (k % 3) * 20);
    }
  });

  const readyz = async (node) => (await fetch(`${node.url}/readyz`).catch(() => ({ status: 0 }))).status;

  // 1. kill -9 one node
  await sleep(6_000);
  const killedAt = Date.now();
  nodes[2].kill9();
  log(`killed node 2 (kill -9); acked so far ${sendStats.acked}`);
  await waitFor(async () => clients.every((c) => c.socket?.connected && c.connectedTo !== 2), 20_000, 'clients of node 2 to move');
  log(`its clients reconnected: ${[0, 1].map((n) => clients.filter((c) => c.connectedTo === n).length).join('/')} on nodes 0/1`);

  // the dead node's users go offline within 30 s (a survivor sees its heartbeat expire)
  await waitFor(async () => soloOfflineAt !== null, Math.max(0, killedAt + 30_000 - Date.now()), "the dead node's user to go offline");
  log(`the dead node's user went offline after ${((soloOfflineAt - killedAt) / 1000).toFixed(1)}s`);

  // 2. restart Redis
  await sleep(2_000);
  await redis.kill();
  await sleep(300);
  const redisDownReady = await readyz(nodes[0]);
  await sleep(1_200);
  await redis.start();
  const redisBackAt = Date.now();
  log(`restarted Redis (readyz while down: ${redisDownReady})`);
  assert.equal(redisDownReady, 503, '/readyz fails while Redis is down');
  await waitFor(async () => (await readyz(nodes[0])) === 200 && (await readyz(nodes[1])) === 200, 20_000, 'nodes ready again after Redis');
  await sleep(6_000);

  // 3. restart PostgreSQL
  const failedBefore = sendStats.failedAttempts;
  pgCtl('stop', '-m', 'immediate');
  log('stopped PostgreSQL');
  await sleep(1_500);
  const pgDownReady = await readyz(nodes[1]);
  await sleep(1_500);
  pgCtl('start');
  log(`restarted PostgreSQL (readyz while down: ${pgDownReady}; sends failed meanwhile: ${sendStats.failedAttempts - failedBefore})`);
  assert.equal(pgDownReady, 503, '/readyz fails while PostgreSQL is down');
  assert.ok(
    [...sendStats.failureMessages].some((m) => m.includes('database is unreachable')),
    `sends fail with a clear error while PostgreSQL is down (got: ${JSON.stringify([...sendStats.failureMessages])})`,
  );
  await waitFor(async () => (await readyz(nodes[0])) === 200 && (await readyz(nodes[1])) === 200, 30_000, 'nodes ready again after PostgreSQL');
  await sleep(6_000);

  // stop sending; every message in flight ends acknowledged
  stopping = true;
  await Promise.all(senderLoops);
  await Promise.all([...inflight]);
  log(`senders stopped: sent ${sendStats.sent}, acked ${sendStats.acked}`);
  assert.equal(sendStats.acked, sendStats.sent, 'every send was eventually acknowledged');

  // one last live message per room: any client that missed the tail sees the gap and syncs
  const closers = rooms.map((r) => clients.find((c) => c.rooms.has(r) && c.socket?.connected));
  await Promise.all(rooms.map((r, i) => sendUntilAcked(closers[i], r, `closing ${r}`, Date.now() + 20_000)));

  // every client converges on the database's state
  const db = new Map();
  for (const r of rooms) db.set(r, await dbMessages(nodes[0].url, owner.token, r));
  await waitFor(async () => clients.every((c) => [...c.rooms].every(([id, r]) => r.lastSeq === db.get(id).at(-1).seq)),
    30_000, 'every client to reach the last seq of each room');

  let lost = 0;
  for (const [roomId, msgs] of db) {
    const seqs = msgs.map((m) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: msgs.length }, (_, i) => i + 1), `room ${roomId}: seqs 1..n, in order, no gap`);
    const ids = new Set(msgs.map((m) => m.id));
    assert.equal(ids.size, msgs.length, `room ${roomId}: no duplicate message`);
    const cids = msgs.map((m) => m.clientId).filter(Boolean);
    assert.equal(new Set(cids).size, cids.length, `room ${roomId}: one message per clientId (retries stored once)`);
    const want = msgs.map((m) => `${m.seq}:${m.id}`);
    for (const c of clients.filter((x) => x.rooms.has(roomId))) {
      const got = c.rooms.get(roomId).messages.map((m) => `${m.seq}:${m.id}`);
      assert.deepEqual(got, want, `${c.name}'s view of room ${roomId} equals the database`);
    }
  }
  for (const [cid, a] of acked) {
    const hits = db.get(a.roomId).filter((m) => m.clientId === cid);
    if (hits.length !== 1 || hits[0].id !== a.id) lost += 1;
  }

  // cross-node live delivery after the Redis restart, with no node restarted
  const crossAfterRedis = clients.flatMap((c) => c.crossNodeLive)
    .filter((d) => d.at > redisBackAt + 2_000 && acked.has(d.clientId) && acked.get(d.clientId).node !== d.node).length;
  const offlineAfter = soloOfflineAt ? (soloOfflineAt - killedAt) / 1000 : null;
  const codes = Object.fromEntries(sendStats.failureCodes);
  log(`sent ${sendStats.sent}, acked ${sendStats.acked}, delivered live ${stats.liveDelivered}, recovered by sync ${stats.recoveredBySync}, lost ${lost}`);
  log(`retried sends ${sendStats.retried} (failed attempts ${sendStats.failedAttempts}, error codes ${JSON.stringify(codes)}), duplicates ignored ${stats.duplicatesIgnored}, reconnects ${stats.reconnects}, syncs ${stats.syncs}`);
  log(`cross-node live deliveries after the Redis restart: ${crossAfterRedis}; dead node's user offline after ${offlineAfter}s`);
  assert.deepEqual(violations, [], 'sync answers were contiguous and never reset');
  assert.equal(lost, 0, 'no acknowledged message lost');
  assert.ok(crossAfterRedis > 0, 'live delivery across nodes resumed after the Redis restart');
  assert.ok(offlineAfter !== null && offlineAfter <= 30, `the dead node's user went offline within 30 s (${offlineAfter})`);
  assert.equal(nodes[0].exit, undefined, 'node 0 never restarted');
  assert.equal(nodes[1].exit, undefined, 'node 1 never restarted');
  soloSocket.close();
});
