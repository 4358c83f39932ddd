// Reactions, read cursors, unread and mention counts, unread:update, notifications (issue 5).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  T, ack, ackOk, collect, expectNone, startServer, waitFor,
} from './harness.mjs';

const byEmoji = (rs) => [...rs].sort((a, b) => (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));

describe('reactions', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('toggle: {emoji, count, userIds} in reaction order; removing omits the emoji', T, async () => {
    const ana = await n.register('ana');
    const luis = await n.register('luis');
    const room = await n.createRoom(ana, { name: 'react' });
    await n.joinRoom(luis, room.id);
    const sa = await n.connect(ana);
    const sl = await n.connect(luis);
    const m = (await ackOk(sa, 'message:send', { roomId: room.id, content: 'react to me' })).message;
    const evs = collect(sa, 'message:reactions');

    const step = async (sock, emoji, expected) => {
      const before = evs.items.length;
      await ackOk(sock, 'message:react', { messageId: m.id, emoji });
      const [ev] = (await evs.until(before + 1, () => true)).slice(before);
      assert.equal(ev.messageId, m.id);
      assert.equal(ev.roomId, room.id);
      assert.ok(Number.isInteger(ev.eventSeq));
      // The order of emojis is not part of the contract; the order of userIds is.
      assert.deepEqual(byEmoji(ev.reactions), byEmoji(expected), `after ${emoji}`);
      return ev;
    };
    const e1 = await step(sl, '👍', [{ emoji: '👍', count: 1, userIds: [luis.id] }]);
    const e2 = await step(sa, '👍', [{ emoji: '👍', count: 2, userIds: [luis.id, ana.id] }]);
    assert.equal(e2.eventSeq, e1.eventSeq + 1, 'each reaction change takes the next eventSeq');
    const e3 = await step(sa, '🎉', [
      { emoji: '👍', count: 2, userIds: [luis.id, ana.id] },
      { emoji: '🎉', count: 1, userIds: [ana.id] },
    ]);
    await step(sl, '👍', [
      { emoji: '👍', count: 1, userIds: [ana.id] },
      { emoji: '🎉', count: 1, userIds: [ana.id] },
    ]);
    await step(sl, '👍', [
      { emoji: '👍', count: 2, userIds: [ana.id, luis.id] },
      { emoji: '🎉', count: 1, userIds: [ana.id] },
    ]);
    await step(sa, '🎉', [{ emoji: '👍', count: 2, userIds: [ana.id, luis.id] }]);
    const last = await step(sa, '👍', [{ emoji: '👍', count: 1, userIds: [luis.id] }]);
    assert.ok(last.eventSeq > e3.eventSeq);
    evs.stop();

    const stored = (await n.history(ana, room.id)).find((x) => x.id === m.id);
    assert.deepEqual(stored.reactions, [{ emoji: '👍', count: 1, userIds: [luis.id] }], 'history holds the final reactions');
    assert.equal(stored.seq, m.seq, 'reactions never move the message');

    // Invalid emoji payloads store nothing.
    for (const [emoji, codes] of [['', ['invalid']], ['x'.repeat(200), ['invalid', 'too_large']], [7, ['invalid']]]) {
      const r = await ack(sa, 'message:react', { messageId: m.id, emoji });
      assert.equal(r.ok, false, `emoji ${JSON.stringify(emoji).slice(0, 20)} refused`);
      assert.ok(codes.includes(r.error.code), `emoji ${JSON.stringify(emoji).slice(0, 20)} → ${JSON.stringify(r)}`);
    }
    const again = (await n.history(ana, room.id)).find((x) => x.id === m.id);
    assert.deepEqual(again.reactions, stored.reactions);
  });

  test('12 users toggling one emoji at once: no lost update, one eventSeq each', { timeout: 90_000 }, async () => {
    const owner = await n.register('own');
    const room = await n.createRoom(owner, { name: 'race' });
    const users = await Promise.all(Array.from({ length: 11 }, (_, i) => n.register(`r${i}x`)));
    for (const u of users) await n.joinRoom(u, room.id);
    const all = [owner, ...users];
    const socks = await Promise.all(all.map((u) => n.connect(u)));
    const m = (await ackOk(socks[0], 'message:send', { roomId: room.id, content: 'pile on' })).message;
    const evs = collect(socks[0], 'message:reactions');
    await Promise.all(socks.map((s) => ackOk(s, 'message:react', { messageId: m.id, emoji: '🚀' })));
    let stored = (await n.history(owner, room.id)).find((x) => x.id === m.id);
    assert.equal(stored.reactions.length, 1);
    assert.equal(stored.reactions[0].count, all.length, 'every add counted');
    assert.deepEqual([...stored.reactions[0].userIds].sort(), all.map((u) => u.id).sort());
    await evs.until(all.length);
    const seqs = evs.items.map((e) => e.eventSeq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: all.length }, (_, i) => m.seq + 1 + i), 'one eventSeq per change, contiguous');
    const last = evs.items.find((e) => e.eventSeq === seqs[seqs.length - 1]);
    assert.equal(last.reactions[0].count, all.length, 'the last change carries the full count');

    await Promise.all(socks.map((s) => ackOk(s, 'message:react', { messageId: m.id, emoji: '🚀' })));
    stored = (await n.history(owner, room.id)).find((x) => x.id === m.id);
    assert.deepEqual(stored.reactions, [], 'all toggled off: the emoji is omitted');
    await evs.until(2 * all.length);
    const fin = evs.items.reduce((a, e) => (e.eventSeq > a.eventSeq ? e : a));
    assert.deepEqual(fin.reactions, [], 'the last change carries no reactions');
    evs.stop();
  });
});

