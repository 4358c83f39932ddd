// Catch-up with nothing lost: `sync {rooms: {roomId: lastSeq}}` after a disconnect, and
// after a server restart (docs/CONTRACT.md §3 sync, §7 guarantees; issue 5).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ack, ackOk, closeSocket, collect, rand, startServer,
} from './harness.mjs';

const ROOM_EVENTS = new Set(['message:new', 'message:updated', 'message:deleted', 'message:reactions']);
const byEmoji = (rs) => [...(rs || [])].sort((a, b) => (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));

/** What a client keeps of a message, and what must agree with the database. */
function norm(m) {
  const deleted = Boolean(m.deletedAt);
  return {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    userId: m.userId,
    deleted,
    content: deleted ? '' : m.content,
    edited: deleted ? null : Boolean(m.editedAt),
    replyToId: m.replyToId ?? null,
    reactions: deleted ? null : byEmoji(m.reactions),
  };
}

/** A client's local copy of rooms, fed by live events and by sync events. */
class LocalCopy {
  constructor() { this.rooms = new Map(); }

  room(roomId) {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, { lastSeq: 0, messages: new Map() });
    return this.rooms.get(roomId);
  }

  load(roomId, messages, lastSeq) {
    const r = this.room(roomId);
    for (const m of messages) r.messages.set(m.id, norm(m));
    r.lastSeq = lastSeq;
  }

  /** Applies one room change; fails on a duplicate, a gap or an unknown target. */
  apply(event, data, { strict = true } = {}) {
    const roomId = data.roomId;
    const r = this.room(roomId);
    const seq = data.eventSeq;
    if (!strict && seq <= r.lastSeq) return false; // live duplicate already applied
    assert.equal(seq, r.lastSeq + 1, `${event} eventSeq ${seq} follows ${r.lastSeq} (no gap, no repeat)`);
    const id = event === 'message:new' || event === 'message:updated' ? data.id : data.messageId;
    switch (event) {
      case 'message:new':
        assert.ok(!r.messages.has(id), `message:new ${id} is not a duplicate`);
        assert.equal(data.seq, seq, 'a new message\'s seq is its eventSeq');
        r.messages.set(id, norm(data));
        break;
      case 'message:updated':
        assert.ok(r.messages.has(id), `message:updated of a known message ${id}`);
        r.messages.set(id, norm(data));
        break;
      case 'message:deleted': {
        const m = r.messages.get(id);
        assert.ok(m, `message:deleted of a known message ${id}`);
        r.messages.set(id, { ...m, deleted: true, content: '', edited: null, reactions: null });
        break;
      }
      case 'message:reactions': {
        const m = r.messages.get(id);
        assert.ok(m, `message:reactions of a known message ${id}`);
        r.messages.set(id, { ...m, reactions: m.deleted ? null : byEmoji(data.reactions) });
        break;
      }
      default:
        assert.fail(`unexpected room event ${event}`);
    }
    r.lastSeq = seq;
    return true;
  }

  list(roomId) {
    return [...this.room(roomId).messages.values()].sort((a, b) => a.seq - b.seq);
  }
}

/** Asserts a sync answer's events for `roomId` start right after `from`, contiguous. */
function checkEvents(events, roomId, from, to) {
  const mine = events.filter((e) => e.roomId === roomId);
  assert.deepEqual(mine.map((e) => e.eventSeq), Array.from({ length: to - from }, (_, i) => from + 1 + i),
    `room ${roomId}: eventSeqs ${from + 1}..${to}, oldest first, contiguous, no duplicate`);
  for (const e of mine) {
    assert.ok(ROOM_EVENTS.has(e.event), `known event name: ${e.event}`);
    assert.equal(e.data.eventSeq, e.eventSeq, 'data carries the same eventSeq');
    assert.equal(e.data.roomId, roomId, 'data carries the roomId');
  }
  return mine;
}

