// room:join / room:leave and direct messages (dm:send, POST /api/dms): one room per pair.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ack, ackOk, expectNone, startServer, waitFor,
} from './harness.mjs';

describe('rooms over Socket.IO', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('room:join public: room:joined to the socket, room:user-joined to the room, then live messages', T, async () => {
    const alice = await n.register('alice');
    const carl = await n.register('carl');
    const room = await n.createRoom(alice, { name: 'open' });
    const sa = await n.connect(alice);
    const sc = await n.connect(carl);
    const sc2 = await n.connect(carl);

    const joined = waitFor(sc, 'room:joined', (x) => x.room?.id === room.id);
    const userJoined = waitFor(sa, 'room:user-joined', (x) => x.roomId === room.id && x.user?.id === carl.id);
    const r = await ackOk(sc, 'room:join', { roomId: room.id });
    assert.equal(r.ok, true);
    const j = await joined;
    assert.equal(j.room.isPrivate, false);
    const uj = await userJoined;
    assert.equal(uj.user.username, carl.username);
    assert.ok(!('email' in uj.user));

    const { members } = await n.ok('GET', `/api/rooms/${room.id}/members`, { token: alice.token });
    const me = members.find((m) => m.user.id === carl.id);
    assert.ok(me, 'carl is a member now');
    assert.equal(me.role, 'member');
    assert.equal(members.find((m) => m.user.id === alice.id).role, 'admin', 'creator is admin');

    const live = waitFor(sc, 'message:new', (m) => m.content === 'welcome');
    await ackOk(sa, 'message:send', { roomId: room.id, content: 'welcome' });
    await live;

    // Joining again: no second room:user-joined (membership is not new).
    const again = expectNone(sa, 'room:user-joined', (x) => x.roomId === room.id && x.user?.id === carl.id, 800);
    await ackOk(sc2, 'room:join', { roomId: room.id });
    await again;
  });

  test('room:join of a private room one is not in → forbidden, no membership', T, async () => {
    const alice = await n.register('alice');
    const carl = await n.register('carl');
    const room = await n.createRoom(alice, { name: 'closed', isPrivate: true });
    const sc = await n.connect(carl);
    const sa = await n.connect(alice);
    const none = expectNone(sa, 'room:user-joined', () => true, 800);
    const r = await ack(sc, 'room:join', { roomId: room.id });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'forbidden');
    await none;
    const { members } = await n.ok('GET', `/api/rooms/${room.id}/members`, { token: alice.token });
    assert.deepEqual(members.map((m) => m.user.id), [alice.id]);
  });

  test('room:leave: room:user-left to the room; this socket only stops receiving; membership stays', T, async () => {
    const alice = await n.register('alice');
    const carl = await n.register('carl');
    const room = await n.createRoom(alice, { name: 'leaving' });
    await n.joinRoom(carl, room.id);
    const sa = await n.connect(alice);
    const sc1 = await n.connect(carl);
    const sc2 = await n.connect(carl);

    const left = waitFor(sa, 'room:user-left', (x) => x.roomId === room.id && x.user?.id === carl.id);
    await ackOk(sc1, 'room:leave', { roomId: room.id });
    const l = await left;
    assert.equal(l.user.username, carl.username);

    const onOther = waitFor(sc2, 'message:new', (m) => m.content === 'after leave');
    const notOnLeft = expectNone(sc1, 'message:new', () => true, 1_000);
    await ackOk(sa, 'message:send', { roomId: room.id, content: 'after leave' });
    await onOther;
    await notOnLeft;

    const mine = await n.myRoom(carl, room.id);
    assert.ok(mine, 'membership stays');
    // The left socket can still send (membership stays) and rejoin.
    await ackOk(sc1, 'message:send', { roomId: room.id, content: 'still a member' });
    await ackOk(sc1, 'room:join', { roomId: room.id });
    const back = waitFor(sc1, 'message:new', (m) => m.content === 'rejoined');
    await ackOk(sa, 'message:send', { roomId: room.id, content: 'rejoined' });
    await back;
  });

  test('joining over REST subscribes the open sockets', T, async () => {
    const alice = await n.register('alice');
    const carl = await n.register('carl');
    const room = await n.createRoom(alice, { name: 'rest-join' });
    const sa = await n.connect(alice);
    const sc = await n.connect(carl);
    await n.joinRoom(carl, room.id);
    const live = waitFor(sc, 'message:new', (m) => m.content === 'hi carl');
    await ackOk(sa, 'message:send', { roomId: room.id, content: 'hi carl' });
    await live;
    // Invited to a private room: subscribed too.
    const priv = await n.createRoom(alice, { name: 'invite', isPrivate: true });
    await n.invite(alice, priv.id, carl.id);
    const live2 = waitFor(sc, 'message:new', (m) => m.content === 'psst');
    await ackOk(sa, 'message:send', { roomId: priv.id, content: 'psst' });
    await live2;
  });
});

