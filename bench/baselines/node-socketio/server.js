// A minimal socket.io 4.8 server speaking the events natter-bench drives
// (the wire contract of docs/CONTRACT.md, reduced to what the scenarios use),
// with no database: users, rooms and each room's recent event log live in memory.
// It is the baseline Natter's figures are compared with: same events, same
// payload shapes, the stock socket.io broadcast path (io.to(room).emit).
//
//   PORT=3100 node server.js
//
// REST shim (JSON, Bearer token): POST /api/auth/register, POST /api/rooms,
// POST /api/rooms/:id/join, POST /api/rooms/:id/members {userId}, GET /api/messages,
// GET /healthz. Socket.IO: token in the handshake auth; on connect a socket joins
// its user's channel and every room the user is a member of; `room:join`,
// `message:send` (→ `message:new` to the room + ack {ok, message}), `sync`.
'use strict';

const http = require('http');
const crypto = require('crypto');
const { Server } = require('socket.io');

const PORT = Number(process.env.PORT || 3100);
const HOST = process.env.HOST || '127.0.0.1';
const LOG_KEEP = 600; // events kept per room for `sync`; more than 500 behind → reset

let nextId = 1;
const users = new Map(); // id → {id, username, name, avatar}
const tokens = new Map(); // token → user id
const rooms = new Map(); // id → {room, members: Set<userId>, lastSeq, log: []}
const roomsOf = new Map(); // user id → Set<roomId>

function newId() {
  return String(nextId++);
}

function roomView(r) {
  return { ...r.room, lastSeq: r.lastSeq, unread: 0, mentions: 0, role: 'member' };
}

function addMember(r, userId) {
  if (r.members.has(userId)) return false;
  r.members.add(userId);
  if (!roomsOf.has(userId)) roomsOf.set(userId, new Set());
  roomsOf.get(userId).add(r.room.id);
  return true;
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(res, status, code, message) {
  send(res, status, { error: { code, message } });
}

function bearer(req) {
  const h = req.headers.authorization || '';
  const m = /^Bearer (.+)$/.exec(h);
  return m ? tokens.get(m[1]) : undefined;
}

function readJson(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch {
        resolve(null);
      }
    });
  });
}

async function rest(req, res) {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });
  if (req.method === 'POST' && path === '/api/auth/register') {
    const b = await readJson(req);
    if (!b || !b.username) return fail(res, 400, 'invalid', 'username required');
    const user = { id: newId(), username: String(b.username), name: String(b.name || b.username), avatar: null };
    users.set(user.id, user);
    const token = crypto.randomBytes(24).toString('hex');
    tokens.set(token, user.id);
    return send(res, 201, { user, token });
  }
  const me = bearer(req);
  if (!me) return fail(res, 401, 'unauthenticated', 'Authentication required');
  if (req.method === 'POST' && path === '/api/rooms') {
    const b = (await readJson(req)) || {};
    const room = {
      id: newId(),
      name: String(b.name || 'room'),
      description: String(b.description || ''),
      isPrivate: !!b.isPrivate,
      isDirect: false,
      createdBy: me,
      createdAt: new Date().toISOString(),
    };
    const r = { room, members: new Set(), lastSeq: 0, log: [] };
    rooms.set(room.id, r);
    addMember(r, me);
    return send(res, 201, { room: roomView(r) });
  }
  let m = /^\/api\/rooms\/([^/]+)\/(join|members)$/.exec(path);
  if (req.method === 'POST' && m) {
    const r = rooms.get(m[1]);
    if (!r) return fail(res, 404, 'not_found', 'no such room');
    if (m[2] === 'join') {
      addMember(r, me);
      return send(res, 200, { room: roomView(r) });
    }
    const b = (await readJson(req)) || {};
    const uid = String(b.userId);
    if (!users.has(uid)) return fail(res, 404, 'not_found', 'no such user');
    addMember(r, uid);
    // Like Natter: an invited user's open sockets are subscribed too.
    io.in(`user:${uid}`).socketsJoin(`room:${r.room.id}`);
    return send(res, 201, { member: { user: users.get(uid), role: 'member', online: false, lastSeen: null, joinedAt: new Date().toISOString() } });
  }
  if (req.method === 'GET' && path === '/api/messages') {
    const r = rooms.get(url.searchParams.get('roomId') || '');
    if (!r || !r.members.has(me)) return fail(res, 404, 'not_found', 'no such room');
    const limit = Math.min(Number(url.searchParams.get('limit') || 50), 100);
    const before = url.searchParams.get('before');
    let msgs = r.log.filter((e) => e.event === 'message:new').map((e) => e.data);
    if (before) msgs = msgs.filter((x) => x.seq < Number(before));
    const page = msgs.slice(-limit);
    return send(res, 200, { messages: page, hasMore: msgs.length > page.length });
  }
  return fail(res, 404, 'not_found', 'not found');
}