async function lastSeqOf(n, user, roomId) {
  return (await n.ok('GET', `/api/rooms/${roomId}`, { token: user.token })).room.lastSeq;
}

/** 50 messages, 3 edits, 2 deletes and some reactions, from two sockets. */
async function churn(sa, sc, roomId, old, { messages = 50, label = 'x' } = {}) {
  const fresh = [];
  for (let i = 0; i < messages; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, messages - i) }, (_, k) =>
      ackOk(k % 2 ? sc : sa, 'message:send', { roomId, content: `${label} ${i + k} ${rand(4)}` })));
    fresh.push(...batch.map((r) => r.message));
  }
  const aliceMsgs = [...old, ...fresh].filter((m) => m.userId === fresh[0].userId);
  const carolMsgs = [...old, ...fresh].filter((m) => m.userId !== fresh[0].userId);
  const ofSock = (m) => (m.userId === fresh[0].userId ? sa : sc);
  // 3 edits: one of an old message, two new (one edited twice counts as one of them).
  const edits = [aliceMsgs[0], fresh[5], fresh[20]];
  for (const m of edits) await ackOk(ofSock(m), 'message:edit', { messageId: m.id, content: `${m.content} (edited)` });
  await ackOk(ofSock(fresh[20]), 'message:edit', { messageId: fresh[20].id, content: 'edited twice' });
  // Reactions: several adds, a toggle off, one on a message deleted afterwards.
  await ackOk(sa, 'message:react', { messageId: fresh[3].id, emoji: '👍' });
  await ackOk(sc, 'message:react', { messageId: fresh[3].id, emoji: '👍' });
  await ackOk(sc, 'message:react', { messageId: fresh[3].id, emoji: '🎉' });
  await ackOk(sa, 'message:react', { messageId: old[1].id, emoji: '❤️' });
  await ackOk(sa, 'message:react', { messageId: fresh[3].id, emoji: '👍' }); // off again
  await ackOk(sc, 'message:react', { messageId: fresh[10].id, emoji: '🔥' });
  // 2 deletes: an old message and a new one that had a reaction.
  await ackOk(ofSock(carolMsgs[0]), 'message:delete', { messageId: carolMsgs[0].id });
  await ackOk(ofSock(fresh[10]), 'message:delete', { messageId: fresh[10].id });
  return fresh;
}

