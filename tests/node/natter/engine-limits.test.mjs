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
});
