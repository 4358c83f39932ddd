// A room's settings reach its members live and through sync: `room:updated` with an
// eventSeq, logged like every room change (docs/CONTRACT.md §3.2, §7).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ackOk, expectNone, startServer, waitFor,
} from './harness.mjs';

describe('room:updated', () => {
  let n;
  let alice; let bob; let carol;
  let room;
  let sb; let sc;

  before(async () => {
    n = await startServer();
    alice = await n.register('alice');
    bob = await n.register('bob');
    carol = await n.register('carol');
    room = await n.createRoom(alice, { name: 'general', description: 'all things' });
    await n.joinRoom(bob, room.id);
    sb = await n.connect(bob);
    sc = await n.connect(carol);
  });
  after(async () => { await n?.stop(); });

  test('members get the new settings live with the change\'s eventSeq; others do not', T, async () => {
    const before = (await n.myRoom(bob, room.id)).lastSeq;
    const live = waitFor(sb, 'room:updated', (p) => p.roomId === room.id);
    const leak = expectNone(sc, 'room:updated', () => true, 1_000);
    const { room: patched } = await n.ok('PATCH', `/api/rooms/${room.id}`, {
      token: alice.token, body: { name: 'lobby', description: 'new topic' },
    });
    assert.equal(patched.lastSeq, before + 1, 'the change takes the room\'s next seq');
    const got = await live;
    assert.deepEqual(got, {
      roomId: room.id,
      room: { id: room.id, name: 'lobby', description: 'new topic', isPrivate: false },
      eventSeq: before + 1,
    });
    await leak;
    assert.equal((await n.myRoom(bob, room.id)).name, 'lobby');

    // A message after it follows it in the room's order.
    const sent = await ackOk(sb, 'message:send', { roomId: room.id, content: 'after the rename' });
    assert.equal(sent.message.seq, before + 2);
  });

  test('sync replays the change with exactly the live payload', T, async () => {
    const start = (await n.myRoom(bob, room.id)).lastSeq;
    const live = waitFor(sb, 'room:updated', (p) => p.roomId === room.id);
    await n.ok('PATCH', `/api/rooms/${room.id}`, { token: alice.token, body: { isPrivate: true } });
    const payload = await live;
    const res = await ackOk(sb, 'sync', { rooms: { [room.id]: start } });
    const logged = res.events.filter((e) => e.event === 'room:updated');
    assert.equal(logged.length, 1);
    assert.equal(logged[0].eventSeq, start + 1);
    assert.deepEqual(logged[0].data, payload);
    assert.equal(payload.room.isPrivate, true);
    assert.equal(payload.room.name, 'lobby', 'fields not in the patch keep their values');
  });

  test('a patch that changes nothing sends nothing and takes no seq', T, async () => {
    const start = (await n.myRoom(bob, room.id)).lastSeq;
    const none = expectNone(sb, 'room:updated', () => true, 1_000);
    const { room: same } = await n.ok('PATCH', `/api/rooms/${room.id}`, { token: alice.token, body: {} });
    assert.equal(same.lastSeq, start);
    await none;
  });
});
