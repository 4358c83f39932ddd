// Typing indicators and presence (docs/CONTRACT.md §3 typing:*, user:online/offline; issue 5).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ackOk, closeSocket, collect, expectNone, sleep, startServer, waitFor,
} from './harness.mjs';

describe('typing', () => {
  let n;
  let ana; let luis; let outsider; let room;
  let a1; let a2; let l1; let o1;
  before(async () => {
    n = await startServer();
    ana = await n.register('ana');
    luis = await n.register('luis');
    outsider = await n.register('out');
    room = await n.createRoom(ana, { name: 'typing' });
    await n.joinRoom(luis, room.id);
    [a1, a2, l1, o1] = await Promise.all([n.connect(ana), n.connect(ana), n.connect(luis), n.connect(outsider)]);
  });
  after(async () => { await n?.stop(); });

  test('typing:start and typing:stop go to the other members only, not to the sender\'s sockets', T, async () => {
    const notSelf = expectNone([a1, a2, o1], 'typing:start', () => true, 1_000);
    const got = waitFor(l1, 'typing:start', (x) => x.roomId === room.id && x.userId === ana.id);
    await ackOk(a1, 'typing:start', { roomId: room.id });
    const t = await got;
    assert.equal(t.username, ana.username);
    await notSelf;

    const notSelfStop = expectNone([a1, a2, o1], 'typing:stop', () => true, 1_000);
    const stop = waitFor(l1, 'typing:stop', (x) => x.roomId === room.id && x.userId === ana.id);
    await ackOk(a1, 'typing:stop', { roomId: room.id });
    await stop;
    await notSelfStop;
    // An explicit stop cancels the expiry: no second stop later.
    await expectNone(l1, 'typing:stop', (x) => x.userId === ana.id, 1_000);
  });

  test('a message sent by either door ends its sender\'s typing: socket message:send and POST /api/messages', T, async () => {
    for (const send of [
      () => ackOk(a1, 'message:send', { roomId: room.id, content: 'by socket' }),
      () => n.ok('POST', '/api/messages', { token: ana.token, body: { roomId: room.id, content: 'by REST' } }),
    ]) {
      const started = waitFor(l1, 'typing:start', (x) => x.roomId === room.id && x.userId === ana.id);
      await ackOk(a1, 'typing:start', { roomId: room.id });
      await started;
      const stop = waitFor(l1, 'typing:stop', (x) => x.roomId === room.id && x.userId === ana.id, 3_000);
      await send();
      await stop;
    }
  });

  test('typing:start with no stop expires after ~6 s', { timeout: 30_000 }, async () => {
    const stops = collect(l1, 'typing:stop');
    const started = Date.now();
    const got = waitFor(l1, 'typing:start', (x) => x.userId === ana.id && x.roomId === room.id);
    await ackOk(a2, 'typing:start', { roomId: room.id });
    await got;
    const expired = await waitFor(l1, 'typing:stop', (x) => x.roomId === room.id && x.userId === ana.id, 9_500);
    const after = Date.now() - started;
    stops.stop();
    assert.equal(expired.userId, ana.id);
    assert.ok(after >= 4_000, `expired after ${after} ms: not before the 6 s window`);
    assert.equal(stops.items.length, 1);
  });

  test('repeated typing:start keeps it alive (expiry counts from the last start)', { timeout: 30_000 }, async () => {
    const stops = collect(l1, 'typing:stop');
    await ackOk(a1, 'typing:start', { roomId: room.id });
    await sleep(4_000);
    await ackOk(a1, 'typing:start', { roomId: room.id });
    await sleep(4_000); // 8 s after the first start, 4 s after the last
    assert.equal(stops.items.filter((x) => x.userId === ana.id).length, 0, 'still typing 4 s after the last start');
    await waitFor(l1, 'typing:stop', (x) => x.userId === ana.id, 6_000);
    stops.stop();
  });
});

describe('presence', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('two tabs: online once, offline (with lastSeen) only after the last closes; only to users sharing a room', { timeout: 60_000 }, async () => {
    const ana = await n.register('ana');
    const luis = await n.register('luis');
    const stranger = await n.register('str');
    const room = await n.createRoom(luis, { name: 'presence' });
    await n.joinRoom(ana, room.id);
    const l1 = await n.connect(luis);
    const s1 = await n.connect(stranger);
    const onlines = collect(l1, 'user:online');
    const offlines = collect(l1, 'user:offline');
    const strangerSaw = collect(s1, 'user:online');
    const strangerSawOff = collect(s1, 'user:offline');

    const a1 = await n.connect(ana);
    const on = await onlines.until(1, (x) => x.userId === ana.id);
    assert.equal(on[0].username, ana.username);
    const a2 = await n.connect(ana);
    await sleep(1_000);
    assert.equal(onlines.items.filter((x) => x.userId === ana.id).length, 1, 'user:online once for two tabs');

    const members = async () => (await n.ok('GET', `/api/rooms/${room.id}/members`, { token: luis.token }))
      .members.find((m) => m.user.id === ana.id);
    assert.equal((await members()).online, true);

    await closeSocket(a1);
    await sleep(1_500);
    assert.equal(offlines.items.filter((x) => x.userId === ana.id).length, 0, 'still online with one tab open');
    assert.equal((await members()).online, true, 'member list: still online');

    const before = Date.now();
    await closeSocket(a2);
    const off = (await offlines.until(1, (x) => x.userId === ana.id, 10_000))[0];
    assert.equal(off.username, ana.username);
    assert.ok(off.lastSeen, 'user:offline carries lastSeen');
    const ls = Date.parse(off.lastSeen);
    assert.ok(Number.isFinite(ls), `lastSeen is a time: ${off.lastSeen}`);
    assert.ok(ls >= before - 60_000 && ls <= Date.now() + 60_000, 'lastSeen is about now');
    const m = await members();
    assert.equal(m.online, false);
    assert.ok(m.lastSeen);

    await sleep(500);
    assert.equal(strangerSaw.items.filter((x) => x.userId === ana.id).length, 0, 'no user:online to a stranger');
    assert.equal(strangerSawOff.items.filter((x) => x.userId === ana.id).length, 0, 'no user:offline to a stranger');
    assert.equal(offlines.items.filter((x) => x.userId === ana.id).length, 1, 'user:offline once');

    // Back online: a new user:online.
    const again = onlines.until(2, (x) => x.userId === ana.id, 5_000);
    const a3 = await n.connect(ana);
    await again;

    // A tab that dies without a goodbye (TCP connection dropped) counts as closed.
    const ws = a3.io.engine.transport.ws;
    assert.ok(ws && typeof ws.terminate === 'function', 'websocket transport in Node');
    ws.terminate();
    await offlines.until(2, (x) => x.userId === ana.id, 15_000);
    assert.equal((await members()).online, false);
  });
});
