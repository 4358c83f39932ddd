// message:send / edit / delete over Socket.IO: ack after storage, fan-out to members only,
// idempotent clientId, replies, permission rules, input validation, unknown events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ack, ackOk, collect, expectNone, rand, startServer, waitFor,
} from './harness.mjs';

describe('messages over Socket.IO', () => {
  let n;
  let alice; let bob; let eve; // eve is in no room of alice's
  let room; // public, alice admin, bob member
  let sa; let sb; let se;

  before(async () => {
    n = await startServer();
    alice = await n.register('alice');
    bob = await n.register('bob');
    eve = await n.register('eve');
    room = await n.createRoom(alice, { name: `general-${rand(4)}` });
    await n.joinRoom(bob, room.id);
    [sa, sb, se] = await Promise.all([n.connect(alice), n.connect(bob), n.connect(eve)]);
  });
  after(async () => { await n?.stop(); });

  test('send: ack {ok, message} after storage; message:new to members incl. sender, not to others', T, async () => {
    const content = `hello ${rand()}`;
    const gotA = waitFor(sa, 'message:new', (m) => m.content === content);
    const gotB = waitFor(sb, 'message:new', (m) => m.content === content);
    const none = expectNone(se, 'message:new', () => true, 1_000);
    const r = await ackOk(sa, 'message:send', { roomId: room.id, content });
    const m = r.message;
    assert.equal(typeof m.id, 'string');
    assert.equal(m.roomId, room.id);
    assert.equal(m.userId, alice.id);
    assert.equal(m.content, content);
    assert.equal(m.type, 'text');
    assert.equal(m.user.username, alice.username);
    assert.ok(Number.isInteger(m.seq) && m.seq >= 1);
    assert.deepEqual(m.reactions, []);
    assert.equal(m.replyToId ?? null, null);
    assert.ok(!('email' in m.user), 'no email in a message user');
    // Stored by the time of the ack.
    const { messages } = await n.ok('GET', `/api/messages?roomId=${room.id}`, { token: bob.token });
    assert.ok(messages.some((x) => x.id === m.id && x.content === content), 'history holds the acked message');
    const [a, b] = await Promise.all([gotA, gotB, none]);
    assert.equal(a.id, m.id);
    assert.equal(b.id, m.id);
    assert.equal(b.seq, m.seq);
    assert.equal(b.eventSeq, m.seq, 'message:new carries eventSeq = its seq');
  });

  test('idempotent clientId: the replay acks the same message, stores and sends nothing', T, async () => {
    const clientId = `c-${rand(12)}`;
    const content = `once ${rand()}`;
    const newsB = collect(sb, 'message:new');
    const r1 = await ackOk(sa, 'message:send', { roomId: room.id, content, clientId });
    await newsB.until(1, (m) => m.content === content);
    const r2 = await ackOk(sa, 'message:send', { roomId: room.id, content, clientId });
    assert.equal(r2.message.id, r1.message.id, 'same message id');
    assert.equal(r2.message.seq, r1.message.seq);
    await expectNone([sa, sb], 'message:new', (m) => m.content === content, 800);
    newsB.stop();
    assert.equal(newsB.items.filter((m) => m.content === content).length, 1, 'one message:new only');
    const hist = await n.history(bob, room.id);
    assert.equal(hist.filter((m) => m.content === content).length, 1, 'history holds it once');
    assert.equal(hist.filter((m) => m.clientId === clientId).length, 1);

    // The same clientId in another room is another message.
    const other = await n.createRoom(alice, { name: `other-${rand(4)}` });
    const r4 = await ackOk(sa, 'message:send', { roomId: other.id, content, clientId });
    assert.notEqual(r4.message.id, r1.message.id);
    assert.equal(r4.message.roomId, other.id);
    // The same clientId from another user is another message.
    const r3 = await ackOk(sb, 'message:send', { roomId: room.id, content, clientId });
    assert.notEqual(r3.message.id, r1.message.id);
    // Concurrent replays of one clientId still store one message.
    const cid2 = `c-${rand(12)}`;
    const acks = await Promise.all(Array.from({ length: 5 }, () =>
      ackOk(sa, 'message:send', { roomId: room.id, content: `race ${cid2}`, clientId: cid2 })));
    assert.equal(new Set(acks.map((x) => x.message.id)).size, 1, 'concurrent replays ack one id');
    const hist2 = await n.history(bob, room.id);
    assert.equal(hist2.filter((m) => m.clientId === cid2).length, 1);
  });

  test('POST /api/messages: 201 {message}, broadcast to the room; clientId replay 200, no broadcast', T, async () => {
    const clientId = `rest-${rand(10)}`;
    const content = `over rest ${rand()}`;
    const live = waitFor(sb, 'message:new', (m) => m.content === content);
    // The sender's own socket gets it too; wait for both before listening for
    // (absent) duplicates, so the original cannot be mistaken for one.
    const own = waitFor(sa, 'message:new', (m) => m.content === content);
    const r = await n.api('POST', '/api/messages', { token: alice.token, body: { roomId: room.id, content, clientId } });
    assert.equal(r.status, 201);
    assert.equal(r.body.message.content, content);
    const m = await live;
    assert.equal(m.id, r.body.message.id);
    assert.equal(m.eventSeq, m.seq);
    assert.equal((await own).id, r.body.message.id);
    const quiet = expectNone([sa, sb], 'message:new', (x) => x.content === content, 800);
    const again = await n.api('POST', '/api/messages', { token: alice.token, body: { roomId: room.id, content, clientId } });
    assert.equal(again.status, 200, 'a clientId replay answers 200');
    assert.equal(again.body.message.id, r.body.message.id);
    await quiet;
    // The same clientId over the socket is the same message too.
    const s = await ackOk(sa, 'message:send', { roomId: room.id, content, clientId });
    assert.equal(s.message.id, r.body.message.id);
  });

  test('reply: replyToId → replyTo {id, content, user{username}}', T, async () => {
    const orig = (await ackOk(sb, 'message:send', { roomId: room.id, content: 'original' })).message;
    const gotA = waitFor(sa, 'message:new', (m) => m.replyToId === orig.id);
    const r = (await ackOk(sa, 'message:send', { roomId: room.id, content: 'a reply', replyToId: orig.id })).message;
    assert.equal(r.replyToId, orig.id);
    assert.equal(r.replyTo.id, orig.id);
    assert.equal(r.replyTo.content, 'original');
    assert.equal(r.replyTo.user.username, bob.username);
    const live = await gotA;
    assert.equal(live.replyTo.id, orig.id);
    const hist = await n.history(alice, room.id);
    const stored = hist.find((m) => m.id === r.id);
    assert.equal(stored.replyTo.id, orig.id);
    assert.equal(stored.replyTo.user.username, bob.username);
  });

  test('edit: author edits, room gets message:updated; someone else → forbidden, unchanged', T, async () => {
    const m = (await ackOk(sb, 'message:send', { roomId: room.id, content: 'before edit' })).message;
    const upd = waitFor(sa, 'message:updated', (x) => x.id === m.id);
    const r = await ackOk(sb, 'message:edit', { messageId: m.id, content: 'after edit' });
    assert.equal(r.message?.content ?? 'after edit', 'after edit');
    const u = await upd;
    assert.equal(u.content, 'after edit');
    assert.equal(u.seq, m.seq, 'an edit never moves the message');
    assert.ok(u.eventSeq > m.seq, 'the edit takes a new eventSeq');
    assert.ok(u.editedAt, 'editedAt set');

    // Alice is the room admin, yet editing is author-only.
    const bad = await ack(sa, 'message:edit', { messageId: m.id, content: 'hijacked' });
    assert.equal(bad.ok, false);
    assert.equal(bad.error.code, 'forbidden');
    assert.equal(typeof bad.error.message, 'string');
    const stored = (await n.history(bob, room.id)).find((x) => x.id === m.id);
    assert.equal(stored.content, 'after edit');
  });

  test('delete: member cannot delete others; moderator and admin can; tombstone stays', T, async () => {
    const carol = await n.register('carol');
    await n.joinRoom(carol, room.id);
    await n.setRole(alice, room.id, carol.id, 'moderator');
    const sc = await n.connect(carol);

    const m1 = (await ackOk(sb, 'message:send', { roomId: room.id, content: 'doomed 1' })).message;
    const m2 = (await ackOk(sb, 'message:send', { roomId: room.id, content: 'doomed 2' })).message;
    const m3 = (await ackOk(sc, 'message:send', { roomId: room.id, content: 'carol writes' })).message;

    // bob (member) cannot delete carol's message.
    const bad = await ack(sb, 'message:delete', { messageId: m3.id });
    assert.equal(bad.ok, false);
    assert.equal(bad.error.code, 'forbidden');

    // carol (moderator) deletes bob's m1.
    const del1 = waitFor(sb, 'message:deleted', (x) => x.messageId === m1.id);
    await ackOk(sc, 'message:delete', { messageId: m1.id });
    const d1 = await del1;
    assert.equal(d1.roomId, room.id);
    assert.ok(d1.eventSeq > m3.seq);

    // alice (admin) deletes bob's m2.
    const del2 = waitFor(sb, 'message:deleted', (x) => x.messageId === m2.id);
    await ackOk(sa, 'message:delete', { messageId: m2.id });
    await del2;

    // Author deletes own message.
    const m4 = (await ackOk(sb, 'message:send', { roomId: room.id, content: 'mine to delete' })).message;
    await ackOk(sb, 'message:delete', { messageId: m4.id });

    const hist = await n.history(alice, room.id);
    for (const id of [m1.id, m2.id, m4.id]) {
      const t = hist.find((x) => x.id === id);
      assert.ok(t, 'tombstone stays in history');
      assert.ok(t.deletedAt, 'deletedAt set');
      assert.equal(t.content, '');
      assert.equal(t.fileUrl ?? null, null);
    }
    assert.equal(hist.find((x) => x.id === m3.id).content, 'carol writes', "carol's message untouched");

    // A tombstone cannot be edited back to life.
    const revive = await ack(sb, 'message:edit', { messageId: m4.id, content: 'back from the dead' });
    assert.equal(revive.ok, false, `editing a deleted message is refused: ${JSON.stringify(revive)}`);
    const t4 = (await n.history(alice, room.id)).find((x) => x.id === m4.id);
    assert.equal(t4.content, '');
    assert.ok(t4.deletedAt);
  });

  test('a reply to a deleted message does not keep serving its content', T, async () => {
    const orig = (await ackOk(sb, 'message:send', { roomId: room.id, content: 'regrettable words' })).message;
    const reply = (await ackOk(sa, 'message:send', { roomId: room.id, content: 'what?', replyToId: orig.id })).message;
    assert.equal(reply.replyTo.content, 'regrettable words');
    await ackOk(sb, 'message:delete', { messageId: orig.id });
    const hist = await n.history(alice, room.id);
    assert.ok(!JSON.stringify(hist).includes('regrettable words'), 'deleted content appears nowhere in history');
    const r = hist.find((x) => x.id === reply.id);
    assert.equal(r.replyToId, orig.id);
    assert.equal(r.replyTo?.content ?? '', '');
  });

  test('wrong payload types → invalid, nothing stored', T, async () => {
    const before = await n.ok('GET', `/api/rooms/${room.id}`, { token: alice.token });
    const histBefore = await n.history(alice, room.id);
    const bad = [
      { roomId: room.id, content: 123 },
      { content: 'no room' },
      { roomId: {}, content: 'object room' },
      { roomId: room.id },
      { roomId: room.id, content: 'x', replyToId: [1] },
      { roomId: room.id, content: 'x', clientId: 42 },
    ];
    for (const payload of bad) {
      const r = await ack(sa, 'message:send', payload);
      assert.equal(r?.ok, false, `rejected: ${JSON.stringify(payload)}`);
      assert.equal(r.error.code, 'invalid', `invalid for ${JSON.stringify(payload)}: ${JSON.stringify(r)}`);
      assert.equal(typeof r.error.message, 'string');
    }
    for (const payload of ['just a string', 42, null, [room.id, 'x']]) {
      const r = await ack(sa, 'message:send', payload);
      assert.equal(r?.ok, false, `rejected: ${JSON.stringify(payload)}`);
      assert.equal(r.error.code, 'invalid', `invalid for ${JSON.stringify(payload)}: ${JSON.stringify(r)}`);
    }
    for (const [ev, payload] of [
      ['message:edit', { messageId: {}, content: 'x' }],
      ['message:delete', { messageId: true }],
      ['message:react', { messageId: 'x' }],
      ['message:read', {}],
      ['room:join', { roomId: [] }],
      ['dm:send', { recipientId: bob.id, content: 5 }],
      ['sync', { rooms: 'all' }],
    ]) {
      const r = await ack(sa, ev, payload);
      assert.equal(r?.ok, false, `${ev} rejected: ${JSON.stringify(payload)}`);
      assert.equal(r.error.code, 'invalid', `${ev} ${JSON.stringify(payload)} → ${JSON.stringify(r)}`);
    }
    const after = await n.ok('GET', `/api/rooms/${room.id}`, { token: alice.token });
    assert.equal(after.room.lastSeq, before.room.lastSeq, 'room lastSeq unchanged');
    assert.deepEqual(await n.history(alice, room.id), histBefore, 'history unchanged');
    assert.ok(sa.connected, 'the socket survives bad input');
  });

  test('content over 4000 chars → too_large; exactly 4000 is fine; empty → invalid', T, async () => {
    const before = await n.history(alice, room.id);
    const big = await ack(sa, 'message:send', { roomId: room.id, content: 'x'.repeat(4001) });
    assert.equal(big.ok, false);
    assert.equal(big.error.code, 'too_large');
    // The limit counts characters, not bytes: 4000 two-byte characters are fine.
    const ok = await ackOk(sa, 'message:send', { roomId: room.id, content: 'é'.repeat(4000) });
    assert.equal(ok.message.content.length, 4000);
    const empty = await ack(sa, 'message:send', { roomId: room.id, content: '' });
    assert.equal(empty.ok, false);
    assert.equal(empty.error.code, 'invalid');
    // Editing past the limit is too_large as well, and keeps the message.
    const m = ok.message;
    const bigEdit = await ack(sa, 'message:edit', { messageId: m.id, content: 'y'.repeat(4001) });
    assert.equal(bigEdit.ok, false);
    assert.equal(bigEdit.error.code, 'too_large');
    const bigDm = await ack(sa, 'dm:send', { recipientId: bob.id, content: 'z'.repeat(4001) });
    assert.equal(bigDm.ok, false);
    assert.equal(bigDm.error.code, 'too_large');
    const after = await n.history(alice, room.id);
    assert.equal(after.length, before.length + 1, 'only the 4000-char message was stored');
    assert.equal(after.find((x) => x.id === m.id).content, m.content);
  });

  test('unknown event: with ack → not_found; without ack → error event {message, code}', T, async () => {
    const r = await ack(sa, 'message:explode', { roomId: room.id });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'not_found');
    assert.equal(typeof r.error.message, 'string');

    const errEv = waitFor(sa, 'error', (e) => e && e.code === 'not_found');
    sa.emit('no:such:event', { x: 1 });
    const e = await errEv;
    assert.equal(typeof e.message, 'string');

    // A known event without an ack that fails reports on `error` as well.
    const errEv2 = waitFor(sa, 'error', (x) => x && x.code === 'invalid');
    sa.emit('message:send', { roomId: room.id, content: 123 });
    await errEv2;
    assert.ok(sa.connected);
  });
});