describe('direct messages', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('dm:send twice and POST /api/dms both ways: one room; both users get dm:new', T, async () => {
    const ana = await n.register('ana');
    const luis = await n.register('luis');
    const other = await n.register('oth');
    const sa = await n.connect(ana);
    const sl = await n.connect(luis);
    const so = await n.connect(other);

    const noLeak = expectNone(so, 'dm:new', () => true, 1_500);
    const a1 = waitFor(sa, 'dm:new', (m) => m.content === 'hola luis');
    const l1 = waitFor(sl, 'dm:new', (m) => m.content === 'hola luis');
    const notif = waitFor(sl, 'notification', (x) => x.kind === 'dm' && x.message?.content === 'hola luis');
    const r1 = await ackOk(sa, 'dm:send', { recipientId: luis.id, content: 'hola luis' });
    const roomId = r1.message.roomId;
    assert.ok(roomId);
    const [da, dl, no] = await Promise.all([a1, l1, notif]);
    assert.equal(da.roomId, roomId);
    assert.equal(dl.roomId, roomId);
    assert.equal(dl.id, r1.message.id);
    assert.equal(no.roomId, roomId);

    const r2 = await ackOk(sa, 'dm:send', { recipientId: luis.id, content: 'otra vez' });
    assert.equal(r2.message.roomId, roomId, 'second dm:send reuses the room');
    const back = waitFor(sa, 'dm:new', (m) => m.content === 'hola ana');
    const r3 = await ackOk(sl, 'dm:send', { recipientId: ana.id, content: 'hola ana' });
    assert.equal(r3.message.roomId, roomId, 'the other direction reuses the room');
    await back;
    await noLeak;

    const p1 = await n.ok('POST', '/api/dms', { token: ana.token, body: { userId: luis.id } });
    const p2 = await n.ok('POST', '/api/dms', { token: luis.token, body: { userId: ana.id } });
    assert.equal(p1.room.id, roomId);
    assert.equal(p2.room.id, roomId);
    assert.equal(p1.room.isDirect, true);

    // Opening the DM subscribed both users' open sockets to its room.
    const plain = waitFor(sl, 'message:new', (m) => m.content === 'via message:send');
    await ackOk(sa, 'message:send', { roomId, content: 'via message:send' });
    assert.equal((await plain).roomId, roomId);

    const hist = await n.history(ana, roomId);
    assert.deepEqual(hist.map((m) => m.content), ['hola luis', 'otra vez', 'hola ana', 'via message:send']);
    const roomsAna = (await n.ok('GET', '/api/rooms', { token: ana.token })).rooms.filter((r) => r.isDirect);
    assert.equal(roomsAna.length, 1, 'one DM room for the pair');
    // The third user cannot read it.
    const r = await n.api('GET', `/api/messages?roomId=${roomId}`, { token: other.token });
    assert.equal(r.status, 403);
  });

  test('POST /api/dms first, then dm:send: same room; concurrent first DMs make one room', T, async () => {
    const a = await n.register('dma');
    const b = await n.register('dmb');
    const created = await n.api('POST', '/api/dms', { token: a.token, body: { userId: b.id } });
    assert.ok([200, 201].includes(created.status));
    const sb = await n.connect(b);
    const r = await ackOk(sb, 'dm:send', { recipientId: a.id, content: 'hi' });
    assert.equal(r.message.roomId, created.body.room.id);

    const c = await n.register('dmc');
    const d = await n.register('dmd');
    const sc = await n.connect(c);
    const sd = await n.connect(d);
    const results = await Promise.all([
      ackOk(sc, 'dm:send', { recipientId: d.id, content: 'x1' }),
      ackOk(sd, 'dm:send', { recipientId: c.id, content: 'x2' }),
      n.ok('POST', '/api/dms', { token: c.token, body: { userId: d.id } }).then((x) => ({ message: { roomId: x.room.id } })),
      ackOk(sc, 'dm:send', { recipientId: d.id, content: 'x3' }),
    ]);
    assert.equal(new Set(results.map((x) => x.message.roomId)).size, 1, 'one DM room under a race');
  });

  test('dm:send without a recipient is invalid', T, async () => {
    const a = await n.register('self');
    const sa = await n.connect(a);
    const r2 = await ack(sa, 'dm:send', { content: 'nobody' });
    assert.equal(r2.ok, false);
    assert.equal(r2.error.code, 'invalid');
  });
});
