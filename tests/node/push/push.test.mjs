// Web Push end to end (issue 11): a real `natter serve` sends to a test push service on
// loopback (push-service.mjs), which verifies each request's VAPID JWT with `jose` and
// decrypts its body with `http_ece`, both independent of Natter's code. Covers DMs,
// mentions, levels (all / mentions / none, @room), never one's own messages, no push for
// the room a socket is looking at (`focus`), unsubscribing, 404/410 pruning, retries,
// markdown stripped and NATTER_PUSH_PREVIEW=false.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { T, ackOk, expectNone, sleep, startServer, waitFor } from '../natter/harness.mjs';
import { PushService } from './push-service.mjs';

// http endpoints on loopback are only allowed with this setting (tests, LAN).
process.env.NATTER_PUSH_ALLOW_PRIVATE = 'true';

/** Long enough for a push that should not come to have come (after a sentinel that did). */
const GRACE_MS = 400;

async function metric(n, name) {
  const r = await n.api('GET', '/metrics');
  const text = r.body?.raw ?? '';
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Waits (bounded) until a counter reaches `atLeast`: the server counts after the answer. */
async function metricReaches(n, name, atLeast, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let v = await metric(n, name);
  while (v < atLeast && Date.now() < deadline) {
    await sleep(50);
    v = await metric(n, name);
  }
  return v;
}

async function subscribe(n, user, browser) {
  const r = await n.api('POST', '/api/push/subscriptions', { token: user.token, body: browser.subscription() });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.subscription;
}

describe('web push', () => {
  let n;
  let push;
  let vapidKey;
  before(async () => {
    push = await PushService.start();
    n = await startServer();
    vapidKey = (await n.ok('GET', '/api/push/vapid-public-key')).key;
  });
  after(async () => {
    await n?.stop();
    await push?.stop();
  });

  /** The next push to `browser` (after `seen` earlier ones), verified and decrypted. */
  async function nextPush(browser, seen) {
    const reqs = await push.until(browser, seen + 1);
    return push.open(browser, reqs[seen], vapidKey);
  }

  /** Asserts `browser` got no push beyond `seen` (call after a later push arrived elsewhere). */
  async function noMorePushes(browser, seen, why) {
    await sleep(GRACE_MS);
    assert.equal(push.to(browser).length, seen, `no push expected: ${why}`);
  }

  test('a DM reaches the recipient encrypted, VAPID-signed, urgent; never the sender', T, async () => {
    const ana = await n.register('ana');
    const bob = await n.register('bob');
    const anaPhone = push.browser();
    const bobPhone = push.browser();
    await subscribe(n, ana, anaPhone);
    await subscribe(n, bob, bobPhone);
    const sa = await n.connect(ana);
    const { message } = await ackOk(sa, 'dm:send', { recipientId: bob.id, content: 'hey **bob**, lunch at `12`?' });

    const got = await nextPush(bobPhone, 0);
    assert.equal(got.alg, 'ES256');
    assert.deepEqual(got.payload, {
      title: ana.user.name,
      body: 'hey bob, lunch at 12?',
      roomId: message.roomId,
      messageId: message.id,
      url: `/#/room/${message.roomId}/message/${message.id}`,
    });
    assert.equal(got.urgency, 'high');
    assert.ok(got.ttl > 0 && got.ttl <= 24 * 3600, `TTL ${got.ttl}`);
    assert.equal(got.topic, `room-${message.roomId}`);
    await noMorePushes(anaPhone, 0, 'own DM');
  });

  test('rooms: mentions by default, all, none, @room; the mentioned get urgent pushes', T, async () => {
    const ana = await n.register('ana');
    const bob = await n.register('bob');
    const cy = await n.register('cyd');
    const room = await n.createRoom(ana, { name: 'levels' });
    await n.joinRoom(bob, room.id);
    await n.joinRoom(cy, room.id);
    const bobPhone = push.browser();
    const cyPhone = push.browser();
    await subscribe(n, bob, bobPhone);
    await subscribe(n, cy, cyPhone);
    const sa = await n.connect(ana);
    const sb = await n.connect(bob);
    const send = (content) => ackOk(sa, 'message:send', { roomId: room.id, content });

    // Default `mentions`: a plain message pushes no one; @bob pushes bob only.
    await send('plain hello');
    const { message: m1 } = await send(`hi @${bob.username}, see [the doc](https://example.com)`);
    let got = await nextPush(bobPhone, 0);
    assert.equal(got.payload.messageId, m1.id);
    assert.equal(got.payload.title, `${ana.user.name} in #levels`);
    assert.equal(got.payload.body, `hi @${bob.username}, see the doc`);
    assert.equal(got.urgency, 'high');
    await noMorePushes(cyPhone, 0, 'plain message and a mention of someone else at level mentions');

    // `all`: every message, at normal urgency.
    const patched = await n.ok('PATCH', `/api/rooms/${room.id}/notifications`, { token: cy.token, body: { level: 'all' } });
    assert.equal(patched.room.notifications, 'all');
    const { message: m2 } = await send('everyone should hear this one');
    got = await nextPush(cyPhone, 0);
    assert.equal(got.payload.messageId, m2.id);
    assert.equal(got.urgency, 'normal');
    await noMorePushes(bobPhone, 1, 'plain message, bob at mentions');

    // @room reaches `mentions` members too.
    const { message: m3 } = await send('@room standup now');
    assert.equal((await nextPush(bobPhone, 1)).payload.messageId, m3.id);
    assert.equal((await nextPush(cyPhone, 1)).payload.messageId, m3.id);

    // `none`: no push and no `notification` event, even when mentioned; counts still count.
    await n.ok('PATCH', `/api/rooms/${room.id}/notifications`, { token: bob.token, body: { level: 'none' } });
    const quiet = expectNone(sb, 'notification', (p) => p.roomId === room.id, 1_000);
    const { message: m4 } = await send(`@${bob.username} are you there?`);
    assert.equal((await nextPush(cyPhone, 2)).payload.messageId, m4.id, 'cy (all) hears it');
    await quiet;
    await noMorePushes(bobPhone, 2, 'level none');
    const bobRoom = await n.myRoom(bob, room.id);
    assert.equal(bobRoom.notifications, 'none');
    assert.ok(bobRoom.mentions >= 1, `mentions still counted: ${JSON.stringify(bobRoom)}`);
    assert.ok(bobRoom.unread >= 4, `unread still counted: ${JSON.stringify(bobRoom)}`);
  });

  test('no push for the room a socket is looking at (focus); focus null or another room pushes again', T, async () => {
    const ana = await n.register('ana');
    const bob = await n.register('bob');
    const room = await n.createRoom(ana, { name: 'focus' });
    const other = await n.createRoom(ana, { name: 'elsewhere' });
    await n.joinRoom(bob, room.id);
    await n.joinRoom(bob, other.id);
    await n.ok('PATCH', `/api/rooms/${room.id}/notifications`, { token: bob.token, body: { level: 'all' } });
    const bobLaptop = push.browser();
    await subscribe(n, bob, bobLaptop);
    const sa = await n.connect(ana);
    const sb = await n.connect(bob);
    // focus is looked at when a message's pushes are worked out, after the send: wait for
    // that before changing it, so each message meets the focus the test means
    const send = async (content) => {
      const before = await metric(n, 'natter_push_messages_total');
      const r = await ackOk(sa, 'message:send', { roomId: room.id, content });
      await metricReaches(n, 'natter_push_messages_total', before + 1);
      return r;
    };

    await ackOk(sb, 'focus', { roomId: room.id });
    await send('you are reading this live');
    // sentinel: after un-focusing, the next message pushes
    await ackOk(sb, 'focus', { roomId: null });
    const { message: m2 } = await send('now you are away');
    let got = await nextPush(bobLaptop, 0);
    assert.equal(got.payload.messageId, m2.id, 'the focused-room message was not pushed');

    // focused elsewhere: pushed
    await ackOk(sb, 'focus', { roomId: other.id });
    const { message: m3 } = await send('looking at another room');
    got = await nextPush(bobLaptop, 1);
    assert.equal(got.payload.messageId, m3.id);

    // focused here again, then the socket goes away: pushed again
    await ackOk(sb, 'focus', { roomId: room.id });
    await send('still reading');
    // bob's last socket closing: the server forgets its focus before it says he went offline
    const offline = waitFor(sa, 'user:offline', (p) => p.userId === bob.id);
    sb.disconnect();
    await offline;
    const { message: m5 } = await send('tab closed');
    got = await nextPush(bobLaptop, 2);
    assert.equal(got.payload.messageId, m5.id);
    await noMorePushes(bobLaptop, 3, 'only the messages sent while not looking');

    // focus on a room one is not in: forbidden
    const stranger = await n.register('str');
    const ss = await n.connect(stranger);
    const privateRoom = await n.createRoom(ana, { name: 'secret', isPrivate: true });
    const r = await ss.timeout(10_000).emitWithAck('focus', { roomId: privateRoom.id });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'forbidden');
  });

  test('unsubscribing stops pushes; 404/410 prune the subscription; 5xx and 429 are retried', { timeout: 90_000 }, async () => {
    const ana = await n.register('ana');
    const bob = await n.register('bob');
    const old = push.browser();
    const gone = push.browser();
    const flaky = push.browser();
    const fine = push.browser();
    for (const b of [old, gone, flaky, fine]) await subscribe(n, bob, b);
    push.script(gone, [410]);
    push.script(flaky, [500, 429]);
    const prunedBefore = await metric(n, 'natter_push_pruned_total');
    const retriesBefore = await metric(n, 'natter_push_retries_total');
    const sentBefore = await metric(n, 'natter_push_sent_total');

    const del = await n.api('DELETE', '/api/push/subscriptions', { token: bob.token, body: { endpoint: old.endpoint } });
    assert.equal(del.status, 204);
    const sa = await n.connect(ana);
    const { message: m1 } = await ackOk(sa, 'dm:send', { recipientId: bob.id, content: 'first' });
    assert.equal((await nextPush(fine, 0)).payload.messageId, m1.id);
    await push.until(gone, 1);
    // flaky: 500, then 429 (Retry-After: 1), then accepted, the same push each time
    const tries = await push.until(flaky, 3, 20_000);
    for (const t of tries) assert.equal((await push.open(flaky, t, vapidKey)).payload.messageId, m1.id);

    const { message: m2 } = await ackOk(sa, 'dm:send', { recipientId: bob.id, content: 'second' });
    assert.equal((await nextPush(fine, 1)).payload.messageId, m2.id);
    assert.equal((await nextPush(flaky, 3)).payload.messageId, m2.id);
    await noMorePushes(gone, 1, 'pruned after its 410');
    await noMorePushes(old, 0, 'unsubscribed');
    assert.equal(await metricReaches(n, 'natter_push_pruned_total', prunedBefore + 1), prunedBefore + 1);
    assert.ok(await metricReaches(n, 'natter_push_retries_total', retriesBefore + 2) >= retriesBefore + 2);
    assert.ok(await metricReaches(n, 'natter_push_sent_total', sentBefore + 4) >= sentBefore + 4);
    // pruned: registering the same endpoint again works (it was deleted, not kept)
    await subscribe(n, bob, gone);
  });

  test('long messages are cut to 140 characters; images say so', T, async () => {
    const ana = await n.register('ana');
    const bob = await n.register('bob');
    const phone = push.browser();
    await subscribe(n, bob, phone);
    const sa = await n.connect(ana);
    await ackOk(sa, 'dm:send', { recipientId: bob.id, content: `# Big news\n\n${'word '.repeat(100)}` });
    const got = await nextPush(phone, 0);
    assert.ok(got.payload.body.startsWith('Big news word word'), got.payload.body);
    assert.ok([...got.payload.body].length <= 140, `${[...got.payload.body].length} characters`);
    assert.ok(got.payload.body.endsWith('…'));
  });
});

describe('web push without previews (NATTER_PUSH_PREVIEW=false)', () => {
  let n;
  let push;
  before(async () => {
    push = await PushService.start();
    process.env.NATTER_PUSH_PREVIEW = 'false';
    try {
      n = await startServer();
    } finally {
      delete process.env.NATTER_PUSH_PREVIEW;
    }
  });
  after(async () => {
    await n?.stop();
    await push?.stop();
  });

  test('pushes say "New message", never the text', T, async () => {
    const key = (await n.ok('GET', '/api/push/vapid-public-key')).key;
    const ana = await n.register('ana');
    const bob = await n.register('bob');
    const phone = push.browser();
    await subscribe(n, bob, phone);
    const sa = await n.connect(ana);
    const { message } = await ackOk(sa, 'dm:send', { recipientId: bob.id, content: 'the secret plan' });
    const [req] = await push.until(phone, 1);
    const got = await push.open(phone, req, key);
    assert.equal(got.payload.body, 'New message');
    assert.equal(got.payload.messageId, message.id);
    assert.ok(!req.body.includes(Buffer.from('secret')), 'the body is encrypted');
  });
});