describe('read cursors, unread and mentions', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('message:read moves the cursor forward only; room gets message:read', T, async () => {
    const ana = await n.register('ana');
    const luis = await n.register('luis');
    const room = await n.createRoom(ana, { name: 'reads' });
    await n.joinRoom(luis, room.id);
    const sa = await n.connect(ana);
    const sl = await n.connect(luis);
    const msgs = [];
    for (let i = 1; i <= 6; i++) msgs.push((await ackOk(sa, 'message:send', { roomId: room.id, content: `m${i}` })).message);
    assert.equal((await n.myRoom(luis, room.id)).unread, 6);
    assert.equal((await n.myRoom(ana, room.id)).unread, 0, 'own messages never count');

    const readEv = waitFor(sa, 'message:read', (x) => x.userId === luis.id && x.messageId === msgs[4].id);
    await ackOk(sl, 'message:read', { messageId: msgs[4].id });
    const r = await readEv;
    assert.equal(r.roomId, room.id);
    assert.equal(r.seq, msgs[4].seq);
    assert.equal((await n.myRoom(luis, room.id)).unread, 1, 'read up to 5 of 6');

    const back = await ack(sl, 'message:read', { messageId: msgs[2].id });
    assert.equal(back.ok, true, 'reading an older message is not an error');
    assert.equal((await n.myRoom(luis, room.id)).unread, 1, 'the cursor did not move back');

    await ackOk(sl, 'message:read', { messageId: msgs[5].id });
    assert.equal((await n.myRoom(luis, room.id)).unread, 0);
    await ackOk(sl, 'message:read', { messageId: msgs[0].id });
    assert.equal((await n.myRoom(luis, room.id)).unread, 0, 'still all read');
  });

  test('unread and mention counts after a mix of my and others\' messages; notifications', T, async () => {
    const alice = await n.register('alice');
    const bob = await n.register('bob');
    const carol = await n.register('carol');
    const room = await n.createRoom(alice, { name: 'mix' });
    await n.joinRoom(bob, room.id);
    await n.joinRoom(carol, room.id);
    const sa = await n.connect(alice);
    const sb = await n.connect(bob);
    const sc = await n.connect(carol);
    const notA = collect(sa, 'notification');
    const notB = collect(sb, 'notification');
    const notC = collect(sc, 'notification');

    const send = async (s, content) => (await ackOk(s, 'message:send', { roomId: room.id, content })).message;
    await send(sb, 'one');                                   // 1 bob
    await send(sa, 'mine');                                  // 2 alice: her cursor moves here
    await send(sb, 'two');                                   // 3 bob
    const m4 = await send(sb, `hey @${alice.username} look`); // 4 bob mentions alice
    const m5 = await send(sc, '@room standup now');          // 5 carol mentions everyone
    const m6 = await send(sc, `@${bob.username} only`);      // 6 carol mentions bob
    const m7 = await send(sb, `@${alice.username.toUpperCase()} again?`); // 7 bob, mention in another case
    // Mentioning someone who is not in the room: not a mention, no notification (no leak).
    const dave = await n.register('dave');
    const sd = await n.connect(dave);
    const daveQuiet = expectNone(sd, 'notification', () => true, 1_000);
    const m8 = await send(sb, `@${dave.username} are you there?`);          // 8 bob
    assert.ok(!m8.mentions.includes(dave.id), 'a non-member is not mentioned');
    await daveQuiet;

    assert.ok(m4.mentions.includes(alice.id), `m4 mentions alice: ${JSON.stringify(m4.mentions)}`);
    assert.ok(m5.mentions.includes(alice.id) && m5.mentions.includes(bob.id), `@room mentions all: ${JSON.stringify(m5.mentions)}`);
    assert.ok(!m6.mentions.includes(alice.id) && m6.mentions.includes(bob.id));

    const counts = async (u) => { const r = await n.myRoom(u, room.id); return { unread: r.unread, mentions: r.mentions }; };
    // alice: read through 2 by sending; 3..8 are others' → 6 unread; mentions 4, 5, (7).
    assert.deepEqual(await counts(alice), { unread: 6, mentions: m7.mentions.includes(alice.id) ? 3 : 2 });
    // bob: last sent 8 → all read.
    assert.deepEqual(await counts(bob), { unread: 0, mentions: 0 });
    // carol: sent 6 → 7 and 8 unread, no mention of carol in them.
    assert.deepEqual(await counts(carol), { unread: 2, mentions: 0 });

    // Notifications: alice for 4 and 5 (and 7 if it mentions her), bob for 5 and 6; never the sender.
    await notA.until(2, (x) => x.kind === 'mention');
    await notB.until(2, (x) => x.kind === 'mention');
    await expectNone(sc, 'notification', () => true, 500);
    const aIds = notA.items.filter((x) => x.kind === 'mention').map((x) => x.message.id);
    assert.ok(aIds.includes(m4.id) && aIds.includes(m5.id) && !aIds.includes(m6.id), JSON.stringify(aIds));
    assert.ok(notA.items.every((x) => x.roomId === room.id));
    const bIds = notB.items.filter((x) => x.kind === 'mention').map((x) => x.message.id);
    assert.ok(bIds.includes(m5.id) && bIds.includes(m6.id) && !bIds.includes(m4.id), JSON.stringify(bIds));
    assert.equal(notC.items.length, 0, 'no notification to the @room sender');

    // alice reads 4 → unread 4 (5, 6, 7, 8), mentions 5 (+7).
    const upd = waitFor(sa, 'unread:update', (x) => x.roomId === room.id);
    await ackOk(sa, 'message:read', { messageId: m4.id });
    const u = await upd;
    const expected = { unread: 4, mentions: m7.mentions.includes(alice.id) ? 2 : 1 };
    assert.deepEqual({ unread: u.unread, mentions: u.mentions }, expected, 'unread:update carries the new counts');
    assert.deepEqual(await counts(alice), expected, 'GET /api/rooms agrees');

    // alice writes: her cursor moves to her own message → 0.
    await send(sa, `thanks @${alice.username}`);
    assert.deepEqual(await counts(alice), { unread: 0, mentions: 0 }, 'own messages (even mentioning me) never count');
  });

  test('unread:update reaches my second socket when I read on the first', T, async () => {
    const ana = await n.register('ana');
    const luis = await n.register('luis');
    const room = await n.createRoom(luis, { name: 'devices' });
    await n.joinRoom(ana, room.id);
    const a1 = await n.connect(ana);
    const a2 = await n.connect(ana);
    const sl = await n.connect(luis);
    let last;
    for (let i = 0; i < 3; i++) last = (await ackOk(sl, 'message:send', { roomId: room.id, content: `x${i} @${ana.username}` })).message;
    assert.deepEqual(
      (({ unread, mentions }) => ({ unread, mentions }))(await n.myRoom(ana, room.id)),
      { unread: 3, mentions: 3 },
    );
    const on2 = waitFor(a2, 'unread:update', (x) => x.roomId === room.id && x.unread === 0);
    const on1 = waitFor(a1, 'unread:update', (x) => x.roomId === room.id && x.unread === 0);
    const notLuis = expectNone(sl, 'unread:update', () => true, 1_000);
    await ackOk(a1, 'message:read', { messageId: last.id });
    const u2 = await on2;
    assert.equal(u2.mentions, 0);
    await on1;
    await notLuis;
    assert.equal((await n.myRoom(ana, room.id)).unread, 0);
  });
});