describe('catch-up with sync', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  async function setup() {
    const alice = await n.register('alice');
    const bob = await n.register('bob');
    const carol = await n.register('carol');
    const room = await n.createRoom(alice, { name: `catchup-${rand(4)}` });
    const quiet = await n.createRoom(alice, { name: `quiet-${rand(4)}` });
    await n.joinRoom(bob, room.id);
    await n.joinRoom(carol, room.id);
    await n.joinRoom(bob, quiet.id);
    return { alice, bob, carol, room, quiet };
  }

  test('a client that was away: sync yields exactly the database state, in order, no duplicate', { timeout: 90_000 }, async () => {
    const { alice, bob, carol, room, quiet } = await setup();
    const sa = await n.connect(alice);
    const sc = await n.connect(carol);
    const watch = collect(sa, 'message:new'); // a live observer, to compare payloads
    const watchU = collect(sa, 'message:updated');
    const watchD = collect(sa, 'message:deleted');
    const watchR = collect(sa, 'message:reactions');

    // Bob is online for the start, keeping his copy from live events.
    const local = new LocalCopy();
    local.load(room.id, [], 0);
    local.load(quiet.id, [], await lastSeqOf(n, bob, quiet.id));
    const sb = await n.connect(bob);
    const liveErrors = [];
    for (const ev of ROOM_EVENTS) {
      sb.on(ev, (d) => {
        if (d.roomId !== room.id) return;
        try { local.apply(ev, d, { strict: false }); } catch (e) { liveErrors.push(e.message); }
      });
    }
    const old = [];
    for (let i = 0; i < 10; i++) old.push((await ackOk(i % 2 ? sc : sa, 'message:send', { roomId: room.id, content: `old ${i}` })).message);
    await ackOk(sc, 'message:react', { messageId: old[0].id, emoji: '👀' });
    const seen = await lastSeqOf(n, bob, room.id);
    const deadline = Date.now() + 5_000;
    while (local.room(room.id).lastSeq < seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(liveErrors, [], 'live events arrived in order');
    assert.equal(local.room(room.id).lastSeq, seen, 'bob applied every live event before going away');
    sb.removeAllListeners();
    await closeSocket(sb);

    // While bob is away.
    await churn(sa, sc, room.id, old);
    const quietBefore = local.room(quiet.id).lastSeq;
    const to = await lastSeqOf(n, alice, room.id);

    // Bob comes back and syncs, without room:join.
    const sb2 = await n.connect(bob);
    const from = local.room(room.id).lastSeq;
    const r = await ackOk(sb2, 'sync', { rooms: { [room.id]: from, [quiet.id]: quietBefore } }, 15_000);
    assert.ok(Array.isArray(r.events), 'events is a list');
    assert.deepEqual(r.reset, [], 'nobody is reset');
    assert.equal(r.events.filter((e) => e.roomId === quiet.id).length, 0, 'nothing for an up-to-date room');
    assert.ok(r.events.every((e) => e.roomId === room.id || e.roomId === quiet.id), 'only the asked rooms');
    const mine = checkEvents(r.events, room.id, from, to);
    const counts = {};
    for (const e of mine) counts[e.event] = (counts[e.event] || 0) + 1;
    assert.equal(counts['message:new'], 50);
    assert.equal(counts['message:updated'], 4);
    assert.equal(counts['message:deleted'], 2);
    assert.equal(counts['message:reactions'], 6);

    // Sync's `data` is exactly the live payload, except that a message edited or
    // deleted later comes as it is now (issue 14: old and deleted text stay gone).
    const changedLater = new Set(
      [...watchU.items, ...watchD.items].filter((d) => d.roomId === room.id).map((d) => d.id ?? d.messageId),
    );
    const liveBySeq = new Map();
    for (const [name, c] of [['message:new', watch], ['message:updated', watchU], ['message:deleted', watchD], ['message:reactions', watchR]]) {
      for (const d of c.items) if (d.roomId === room.id) liveBySeq.set(d.eventSeq, [name, d]);
    }
    for (const e of mine) {
      const live = liveBySeq.get(e.eventSeq);
      assert.ok(live, `the observer saw eventSeq ${e.eventSeq} live`);
      assert.equal(e.event, live[0], `event name of ${e.eventSeq}`);
      if (e.event !== 'message:deleted' && e.event !== 'message:reactions' && changedLater.has(e.data.id)) {
        for (const k of ['id', 'roomId', 'userId', 'seq', 'eventSeq', 'createdAt']) {
          assert.deepEqual(e.data[k], live[1][k], `${k} of ${e.eventSeq} is kept`);
        }
        continue;
      }
      assert.deepEqual(e.data, live[1], `data of ${e.eventSeq} is the live payload`);
    }

    for (const e of mine) local.apply(e.event, e.data);
    const db = (await n.history(bob, room.id)).map(norm);
    assert.deepEqual(local.list(room.id), db, 'after sync the local copy equals the database');
    assert.equal(local.room(room.id).lastSeq, to);

    // Syncing again from the new lastSeq: nothing.
    const again = await ackOk(sb2, 'sync', { rooms: { [room.id]: to } });
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.reset, []);
  });

  test('the same across a server restart (crash) in between', { timeout: 120_000 }, async () => {
    const { alice, bob, carol, room } = await setup();
    let sa = await n.connect(alice);
    let sc = await n.connect(carol);
    const old = [];
    for (let i = 0; i < 10; i++) old.push((await ackOk(i % 2 ? sc : sa, 'message:send', { roomId: room.id, content: `old ${i}` })).message);
    const local = new LocalCopy();
    local.load(room.id, await n.history(bob, room.id), await lastSeqOf(n, bob, room.id));
    assert.equal(local.room(room.id).lastSeq, 10);

    // Half the changes before the crash, half after.
    const part1 = await churn(sa, sc, room.id, old, { messages: 25, label: 'before' });
    const mid = await lastSeqOf(n, alice, room.id);
    await n.restart(); // SIGKILL, then a new process on the same data dir / database
    sa = await n.connect(alice);
    sc = await n.connect(carol);
    assert.equal(await lastSeqOf(n, alice, room.id), mid, 'every acked change survived the crash');
    await churn(sa, sc, room.id, part1.slice(0, 10), { messages: 25, label: 'after' });
    const to = await lastSeqOf(n, alice, room.id);

    const sb = await n.connect(bob);
    const from = local.room(room.id).lastSeq;
    const r = await ackOk(sb, 'sync', { rooms: { [room.id]: from } }, 15_000);
    assert.deepEqual(r.reset, []);
    const mine = checkEvents(r.events, room.id, from, to);
    for (const e of mine) local.apply(e.event, e.data);
    const db = (await n.history(bob, room.id)).map(norm);
    assert.equal(db.length, 60);
    assert.deepEqual(local.list(room.id), db, 'after restart + sync the local copy equals the database');
  });

  test('a room more than 500 changes behind is in reset; 500 behind is not', { timeout: 120_000 }, async () => {
    const alice = await n.register('alice');
    const big = await n.createRoom(alice, { name: 'big' });
    const small = await n.createRoom(alice, { name: 'small' });
    const sa = await n.connect(alice);
    const TOTAL = 510;
    for (let i = 0; i < TOTAL; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, TOTAL - i) }, (_, k) =>
        ackOk(sa, 'message:send', { roomId: big.id, content: `b${i + k}` }, 20_000)));
    }
    for (let i = 0; i < 3; i++) await ackOk(sa, 'message:send', { roomId: small.id, content: `s${i}` });
    assert.equal(await lastSeqOf(n, alice, big.id), TOTAL);

    const sb = await n.connect(alice);
    const r = await ackOk(sb, 'sync', { rooms: { [big.id]: 0, [small.id]: 0 } }, 20_000);
    assert.deepEqual(r.reset, [big.id], 'the big room is reset');
    assert.equal(r.events.filter((e) => e.roomId === big.id).length, 0, 'no events for a reset room');
    checkEvents(r.events, small.id, 0, 3);

    const behind501 = await ackOk(sb, 'sync', { rooms: { [big.id]: TOTAL - 501 } }, 20_000);
    assert.deepEqual(behind501.reset, [big.id], '501 behind: reset');
    const behind500 = await ackOk(sb, 'sync', { rooms: { [big.id]: TOTAL - 500 } }, 20_000);
    assert.deepEqual(behind500.reset, [], '500 behind: not reset');
    checkEvents(behind500.events, big.id, TOTAL - 500, TOTAL);
  });

  test('sync with a bad payload is invalid', { timeout: 30_000 }, async () => {
    const alice = await n.register('alice');
    const room = await n.createRoom(alice, { name: 'syncbad' });
    const sa = await n.connect(alice);
    await ackOk(sa, 'message:send', { roomId: room.id, content: 'x' });
    for (const payload of [{}, { rooms: [] }, { rooms: { [room.id]: 'zero' } }, { rooms: 5 }]) {
      const r = await ack(sa, 'sync', payload);
      assert.equal(r.ok, false, `sync ${JSON.stringify(payload)} refused: ${JSON.stringify(r)}`);
      assert.equal(r.error.code, 'invalid', `sync ${JSON.stringify(payload)} → ${JSON.stringify(r)}`);
    }
  });
});
