// Server-side membership checks on every event: a client's ids are never trusted, and a
// refused event stores nothing (docs/CONTRACT.md §5 errors, §8).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ack, ackOk, expectNone, startServer, unknownIdLike, waitFor,
} from './harness.mjs';

describe('permission failures store nothing', () => {
  let n;
  let alice; let bob; let mallory;
  let priv; let dmRoomId; let m1; let m2;
  let sa; let sm;

  /** Everything the owner can see of the private room and the DM. */
  async function snapshot() {
    return {
      room: (await n.ok('GET', `/api/rooms/${priv.id}`, { token: alice.token })).room.lastSeq,
      hist: await n.history(alice, priv.id),
      dm: await n.history(alice, dmRoomId),
      unreadBob: (await n.myRoom(bob, priv.id))?.unread,
    };
  }

  before(async () => {
    n = await startServer();
    alice = await n.register('alice');
    bob = await n.register('bob');
    mallory = await n.register('mal');
    priv = await n.createRoom(alice, { name: 'secret', isPrivate: true });
    await n.invite(alice, priv.id, bob.id);
    sa = await n.connect(alice);
    sm = await n.connect(mallory);
    m1 = (await ackOk(sa, 'message:send', { roomId: priv.id, content: 'top secret 1' })).message;
    m2 = (await ackOk(sa, 'message:send', { roomId: priv.id, content: 'top secret 2' })).message;
    dmRoomId = (await n.ok('POST', '/api/dms', { token: alice.token, body: { userId: bob.id } })).room.id;
    await ackOk(sa, 'message:send', { roomId: dmRoomId, content: 'dm to bob' });
  });
  after(async () => { await n?.stop(); });

  test('a non-member: send/edit/delete/react/read in a private room → forbidden, nothing changes', T, async () => {
    const before = await snapshot();
    const attempts = [
      ['message:send', { roomId: priv.id, content: 'let me in' }],
      ['message:send', { roomId: priv.id, content: 'reply', replyToId: m1.id }],
      ['message:send', { roomId: dmRoomId, content: 'into the DM' }],
      ['message:edit', { messageId: m1.id, content: 'defaced' }],
      ['message:delete', { messageId: m2.id }],
      ['message:react', { messageId: m1.id, emoji: '👍' }],
      ['message:read', { messageId: m2.id }],
      ['room:join', { roomId: priv.id }],
      ['room:join', { roomId: dmRoomId }],
      ['typing:start', { roomId: priv.id }],
    ];
    const leak = expectNone(sa, 'typing:start', (x) => x.userId === mallory.id, 1_000);
    for (const [ev, payload] of attempts) {
      const r = await ack(sm, ev, payload);
      assert.equal(r?.ok, false, `${ev} ${JSON.stringify(payload)} refused`);
      assert.equal(r.error?.code, 'forbidden', `${ev} ${JSON.stringify(payload)} → ${JSON.stringify(r)}`);
    }
    await leak;
    assert.deepEqual(await snapshot(), before, 'history, lastSeq, DM and counts unchanged');
    assert.ok(sm.connected);
  });

  test('a non-member reads nothing: REST history forbidden, no live events, sync leaks nothing', T, async () => {
    const r = await n.api('GET', `/api/messages?roomId=${priv.id}`, { token: mallory.token });
    assert.equal(r.status, 403);
    assert.equal(r.body?.error?.code, 'forbidden');
    const r2 = await n.api('GET', `/api/rooms/${priv.id}/members`, { token: mallory.token });
    assert.equal(r2.status, 403);

    const quiet = expectNone(sm, 'message:new', () => true, 1_000);
    await ackOk(sa, 'message:send', { roomId: priv.id, content: 'still secret' });
    await quiet;

    const s = await ack(sm, 'sync', { rooms: { [priv.id]: 0, [dmRoomId]: 0 } });
    if (s.ok) {
      const leaked = (s.events || []).filter((e) => e.roomId === priv.id || e.roomId === dmRoomId);
      assert.deepEqual(leaked, [], 'sync returns no event of a room one is not in');
    } else {
      assert.equal(s.error.code, 'forbidden');
    }
    assert.ok(!JSON.stringify(s).includes('secret'), 'no content of the private room in the sync answer');
  });

  test('a non-member cannot post into the room over REST either', T, async () => {
    const before = await snapshot();
    const r = await n.api('POST', '/api/messages', { token: mallory.token, body: { roomId: priv.id, content: 'rest' } });
    assert.equal(r.status, 403);
    assert.equal(r.body?.error?.code, 'forbidden');
    const r2 = await n.api('PATCH', `/api/messages/${m1.id}`, { token: mallory.token, body: { content: 'x' } });
    assert.equal(r2.status, 403);
    const r3 = await n.api('DELETE', `/api/messages/${m1.id}`, { token: mallory.token });
    assert.equal(r3.status, 403);
    assert.deepEqual(await snapshot(), before);
  });

  test('a file message needs a file the sender uploaded to that room', T, async () => {
    const before = await snapshot();
    for (const payload of [
      { roomId: priv.id, content: '', type: 'image', fileUrl: 'https://evil.example/x.png' },
      { roomId: priv.id, content: 'look', type: 'file', fileUrl: '/api/files/1' },
      { roomId: priv.id, content: 'no url', type: 'image' },
      { roomId: priv.id, content: 'odd type', type: 'video' },
    ]) {
      const r = await ack(sa, 'message:send', payload);
      assert.equal(r?.ok, false, `refused: ${JSON.stringify(payload)} → ${JSON.stringify(r)}`);
      assert.ok(['invalid', 'forbidden', 'not_found'].includes(r.error.code), JSON.stringify(r));
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('unknown room or message → not_found, nothing stored', T, async () => {
    const before = await snapshot();
    const noRoom = unknownIdLike(priv.id);
    const noMsg = unknownIdLike(m1.id);
    for (const [ev, payload] of [
      ['message:send', { roomId: noRoom, content: 'into the void' }],
      ['room:join', { roomId: noRoom }],
      ['message:edit', { messageId: noMsg, content: 'x' }],
      ['message:delete', { messageId: noMsg }],
      ['message:react', { messageId: noMsg, emoji: '👍' }],
      ['message:read', { messageId: noMsg }],
      ['dm:send', { recipientId: unknownIdLike(bob.id), content: 'hello?' }],
    ]) {
      const r = await ack(sa, ev, payload);
      assert.equal(r?.ok, false, `${ev} refused`);
      assert.equal(r.error?.code, 'not_found', `${ev} ${JSON.stringify(payload)} → ${JSON.stringify(r)}`);
    }
    // Replying to a message that does not exist stores nothing.
    const rr = await ack(sa, 'message:send', { roomId: priv.id, content: 'reply to nothing', replyToId: noMsg });
    assert.equal(rr.ok, false);
    assert.ok(['not_found', 'invalid'].includes(rr.error.code), JSON.stringify(rr));
    assert.deepEqual(await snapshot(), before);
  });

  test('a removed member loses access at once', T, async () => {
    const dave = await n.register('dave');
    await n.invite(alice, priv.id, dave.id);
    const sd = await n.connect(dave);
    const sd2 = await n.connect(dave);
    await ackOk(sd, 'message:send', { roomId: priv.id, content: 'dave was here' });
    // every socket of dave's is told, though none hears the room any more
    const told = [sd, sd2].map((s) => waitFor(s, 'room:user-left', (x) => x.roomId === priv.id && x.user?.id === dave.id));
    const roomTold = waitFor(sa, 'room:user-left', (x) => x.roomId === priv.id && x.user?.id === dave.id);
    await n.ok('DELETE', `/api/rooms/${priv.id}/members/${dave.id}`, { token: alice.token });
    await Promise.all([...told, roomTold]);
    const before = await snapshot();
    const r = await ack(sd, 'message:send', { roomId: priv.id, content: 'still here?' });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'forbidden');
    const quiet = expectNone(sd, 'message:new', () => true, 1_000);
    await ackOk(sa, 'message:send', { roomId: priv.id, content: 'after dave left' });
    await quiet;
    const after = await snapshot();
    assert.equal(after.hist.length, before.hist.length + 1);
  });
});
