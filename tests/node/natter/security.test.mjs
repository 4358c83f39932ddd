// Issue 14 (hardening) with the real socket.io-client: revoked sessions lose
// their sockets, sockets close at token expiry, cookie handshakes from other
// origins are refused, and `sync` does not bring back deleted or pre-edit text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ackOk, closeSocket, jwtClaims, startServer,
} from './harness.mjs';

/** Resolves when the socket is disconnected (bounded). */
function disconnected(socket, ms = 5_000) {
  if (!socket.connected) return Promise.resolve('already');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socket still connected after ${ms} ms`)), ms);
    socket.once('disconnect', (reason) => { clearTimeout(t); resolve(reason); });
  });
}

async function login(n, u) {
  const r = await n.api('POST', '/api/auth/login', { body: { login: u.username, password: u.password } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('natter_session='));
  return { token: r.body.token, cookie: cookie.split(';')[0] };
}

describe('sessions and sockets', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('logout disconnects that session\'s sockets and its token stops working', T, async () => {
    const u = await n.register('out');
    const other = await login(n, u);
    const s = await n.connect(u);
    const s2 = await n.connect(u, { transports: ['polling'] });
    const keep = await n.connect(null, { auth: { token: other.token } });
    const gone = Promise.all([disconnected(s), disconnected(s2)]);
    assert.equal((await n.api('POST', '/api/auth/logout', { token: u.token })).status, 204);
    const reasons = await gone;
    assert.deepEqual(reasons, ['io server disconnect', 'io server disconnect']);
    assert.ok(keep.connected, 'the other session keeps its socket');
    assert.equal((await n.connectError({ auth: { token: u.token } })).message, 'Invalid token');
    assert.equal((await n.api('GET', '/api/me', { token: u.token })).status, 401);
    await ackOk(keep, 'sync', { rooms: {} });
    await closeSocket(keep);
  });

  test('a password change disconnects the other sessions only', T, async () => {
    const u = await n.register('pw');
    const other = await login(n, u);
    const mine = await n.connect(u);
    const theirs = await n.connect(null, { auth: { token: other.token } });
    const gone = disconnected(theirs);
    const r = await n.api('POST', '/api/auth/password', {
      token: u.token, body: { current: u.password, new: 'a-new-password-1' },
    });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.equal(await gone, 'io server disconnect');
    assert.ok(mine.connected);
    await ackOk(mine, 'sync', { rooms: {} });
    assert.equal((await n.connectError({ auth: { token: other.token } })).message, 'Invalid token');
    await closeSocket(mine);
  });

  test('sign out everywhere disconnects every socket of the user', T, async () => {
    const u = await n.register('all');
    const other = await login(n, u);
    const a = await n.connect(u);
    const b = await n.connect(null, { auth: { token: other.token } });
    const bystander = await n.connect(await n.register('by'));
    const gone = Promise.all([disconnected(a), disconnected(b)]);
    assert.equal((await n.api('POST', '/api/auth/logout-all', { token: other.token })).status, 204);
    await gone;
    assert.ok(bystander.connected);
    await closeSocket(bystander);
  });

  test('a socket is closed when its token expires', T, async () => {
    const u = await n.register('exp');
    const claims = jwtClaims(u.token);
    const now = Math.floor(Date.now() / 1000);
    // the same session, a token that ends in 2 s
    const short = n.signToken({ ...claims, iat: now, exp: now + 2 });
    const s = await n.connect(null, { auth: { token: short } });
    assert.equal(await disconnected(s, 10_000), 'io server disconnect');
    assert.equal((await n.connectError({ auth: { token: short } })).message, 'Invalid token');
  });

  test('a token of a session that never existed is refused', T, async () => {
    const u = await n.register('sid');
    const claims = jwtClaims(u.token);
    const forged = n.signToken({ ...claims, sid: 'not-a-session' });
    assert.equal((await n.connectError({ auth: { token: forged } })).message, 'Invalid token');
    const { sid: _, ...noSid } = claims;
    assert.equal((await n.connectError({ auth: { token: n.signToken(noSid) } })).message, 'Invalid token');
  });
});

describe('cross-site handshakes', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('a cookie handshake needs our own origin; a token does not', T, async () => {
    const u = await n.register('xs');
    const { cookie } = await login(n, u);
    for (const transports of [['websocket'], ['polling']]) {
      for (const origin of ['http://evil.example', 'http://127.0.0.1:1', 'null']) {
        const e = await n.connectError({ transports, extraHeaders: { cookie, origin } });
        assert.equal(e.message, 'cross-site request refused', `${transports} ${origin}`);
      }
      const e = await n.connectError({ transports, extraHeaders: { cookie, 'sec-fetch-site': 'same-site' } });
      assert.equal(e.message, 'cross-site request refused');
      const ok = await n.connect(null, { transports, extraHeaders: { cookie, origin: n.url } });
      assert.ok(ok.connected);
      await closeSocket(ok);
      // Bearer-style clients: Origin does not matter
      const tok = await n.connect(u, { transports, extraHeaders: { origin: 'http://evil.example' } });
      await ackOk(tok, 'sync', { rooms: {} });
      await closeSocket(tok);
    }
  });
});

describe('sync after deletes and edits', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('old text and deleted text do not come back', T, async () => {
    const ana = await n.register('ana');
    const mod = await n.register('mod');
    const room = await n.createRoom(ana);
    await n.joinRoom(mod, room.id);
    await n.setRole(ana, room.id, mod.id, 'moderator');
    const s = await n.connect(ana);
    const secret = (await ackOk(s, 'message:send', { roomId: room.id, content: 'my password is hunter2' })).message;
    const reply = (await ackOk(s, 'message:send', { roomId: room.id, content: 'oops', replyToId: secret.id })).message;
    assert.equal(reply.replyTo.content, 'my password is hunter2');
    const typo = (await ackOk(s, 'message:send', { roomId: room.id, content: 'the old wording' })).message;
    await ackOk(s, 'message:edit', { messageId: typo.id, content: 'the new wording' });
    const m = await n.connect(mod);
    await ackOk(m, 'message:delete', { messageId: secret.id });

    const { events, reset } = await ackOk(s, 'sync', { rooms: { [room.id]: 0 } });
    assert.deepEqual(reset, []);
    assert.deepEqual(events.map((e) => [e.eventSeq, e.event]), [
      [1, 'message:new'], [2, 'message:new'], [3, 'message:new'], [4, 'message:updated'], [5, 'message:deleted'],
    ]);
    const text = JSON.stringify(events);
    assert.ok(!text.includes('hunter2'), text);
    assert.ok(!text.includes('old wording'), text);
    assert.equal(events[0].data.content, '');
    assert.ok(events[0].data.deletedAt);
    assert.equal(events[1].data.replyTo.content, '');
    assert.equal(events[2].data.content, 'the new wording');
    // history says the same
    const hist = await n.history(ana, room.id);
    assert.ok(!JSON.stringify(hist).includes('hunter2'));
    await closeSocket(s);
    await closeSocket(m);
  });
});
