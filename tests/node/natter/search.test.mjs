// Search over REST right after a Socket.IO send (issue 10): a message is
// searchable as soon as its ack arrives (indexed in the transaction that
// stores it), an edit is found by its new text only, a delete stops
// matching, and only rooms the searcher is in are searched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { T, ackOk, rand, startServer } from './harness.mjs';

describe('search after an ack', () => {
  let n;
  let alice; let bob; let eve;
  let room;
  let sa;

  before(async () => {
    n = await startServer();
    alice = await n.register('alice');
    bob = await n.register('bob');
    eve = await n.register('eve');
    room = await n.createRoom(alice, { name: `search-${rand(4)}` });
    await n.joinRoom(bob, room.id);
    sa = await n.connect(alice);
  });
  after(async () => { await n?.stop(); });

  const search = (who, q) => n.ok('GET', `/api/search?q=${encodeURIComponent(q)}`, { token: who.token });

  test('an acknowledged message is found at once, with its snippet', T, async () => {
    const word = `kumquat${rand(6)}`;
    const { message } = await ackOk(sa, 'message:send', { roomId: room.id, content: `Réunion: ${word} at the Café` });
    const { results, nextCursor } = await search(bob, `${word} cafe`);
    assert.equal(results.length, 1);
    assert.equal(results[0].message.id, message.id);
    assert.equal(nextCursor, null);
    const marked = results[0].snippet.filter((p) => p.match).map((p) => p.text);
    assert.deepEqual(marked, [word, 'Café']);
    assert.equal(results[0].snippet.map((p) => p.text).join(''), `Réunion: ${word} at the Café`);
    // eve is in no room of theirs.
    assert.equal((await search(eve, word)).results.length, 0);
  });

  test('edits match by their new text; deletes stop matching', T, async () => {
    const before = `before${rand(6)}`;
    const after = `after${rand(6)}`;
    const { message } = await ackOk(sa, 'message:send', { roomId: room.id, content: `text ${before}` });
    await ackOk(sa, 'message:edit', { messageId: message.id, content: `text ${after}` });
    assert.equal((await search(alice, before)).results.length, 0);
    assert.equal((await search(alice, after)).results[0].message.id, message.id);
    await ackOk(sa, 'message:delete', { messageId: message.id });
    assert.equal((await search(alice, after)).results.length, 0);
  });

  test('bad input is refused with a clear message', T, async () => {
    const r = await n.api('GET', '/api/search?q=', { token: alice.token });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid');
    assert.match(r.body.error.message, /empty/);
  });
});