const httpServer = http.createServer((req, res) => {
  rest(req, res).catch((e) => fail(res, 500, 'internal', String(e)));
});

const io = new Server(httpServer, { serveClient: false, transports: ['websocket', 'polling'] });

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (!token) return next(new Error('Authentication required'));
  const uid = tokens.get(token);
  if (!uid) return next(new Error('Invalid token'));
  socket.data.userId = uid;
  next();
});

function ackOr(socket, ack, body) {
  if (typeof ack === 'function') ack(body);
  else if (!body.ok) socket.emit('error', { message: body.error.message, code: body.error.code });
}

const err = (code, message) => ({ ok: false, error: { code, message } });

io.on('connection', (socket) => {
  const uid = socket.data.userId;
  const joins = [`user:${uid}`];
  for (const rid of roomsOf.get(uid) || []) joins.push(`room:${rid}`);
  socket.join(joins);

  socket.on('room:join', (data, ack) => {
    const r = data && rooms.get(String(data.roomId));
    if (!r) return ackOr(socket, ack, err('not_found', 'no such room'));
    addMember(r, uid);
    socket.join(`room:${r.room.id}`);
    socket.emit('room:joined', { room: roomView(r) });
    ackOr(socket, ack, { ok: true, room: roomView(r) });
  });

  socket.on('message:send', (data, ack) => {
    const r = data && rooms.get(String(data.roomId));
    if (!r || !r.members.has(uid)) return ackOr(socket, ack, err('forbidden', 'not a member'));
    if (typeof data.content !== 'string' || data.content.length > 4000) {
      return ackOr(socket, ack, err('invalid', 'bad content'));
    }
    const seq = ++r.lastSeq;
    const now = new Date().toISOString();
    const message = {
      id: newId(),
      roomId: r.room.id,
      userId: uid,
      seq,
      content: data.content,
      type: 'text',
      fileUrl: null,
      replyToId: null,
      replyTo: null,
      user: users.get(uid),
      reactions: [],
      mentions: [],
      clientId: data.clientId,
      createdAt: now,
      updatedAt: now,
    };
    const live = { ...message, eventSeq: seq };
    r.log.push({ eventSeq: seq, roomId: r.room.id, event: 'message:new', data: live });
    if (r.log.length > LOG_KEEP) r.log.splice(0, r.log.length - LOG_KEEP);
    io.to(`room:${r.room.id}`).emit('message:new', live);
    ackOr(socket, ack, { ok: true, message });
  });

  socket.on('sync', (data, ack) => {
    const want = (data && data.rooms) || {};
    const events = [];
    const reset = [];
    for (const [rid, last] of Object.entries(want)) {
      const r = rooms.get(rid);
      if (!r || !r.members.has(uid)) continue;
      const from = Number(last) || 0;
      if (r.lastSeq - from > 500 || (r.log.length && r.log[0].eventSeq > from + 1)) {
        reset.push(rid);
        continue;
      }
      for (const e of r.log) if (e.eventSeq > from) events.push(e);
    }
    ackOr(socket, ack, { ok: true, events, reset });
  });
});

httpServer.listen(PORT, HOST, () => {
  console.log(`node-socketio baseline on http://${HOST}:${PORT} (pid ${process.pid})`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    io.close();
    httpServer.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
