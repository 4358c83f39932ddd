// Engine-side hardening seen by a real socket.io-client (issue 14): a lone UTF-16
// surrogate refuses one event, not the connection; a `sync` answer is bounded by
// bytes (rooms past the budget come back in `reset`), never a disconnect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ack, ackOk, rand, startServer,
} from './harness.mjs';

describe('engine limits over Socket.IO', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('a lone surrogate: invalid for that event, the connection stays up', T, async () => {
    const alice = await n.register('alice');
    const room = await n.createRoom(alice, { name: `surrogate-${rand(4)}` });
    const s = await n.connect(alice);
    const sid = s.id;
    // JSON.stringify writes a lone surrogate as the escape "\ud83d": what a client
    // that cut an emoji in half sends.
    const cut = 'half an emoji: \ud83d';
    assert.ok(JSON.stringify(cut).includes('\\ud83d'));
    const r = await ack(s, 'message:send', { roomId: room.id, content: cut });
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.error.code, 'invalid');
    // without an ack: an `error` event
    const err = new Promise((resolve) => s.once('error', resolve));
    s.emit('message:send', { roomId: room.id, content: '\udc00 low half' });
    assert.equal((await err).code, 'invalid');
    // same connection, same socket, and the next event works
    assert.equal(s.connected, true);
    assert.equal(s.id, sid);
    const ok = await ackOk(s, 'message:send', { roomId: room.id, content: 'whole: \ud83d\ude00' });
    assert.equal(ok.message.content, 'whole: 😀');
    const { messages } = await n.ok('GET', `/api/messages?roomId=${room.id}`, { token: alice.token });
    assert.deepEqual(messages.map((m) => m.content), ['whole: 😀'], 'nothing of the refused sends was stored');
    s.close();
  });

  test('a sync answer past the byte budget: big rooms come back in reset, never a disconnect', { timeout: 180_000 }, async () => {
    const alice = await n.register('alice');
    const big = await n.createRoom(alice, { name: `big-${rand(4)}` });
    const small = await n.createRoom(alice, { name: `small-${rand(4)}` });
    const s = await n.connect(alice);
    // 300 messages of 4,000 emoji (16 KB as JSON each): 4.8 MB, over the 4 MiB a
    // client may have queued, in fewer changes than the 500 that reset a room
    const content = '😀'.repeat(4_000);
    for (let i = 0; i < 300; i += 20) {
      await Promise.all(Array.from({ length: 20 }, () => ackOk(s, 'message:send', { roomId: big.id, content }, 60_000)));
    }
    const smallSent = [];
    for (let i = 0; i < 3; i++) smallSent.push((await ackOk(s, 'message:send', { roomId: small.id, content: `small ${i}` })).message);
    const sid = s.id;
    let dropped = false;
    s.on('disconnect', () => { dropped = true; });
    const r = await ackOk(s, 'sync', { rooms: { [big.id]: 0, [small.id]: 0 } }, 60_000);
    assert.deepEqual(r.reset, [big.id], 'the room past the budget is reset');
    const got = r.events.filter((e) => e.roomId === small.id && e.event === 'message:new');
    assert.deepEqual(got.map((e) => e.data.id), smallSent.map((m) => m.id), 'the small room comes in full');
    assert.equal(r.events.filter((e) => e.roomId === big.id).length, 0);
    // still the same connection, and it works
    assert.equal(dropped, false);
    assert.equal(s.id, sid);
    await ackOk(s, 'message:send', { roomId: small.id, content: 'after' });
    // what a reset tells the client to do: reload the newest page, over REST
    const { messages } = await n.ok('GET', `/api/messages?roomId=${big.id}`, { token: alice.token });
    assert.ok(messages.length > 0 && messages.every((m) => m.content === content));
    s.close();
  });
});
