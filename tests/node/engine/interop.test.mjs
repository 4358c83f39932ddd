// Interop of the realtime engine with the official socket.io-client (4.x),
// against the `conformance` binary's `/interop` namespace.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { io, Manager } from 'socket.io-client';
import { connect, once, startServer, withTimeout } from './harness.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const TRANSPORTS = {
  'websocket-only': { transports: ['websocket'] },
  'polling-only': { transports: ['polling'] },
  'polling then websocket upgrade (default)': {},
};

for (const [name, opts] of Object.entries(TRANSPORTS)) {
  describe(name, () => {
    test('connects with auth, gets the welcome sent from connect, acks both ways', async () => {
      const socket = io(server.url + '/interop', {
        forceNew: true,
        reconnection: false,
        auth: { token: 'secret', name: 'ada' },
        ...opts,
      });
      const welcome = once(socket, 'welcome');
      await once(socket, 'connect');
      const [w] = await welcome;
      assert.equal(w.name, 'ada');
      assert.equal(w.id, socket.id);

      if (!opts.transports) {
        // the default: starts with polling, then upgrades
        if (socket.io.engine.transport.name !== 'websocket') await once(socket.io.engine, 'upgrade');
        assert.equal(socket.io.engine.transport.name, 'websocket');
      } else {
        assert.equal(socket.io.engine.transport.name, opts.transports[0]);
      }

      // client -> server with ack
      const reply = await socket.timeout(3000).emitWithAck('echo', { a: 1 }, 'two', [3]);
      assert.deepEqual(reply, { a: 1 });
      const who = await socket.timeout(3000).emitWithAck('whoami');
      assert.equal(who.name, 'ada');

      // server -> client without ack (event both ways)
      const echoed = once(socket, 'echo');
      socket.emit('echo', 'hello', 42);
      assert.deepEqual(await echoed, ['hello', 42]);

      // server -> client with ack: the server asks, the client answers
      socket.on('question', (q, ack) => ack({ answer: q * 2 }, 'extra'));
      const asked = await socket.timeout(3000).emitWithAck('ask-client', 21);
      assert.deepEqual(asked, { ok: true, args: [{ answer: 42 }, 'extra'] });

      // binary both ways (base64 over polling, binary frames over websocket)
      const bin = Buffer.from([0, 1, 2, 253, 254, 255]);
      const back = await socket.timeout(3000).emitWithAck('echo', { file: bin, label: 'x' });
      assert.equal(back.label, 'x');
      assert.deepEqual(Buffer.from(back.file), bin);
      const binEvent = once(socket, 'echo');
      socket.emit('echo', bin, Buffer.from('second'));
      const [b1, b2] = await binEvent;
      assert.deepEqual(Buffer.from(b1), bin);
      assert.equal(Buffer.from(b2).toString(), 'second');

      socket.disconnect();
    });

    test('auth failure gives connect_error with the message', async () => {
      const socket = io(server.url + '/interop', {
        forceNew: true,
        reconnection: false,
        auth: { token: 'wrong' },
        ...opts,
      });
      const [err] = await once(socket, 'connect_error');
      assert.equal(err.message, 'bad token');
      assert.equal(socket.connected, false);
      socket.close();
    });

    test('a 1 MB payload is refused per maxPayload (the client is disconnected)', async () => {
      const socket = await connect(server.url, opts);
      const big = 'x'.repeat(1_100_000);
      let acked = false;
      const gone = once(socket, 'disconnect', 10000);
      socket.emit('echo', big, () => (acked = true));
      const [reason] = await gone;
      assert.match(reason, /transport (close|error)/);
      assert.equal(acked, false);
      socket.close();
      // the server still serves others
      const other = await connect(server.url, opts);
      assert.deepEqual(await other.timeout(3000).emitWithAck('echo', 'ok'), 'ok');
      other.disconnect();
    });
  });
}

test('unknown namespace is refused with "Invalid namespace"', async () => {
  const socket = io(server.url + '/nope', { forceNew: true, reconnection: false });
  const [err] = await once(socket, 'connect_error');
  assert.equal(err.message, 'Invalid namespace');
  socket.close();
});

