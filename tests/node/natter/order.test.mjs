// Room order: seqs under concurrent senders, and keyset history paging by seq.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { T, ackOk, collect, startServer } from './harness.mjs';

describe('seq order and history paging', () => {
  let n;
  before(async () => { n = await startServer(); });
  after(async () => { await n?.stop(); });

  test('20 concurrent senders: seqs 1..N contiguous, every member sees message:new in seq order', { timeout: 120_000 }, async () => {
    const SENDERS = 20;
    const PER = 10;
    const owner = await n.register('own');
    const room = await n.createRoom(owner, { name: 'busy' });
    const others = await Promise.all(Array.from({ length: SENDERS - 1 }, (_, i) => n.register(`s${i + 1}x`)));
    for (const u of others) await n.joinRoom(u, room.id);
    const users = [owner, ...others];
    const sockets = await Promise.all(users.map((u) => n.connect(u)));
    const seen = sockets.map((s) => collect(s, 'message:new'));

    const acked = (await Promise.all(sockets.map((s, i) => Promise.all(
      Array.from({ length: PER }, (_, k) => ackOk(s, 'message:send', {
        roomId: room.id, content: `m ${i}/${k}`, clientId: `cid-${i}-${k}`,
      }, 20_000)),
    )))).flat().map((r) => r.message);

    const total = SENDERS * PER;
    assert.equal(acked.length, total);
    const ackSeqs = acked.map((m) => m.seq).sort((a, b) => a - b);
    assert.deepEqual(ackSeqs, Array.from({ length: total }, (_, i) => i + 1), 'acked seqs are 1..N');

    const hist = await n.history(owner, room.id);
    assert.equal(hist.length, total);
    assert.deepEqual(hist.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1),
      'history seqs contiguous 1..N, oldest first, no gaps, no repeats');
    assert.equal(new Set(hist.map((m) => m.id)).size, total);
    const byId = new Map(acked.map((m) => [m.id, m]));
    for (const m of hist) {
      assert.equal(byId.get(m.id)?.seq, m.seq, 'history seq = acked seq');
      assert.equal(byId.get(m.id)?.content, m.content);
    }
    const r = await n.ok('GET', `/api/rooms/${room.id}`, { token: owner.token });
    assert.equal(r.room.lastSeq, total, 'room.lastSeq = N');

    for (const [i, c] of seen.entries()) {
      const got = await c.until(total, () => true, 20_000);
      c.stop();
      const seqs = got.map((m) => m.seq);
      assert.equal(new Set(seqs).size, total, `member ${i} got each message once`);
      for (let k = 1; k < seqs.length; k++) {
        assert.ok(seqs[k] > seqs[k - 1], `member ${i} saw message:new in seq order (… ${seqs[k - 1]}, ${seqs[k]} …)`);
      }
    }
  });

  test('history paging over 300 messages: before= and after= return each exactly once', { timeout: 120_000 }, async () => {
    const a = await n.register('pg');
    const b = await n.register('pg');
    const room = await n.createRoom(a, { name: 'paging' });
    await n.joinRoom(b, room.id);
    const sa = await n.connect(a);
    const sb = await n.connect(b);
    const N = 300;
    const ids = [];
    for (let start = 0; start < N; start += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, (_, k) =>
        ackOk(k % 2 ? sb : sa, 'message:send', { roomId: room.id, content: `p${start + k}` })));
      ids.push(...batch.map((x) => x.message));
    }
    assert.equal(ids.length, N);
    const idOfSeq = new Map(ids.map((m) => [m.seq, m.id]));

    // No cursor: the newest page, oldest first within it; default limit 50.
    const newest = await n.ok('GET', `/api/messages?roomId=${room.id}`, { token: a.token });
    assert.equal(newest.messages.length, 50, 'default limit 50');
    assert.deepEqual(newest.messages.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => N - 49 + i));
    assert.equal(newest.hasMore, true);

    // Backwards with before=, an odd page size.
    const back = [];
    let before = null;
    for (let i = 0; i < 100; i++) {
      const q = `/api/messages?roomId=${room.id}&limit=37${before ? `&before=${before}` : ''}`;
      const page = await n.ok('GET', q, { token: b.token });
      const seqs = page.messages.map((m) => m.seq);
      for (let k = 1; k < seqs.length; k++) assert.ok(seqs[k] > seqs[k - 1], 'oldest first within a page');
      if (before) assert.ok(seqs.every((s) => s < before), 'before is exclusive');
      back.unshift(...page.messages);
      if (!page.hasMore) break;
      assert.equal(page.messages.length, 37, 'full page while hasMore');
      before = seqs[0];
    }
    assert.equal(back.length, N, 'backwards: every message');
    assert.equal(new Set(back.map((m) => m.id)).size, N, 'backwards: each exactly once');
    assert.deepEqual(back.map((m) => m.seq), Array.from({ length: N }, (_, i) => i + 1));
    for (const m of back) assert.equal(m.id, idOfSeq.get(m.seq));

    // Forwards with after=.
    const fwd = [];
    let afterSeq = 0;
    for (let i = 0; i < 100; i++) {
      const page = await n.ok('GET', `/api/messages?roomId=${room.id}&after=${afterSeq}&limit=41`, { token: a.token });
      const seqs = page.messages.map((m) => m.seq);
      assert.ok(seqs.every((s) => s > afterSeq), 'after is exclusive');
      fwd.push(...page.messages);
      if (!page.hasMore) break;
      afterSeq = seqs[seqs.length - 1];
    }
    assert.equal(fwd.length, N, 'forwards: every message');
    assert.deepEqual(fwd.map((m) => m.id), back.map((m) => m.id), 'forwards = backwards');

    // after=s is the oldest `limit` after s.
    const mid = await n.ok('GET', `/api/messages?roomId=${room.id}&after=100&limit=10`, { token: a.token });
    assert.deepEqual(mid.messages.map((m) => m.seq), [101, 102, 103, 104, 105, 106, 107, 108, 109, 110]);
    assert.equal(mid.hasMore, true);

    // limit is capped at 100.
    const capped = await n.ok('GET', `/api/messages?roomId=${room.id}&after=0&limit=500`, { token: a.token });
    assert.equal(capped.messages.length, 100);

    // Malformed parameters are `invalid`.
    for (const q of ['before=abc', 'after=1.5', 'limit=ten']) {
      const r = await n.api('GET', `/api/messages?roomId=${room.id}&${q}`, { token: a.token });
      assert.equal(r.status, 400, `${q} → 400`);
      assert.equal(r.body?.error?.code, 'invalid', `${q} → invalid`);
    }
  });
});
