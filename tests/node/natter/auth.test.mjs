// Socket.IO handshake authentication (docs/CONTRACT.md §1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { T, ackOk, closeSocket, jwtClaims, signJwt, startServer } from './harness.mjs';

describe('socket authentication', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('no token: connect_error "Authentication required"', T, async () => {
    const e = await n.connectError({});
    assert.equal(e.message, 'Authentication required');
    const e2 = await n.connectError({ auth: {} });
    assert.equal(e2.message, 'Authentication required');
  });

  test('garbage token: connect_error "Invalid token"', T, async () => {
    const e = await n.connectError({ auth: { token: 'not-a-jwt' } });
    assert.equal(e.message, 'Invalid token');
  });

  test('token signed with another secret: "Invalid token"', T, async () => {
    const u = await n.register('auth');
    const claims = jwtClaims(u.token);
    const forged = signJwt(claims, 'some-other-secret-that-is-long-enough-1234');
    const e = await n.connectError({ auth: { token: forged } });
    assert.equal(e.message, 'Invalid token');
  });

  test('expired token (right secret): "Invalid token"', T, async () => {
    const u = await n.register('auth');
    const claims = jwtClaims(u.token);
    assert.ok(claims.exp, 'the token carries exp');
    assert.ok('userId' in claims && 'username' in claims, `claims userId and username: ${JSON.stringify(claims)}`);
    const now = Math.floor(Date.now() / 1000);
    const expired = n.signToken({ ...claims, iat: now - 7200, exp: now - 3600 });
    const e = await n.connectError({ auth: { token: expired } });
    assert.equal(e.message, 'Invalid token');
    // Same claims, not expired, same secret: accepted (so the failure above is the expiry).
    const fresh = n.signToken({ ...claims, iat: now, exp: now + 3600 });
    const s = await n.connect(null, { auth: { token: fresh } });
    assert.ok(s.connected);
    await closeSocket(s);
  });

  test('a valid token connects and can act as its user', T, async () => {
    const u = await n.register('auth');
    const room = await n.createRoom(u);
    const s = await n.connect(u);
    const r = await ackOk(s, 'message:send', { roomId: room.id, content: 'hello from token' });
    assert.equal(r.message.userId, u.id);
    await closeSocket(s);
  });

  test('session cookie from login authenticates the socket (websocket transport)', T, async () => {
    const u = await n.register('auth');
    const room = await n.createRoom(u);
    const r = await fetch(`${n.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: u.username, password: u.password }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(r.status, 200);
    const cookies = r.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('natter_session='));
    assert.ok(session, `login sets natter_session; got ${JSON.stringify(cookies)}`);
    assert.match(session, /HttpOnly/i);
    assert.match(session, /SameSite=Lax/i);
    const pair = session.split(';')[0];

    const s = await n.connect(null, { extraHeaders: { cookie: pair } });
    const ackd = await ackOk(s, 'message:send', { roomId: room.id, content: 'hello from cookie' });
    assert.equal(ackd.message.userId, u.id, 'the cookie identifies the user');
    await closeSocket(s);

    // A tampered cookie is an invalid token.
    const e = await n.connectError({ extraHeaders: { cookie: `${pair}x` } });
    assert.equal(e.message, 'Invalid token');

    // The polling fallback: cookie and token both work, and the errors are the same.
    const sp = await n.connect(null, { transports: ['polling'], extraHeaders: { cookie: pair } });
    const viaPolling = await ackOk(sp, 'message:send', { roomId: room.id, content: 'hello over polling' });
    assert.equal(viaPolling.message.userId, u.id);
    await closeSocket(sp);
    const st = await n.connect(u, { transports: ['polling'] });
    assert.ok(st.connected);
    await closeSocket(st);
    assert.equal((await n.connectError({ transports: ['polling'] })).message, 'Authentication required');
    assert.equal((await n.connectError({ transports: ['polling'], auth: { token: 'x.y.z' } })).message, 'Invalid token');
  });
});