test('two namespaces over one connection', async () => {
  const manager = new Manager(server.url, { reconnection: false, transports: ['websocket'] });
  const main = manager.socket('/');
  const interop = manager.socket('/interop', { auth: { token: 'secret', name: 'mux' } });
  const mainAuth = once(main, 'auth');
  await Promise.all([once(main, 'connect'), once(interop, 'connect')]);
  assert.deepEqual((await mainAuth)[0], {});
  const back = once(main, 'message-back');
  main.emit('message', 1, '2', { 3: [true] });
  assert.deepEqual(await back, [1, '2', { 3: [true] }]);
  assert.equal(await interop.timeout(3000).emitWithAck('echo', 'mux'), 'mux');
  // leaving one namespace keeps the other
  main.disconnect();
  await sleep(100);
  assert.equal(await interop.timeout(3000).emitWithAck('echo', 'still'), 'still');
  interop.disconnect();
});

test('rooms and broadcast-except', async () => {
  const a = await connect(server.url, { auth: { token: 'secret', name: 'a', room: 'r1' } });
  const b = await connect(server.url, { auth: { token: 'secret', name: 'b' }, transports: ['polling'] });
  const c = await connect(server.url, { auth: { token: 'secret', name: 'c' } });
  const joined = await b.timeout(3000).emitWithAck('join', 'r1');
  assert.deepEqual(joined.rooms, ['r1']);

  const got = { a: [], b: [], c: [] };
  a.on('broadcast', (m) => got.a.push(m));
  b.on('broadcast', (m) => got.b.push(m));
  c.on('broadcast', (m) => got.c.push(m));

  const res = await a.timeout(3000).emitWithAck('broadcast-except', { room: 'r1', data: 'hi' });
  assert.deepEqual(res, { ok: true, members: 2 });
  await withTimeout(
    (async () => {
      while (got.b.length === 0) await sleep(10);
    })(),
    3000,
    'b receives the broadcast',
  );
  await sleep(200);
  assert.deepEqual(got.b, [{ from: 'a', data: 'hi' }]);
  assert.deepEqual(got.a, [], 'the sender is excepted');
  assert.deepEqual(got.c, [], 'not in the room');

  // b leaves: a broadcast from c to r1 reaches a only
  await b.timeout(3000).emitWithAck('leave', 'r1');
  await c.timeout(3000).emitWithAck('broadcast-except', { room: 'r1', data: 'again' });
  await withTimeout(
    (async () => {
      while (got.a.length === 0) await sleep(10);
    })(),
    3000,
    'a receives the second broadcast',
  );
  await sleep(200);
  assert.deepEqual(got.a, [{ from: 'c', data: 'again' }]);
  assert.equal(got.b.length, 1);
  for (const s of [a, b, c]) s.disconnect();
});

test('reconnects after the server drops the transport; a server-side namespace disconnect is final', async (t) => {
  const socket = io(server.url + '/interop', {
    forceNew: true,
    auth: { token: 'secret', name: 'phoenix' },
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
  });
  // closed even when an assertion fails: a client left reconnecting keeps the file running
  t.after(() => socket.close());
  await once(socket, 'connect');
  const firstId = socket.id;
  const reconnected = once(socket, 'connect', 10000);
  const [reason] = await (async () => {
    const d = once(socket, 'disconnect');
    socket.emit('drop-transport'); // the server closes the whole connection
    return d;
  })();
  assert.equal(reason, 'transport close');
  await reconnected;
  assert.notEqual(socket.id, firstId);
  assert.equal(await socket.timeout(3000).emitWithAck('echo', 'back'), 'back');

  // a server-side namespace disconnect is final for the client
  const gone = once(socket, 'disconnect');
  socket.emit('disconnect-me');
  assert.equal((await gone)[0], 'io server disconnect');
  socket.close();
});

for (const [name, transports, runs] of [
  ['websocket', ['websocket'], 1000],
  ['polling', ['polling'], 200],
]) {
  test(`an event emitted in the same tick as connect is delivered every time (${name}, ${runs} runs)`, async () => {
    let delivered = 0;
    for (let i = 0; i < runs; i++) {
      const socket = io(server.url + '/interop', {
        forceNew: true,
        reconnection: false,
        transports,
        auth: { token: 'secret', name: `run${i}` },
      });
      const ack = new Promise((ok, fail) => {
        socket.on('connect', () => {
          socket.timeout(5000).emit('join', `room-${i}`, (err, res) => (err ? fail(err) : ok(res)));
        });
        socket.on('connect_error', fail);
      });
      const res = await ack;
      assert.deepEqual(res.rooms, [`room-${i}`]);
      delivered++;
      socket.disconnect();
    }
    assert.equal(delivered, runs);
  });
}
