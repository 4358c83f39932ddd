// The chat store: rooms, timelines, members, presence, typing, read cursors, unread
// counts, and the catch-up logic (eventSeq per room, `sync` on connect and on a gap).
// Created with its dependencies so a test can drive it with fakes.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { rest as restApi } from '../api/rest';
import type { RealtimeApi, RealtimeHandlers } from '../api/socket';
import { syncEventToChange } from '../api/socket';
import type { Id, Member, Message, Room, RoomChange, User } from '../api/types';
import {
  acknowledge,
  addLocal,
  applyChange,
  applyNewestPage,
  applyAroundPage,
  appendNewer,
  emptyTimeline,
  gate,
  lastStored,
  newestSeq,
  prependOlder,
  setLocalStatus,
  unreadMarkerSeq,
  type ChatMessage,
  type Timeline,
} from './timeline';
import { TYPING_EXPIRY_MS } from './typing';

export type RestApi = typeof restApi;

export interface ChatDeps {
  rest: RestApi;
  realtime: RealtimeApi;
  uuid: () => string;
  now: () => number;
}

export interface Presence {
  online: boolean;
  lastSeen: string | null;
}

export interface TypingEntry {
  username: string;
  until: number;
}

export interface ChatState {
  me: User | null;
  rooms: Record<Id, Room>;
  activeRoomId: Id | null;
  timelines: Record<Id, Timeline>;
  /** The last eventSeq applied per room. */
  lastSeq: Record<Id, number>;
  members: Record<Id, Member[]>;
  /** The other user of each DM room. */
  dmPeers: Record<Id, User>;
  presence: Record<Id, Presence>;
  typing: Record<Id, Record<Id, TypingEntry>>;
  /** Read cursor (seq) per room, per user. */
  readCursors: Record<Id, Record<Id, number>>;
  /** Bumped when the active room should scroll to its newest message. */
  scrollNonce: number;
  /** Is the user looking at the newest message of the active room? */
  atBottom: boolean;
  /** Latest announcement for the screen-reader live region. */
  announcement: { id: number; text: string } | null;
  syncing: boolean;
}

function initialState(): ChatState {
  return {
    me: null,
    rooms: {},
    activeRoomId: null,
    timelines: {},
    lastSeq: {},
    members: {},
    dmPeers: {},
    presence: {},
    typing: {},
    readCursors: {},
    scrollNonce: 0,
    atBottom: true,
    announcement: null,
    syncing: false,
  };
}

export function sortedRooms(rooms: Record<Id, Room>): Room[] {
  return Object.values(rooms).sort((a, b) => a.name.localeCompare(b.name));
}

export function roomTitle(room: Room, peers: Record<Id, User>): string {
  if (room.isDirect) {
    const p = peers[room.id];
    return p ? p.name || p.username : room.name || 'Direct message';
  }
  return room.name;
}

export function totalUnread(rooms: Record<Id, Room>): number {
  let n = 0;
  for (const r of Object.values(rooms)) n += r.unread || 0;
  return n;
}

export type Chat = ReturnType<typeof createChat>;

export function createChat(deps: ChatDeps) {
  const store: StoreApi<ChatState> = createStore<ChatState>(() => initialState());
  const get = store.getState;
  const set = store.setState;

  /** Rooms with a `sync` in flight, and rooms that saw a gap meanwhile. */
  let syncInFlight = false;
  let syncAgain = new Set<Id>();
  const readSent: Record<Id, number> = {};
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let announceId = 0;
  let visible = true;

  function patchTimeline(roomId: Id, f: (tl: Timeline) => Timeline): void {
    const tl = get().timelines[roomId];
    if (!tl) return;
    const next = f(tl);
    if (next !== tl) set({ timelines: { ...get().timelines, [roomId]: next } });
  }

  function patchRoom(roomId: Id, f: (r: Room) => Room): void {
    const r = get().rooms[roomId];
    if (!r) return;
    set({ rooms: { ...get().rooms, [roomId]: f(r) } });
  }

  function nowIso(): string {
    return new Date(deps.now()).toISOString();
  }

  /** Adds or refreshes rooms; our tracked eventSeq is never moved by a room listing. */
  function upsertRooms(list: Room[], replaceAll: boolean): void {
    const rooms: Record<Id, Room> = replaceAll ? {} : { ...get().rooms };
    const lastSeq = { ...get().lastSeq };
    for (const r of list) {
      rooms[r.id] = r;
      if (lastSeq[r.id] === undefined) lastSeq[r.id] = r.lastSeq ?? 0;
    }
    // A DM's other person comes with the room (`peer`): no member list to fetch.
    const dmPeers = { ...get().dmPeers };
    for (const r of list) if (r.isDirect && r.peer) dmPeers[r.id] = r.peer;
    set({ rooms, lastSeq, dmPeers });
  }

  async function refreshRooms(): Promise<void> {
    const { rooms } = await deps.rest.rooms();
    upsertRooms(rooms, true);
  }

  function scheduleRefreshRooms(): void {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refreshRooms().catch(() => undefined);
    }, 300);
  }

  async function loadMembers(roomId: Id): Promise<void> {
    const { members } = await deps.rest.members(roomId);
    const me = get().me;
    const presence = { ...get().presence };
    for (const m of members) presence[m.user.id] = { online: m.online, lastSeen: m.lastSeen };
    // Read cursors as the server knows them, so "Seen by" is right from the
    // start; live `message:read` events only ever move them forward.
    const cursors = { ...(get().readCursors[roomId] ?? {}) };
    for (const m of members) cursors[m.user.id] = Math.max(cursors[m.user.id] ?? 0, m.lastReadSeq ?? 0);
    const patch: Partial<ChatState> = {
      members: { ...get().members, [roomId]: members },
      presence,
      readCursors: { ...get().readCursors, [roomId]: cursors },
    };
    const room = get().rooms[roomId];
    if (room?.isDirect) {
      const peer = members.find((m) => m.user.id !== me?.id)?.user ?? members[0]?.user;
      if (peer) patch.dmPeers = { ...get().dmPeers, [roomId]: peer };
    }
    set(patch);
  }

  async function loadNewest(roomId: Id, replace: boolean): Promise<void> {
    if (!get().timelines[roomId]) set({ timelines: { ...get().timelines, [roomId]: emptyTimeline() } });
    const page = await deps.rest.messages({ roomId, limit: 50 });
    patchTimeline(roomId, (tl) => {
      let next = applyNewestPage(tl, page.messages, page.hasMore, replace);
      if (!tl.loaded || replace) {
        const room = get().rooms[roomId];
        const me = get().me;
        next = { ...next, markerSeq: room && me ? unreadMarkerSeq(next.messages, room.unread, me.id) : null };
      }
      return next;
    });
    maybeMarkRead();
  }

  async function loadOlder(roomId: Id): Promise<void> {
    const tl = get().timelines[roomId];
    if (!tl || !tl.loaded || tl.loadingOlder || !tl.hasMore) return;
    const oldest = tl.messages.find((m) => m.status !== 'pending' && m.status !== 'failed');
    if (!oldest) return;
    patchTimeline(roomId, (t) => ({ ...t, loadingOlder: true }));
    try {
      const page = await deps.rest.messages({ roomId, before: oldest.seq, limit: 50 });
      patchTimeline(roomId, (t) => prependOlder(t, page.messages, page.hasMore));
    } catch (e) {
      patchTimeline(roomId, (t) => ({ ...t, loadingOlder: false }));
      throw e;
    }
  }

  async function loadNewer(roomId: Id): Promise<void> {
    const tl = get().timelines[roomId];
    if (!tl || !tl.hasNewer || tl.loadingNewer) return;
    const after = newestSeq(tl.messages);
    if (after === null) return;
    patchTimeline(roomId, (t) => ({ ...t, loadingNewer: true }));
    try {
      const page = await deps.rest.messages({ roomId, after, limit: 50 });
      patchTimeline(roomId, (t) => appendNewer(t, page.messages, page.hasMore));
      maybeMarkRead();
    } catch (e) {
      patchTimeline(roomId, (t) => ({ ...t, loadingNewer: false }));
      throw e;
    }
  }

  /** Opens a room at one message (a search result), highlighted, history around it. */
  async function jumpTo(roomId: Id, seq: number): Promise<void> {
    set({ activeRoomId: roomId, atBottom: false });
    if (!get().timelines[roomId]) set({ timelines: { ...get().timelines, [roomId]: emptyTimeline() } });
    void loadMembers(roomId).catch(() => undefined);
    const page = await deps.rest.messages({ roomId, around: seq, limit: 50 });
    patchTimeline(roomId, (tl) =>
      applyAroundPage(tl, page.messages, page.hasMoreBefore ?? page.hasMore, page.hasMoreAfter ?? false, seq),
    );
  }

  // ---- room changes and catch-up ----

  /** Applies a change whose order is already checked. */
  function applyOrdered(change: RoomChange, live: boolean): void {
    const s = get();
    set({ lastSeq: { ...s.lastSeq, [change.roomId]: change.eventSeq } });
    if (change.kind === 'room') {
      const { name, description, isPrivate } = change;
      patchRoom(change.roomId, (r) => ({ ...r, name, description, isPrivate }));
      return;
    }
    const tl = s.timelines[change.roomId];
    const isNew = change.kind === 'new' && !tl?.messages.some((m) => m.id === change.message.id);
    // A list opened at an older message gets new ones when it loads up to them.
    const detached = tl?.hasNewer && change.kind === 'new';
    if (tl && !detached) patchTimeline(change.roomId, (t) => ({ ...t, messages: applyChange(t.messages, change, nowIso()) }));
    if (change.kind === 'new' && isNew) onNewMessage(change.message, live);
  }

  function onNewMessage(m: Message, live: boolean): void {
    const s = get();
    const me = s.me;
    if (!me || m.userId === me.id) return;
    const known = s.members[m.roomId];
    if (known && !known.some((x) => x.user.id === m.userId)) void loadMembers(m.roomId).catch(() => undefined);
    const looking = s.activeRoomId === m.roomId && s.atBottom && visible;
    if (!looking) {
      patchRoom(m.roomId, (r) => ({
        ...r,
        unread: (r.unread || 0) + 1,
        mentions: (r.mentions || 0) + (m.mentions?.includes(me.id) ? 1 : 0),
      }));
      if (s.activeRoomId === m.roomId) {
        patchTimeline(m.roomId, (t) => (t.markerSeq === null ? { ...t, markerSeq: m.seq } : t));
      }
    }
    if (live && s.activeRoomId === m.roomId) {
      const who = m.user?.name || m.user?.username || 'Someone';
      announce(`${who}: ${m.deletedAt ? 'message deleted' : m.content.slice(0, 140)}`);
    }
    // Typing ends when their message arrives.
    clearTyping(m.roomId, m.userId);
    if (looking) maybeMarkRead();
  }

  function announce(text: string): void {
    announceId += 1;
    set({ announcement: { id: announceId, text } });
  }

  function onRoomChange(change: RoomChange): void {
    if (!get().rooms[change.roomId]) {
      scheduleRefreshRooms();
      return;
    }
    const verdict = gate(get().lastSeq[change.roomId], change.eventSeq);
    if (verdict === 'apply') applyOrdered(change, true);
    else if (verdict === 'gap') void syncRooms([change.roomId]);
  }

  /**
   * Asks the server for every change after our last eventSeq (all rooms, or some), and
   * applies them in order through the same gate, so nothing is applied twice. Rooms the
   * server says are too far behind reload their newest page.
   */
  async function syncRooms(only?: Id[]): Promise<void> {
    const ids = only ?? Object.keys(get().rooms);
    if (syncInFlight) {
      for (const id of ids) syncAgain.add(id);
      return;
    }
    if (ids.length === 0) return;
    syncInFlight = true;
    set({ syncing: true });
    try {
      const req: Record<Id, number> = {};
      for (const id of ids) req[id] = get().lastSeq[id] ?? 0;
      const res = await deps.realtime.sync(req);
      if (!res.ok) throw new Error(res.error.message);
      for (const e of res.events ?? []) {
        const change = syncEventToChange(e);
        if (!change || !get().rooms[change.roomId]) continue;
        const v = gate(get().lastSeq[change.roomId], change.eventSeq);
        if (v === 'duplicate') continue;
        applyOrdered(change, false);
      }
      for (const roomId of res.reset ?? []) await resetRoom(roomId);
    } catch {
      for (const id of ids) syncAgain.add(id);
      setTimeout(() => void flushSyncAgain(), 3000);
    } finally {
      syncInFlight = false;
      set({ syncing: false });
    }
    await flushSyncAgain();
  }

  async function flushSyncAgain(): Promise<void> {
    if (syncInFlight || syncAgain.size === 0) return;
    const again = [...syncAgain];
    syncAgain = new Set();
    await syncRooms(again);
  }

  async function resetRoom(roomId: Id): Promise<void> {
    const { room } = await deps.rest.room(roomId);
    set({ rooms: { ...get().rooms, [roomId]: room }, lastSeq: { ...get().lastSeq, [roomId]: room.lastSeq } });
    if (get().timelines[roomId]) await loadNewest(roomId, true);
  }

  // ---- reading ----

  function maybeMarkRead(): void {
    const s = get();
    const roomId = s.activeRoomId;
    if (!roomId || !s.atBottom || !visible) return;
    const tl = s.timelines[roomId];
    if (!tl?.loaded || tl.hasNewer) return;
    const last = lastStored(tl.messages);
    if (!last) return;
    const room = s.rooms[roomId];
    if ((readSent[roomId] ?? -1) >= last.seq && !room?.unread) return;
    readSent[roomId] = last.seq;
    if (room && (room.unread || room.mentions)) patchRoom(roomId, (r) => ({ ...r, unread: 0, mentions: 0 }));
    void deps.realtime.markRead(last.id);
  }

  // ---- typing ----

  function clearTyping(roomId: Id, userId: Id): void {
    const key = `${roomId}/${userId}`;
    const t = typingTimers.get(key);
    if (t) clearTimeout(t);
    typingTimers.delete(key);
    const room = get().typing[roomId];
    if (!room || !room[userId]) return;
    const { [userId]: _gone, ...rest } = room;
    void _gone;
    set({ typing: { ...get().typing, [roomId]: rest } });
  }

  // ---- sending ----

  async function sendLocal(local: ChatMessage): Promise<void> {
    const clientId = local.clientId!;
    const res = await deps.realtime.sendMessage({
      roomId: local.roomId,
      content: local.content,
      clientId,
      ...(local.replyToId ? { replyToId: local.replyToId } : {}),
      ...(local.type !== 'text' ? { type: local.type } : {}),
      ...(local.fileUrl ? { fileUrl: local.fileUrl } : {}),
    });
    if (res.ok && res.message) {
      patchTimeline(local.roomId, (t) => ({ ...t, messages: acknowledge(t.messages, clientId, res.message) }));
    } else if (!res.ok) {
      patchTimeline(local.roomId, (t) => ({
        ...t,
        messages: setLocalStatus(t.messages, clientId, 'failed', res.error?.message ?? 'Not sent'),
      }));
    }
  }

  const handlers: RealtimeHandlers = {
    onConnected() {
      // Catch up first, then take the server's counts (they include what sync brought).
      void syncRooms()
        .then(() => refreshRooms())
        .catch(() => undefined);
    },
    onAuthFailed() {
      /* the session layer decides */
    },
    onRoomChange,
    onDmNew(m) {
      if (!get().rooms[m.roomId]) {
        scheduleRefreshRooms();
        return;
      }
      if (get().timelines[m.roomId]) {
        // dm:new has no eventSeq: merge by id only (message:new for the same message dedupes).
        const known = get().timelines[m.roomId]!.messages.some((x) => x.id === m.id);
        patchTimeline(m.roomId, (t) => ({ ...t, messages: applyChange(t.messages, { kind: 'new', roomId: m.roomId, eventSeq: 0, message: m }, nowIso()) }));
        if (!known) onNewMessage(m, true);
      }
    },
    onRead(p) {
      const cur = get().readCursors[p.roomId] ?? {};
      if ((cur[p.userId] ?? -1) >= p.seq) return;
      set({ readCursors: { ...get().readCursors, [p.roomId]: { ...cur, [p.userId]: p.seq } } });
    },
    onTypingStart(p) {
      if (p.userId === get().me?.id) return;
      const key = `${p.roomId}/${p.userId}`;
      const old = typingTimers.get(key);
      if (old) clearTimeout(old);
      typingTimers.set(
        key,
        setTimeout(() => clearTyping(p.roomId, p.userId), TYPING_EXPIRY_MS + 500),
      );
      const room = get().typing[p.roomId] ?? {};
      set({
        typing: {
          ...get().typing,
          [p.roomId]: { ...room, [p.userId]: { username: p.username, until: deps.now() + TYPING_EXPIRY_MS } },
        },
      });
    },
    onTypingStop(p) {
      clearTyping(p.roomId, p.userId);
    },
    onUserOnline(p) {
      set({ presence: { ...get().presence, [p.userId]: { online: true, lastSeen: null } } });
    },
    onUserOffline(p) {
      set({ presence: { ...get().presence, [p.userId]: { online: false, lastSeen: p.lastSeen } } });
    },
    onRoomJoined(room) {
      upsertRooms([room], false);
    },
    onUserJoined(p) {
      const list = get().members[p.roomId];
      if (!list || list.some((m) => m.user.id === p.user.id)) return;
      const member: Member = {
        user: p.user,
        role: 'member',
        online: true,
        lastSeen: null,
        joinedAt: nowIso(),
        lastReadSeq: get().rooms[p.roomId]?.lastSeq ?? 0,
      };
      set({ members: { ...get().members, [p.roomId]: [...list, member] } });
    },
    onUserLeft(p) {
      // Sent when a member leaves or is removed, and also when one of their sockets
      // only unsubscribes (`room:leave`, membership stays): ask the server who is in.
      if (get().members[p.roomId]) void loadMembers(p.roomId).catch(() => undefined);
    },
    onUnread(p) {
      patchRoom(p.roomId, (r) => ({ ...r, unread: p.unread, mentions: p.mentions }));
    },
    onNotification(p) {
      if (!get().rooms[p.roomId]) scheduleRefreshRooms();
    },
    onServerError() {
      /* surfaced through acks where it matters */
    },
  };

  const actions = {
    handlers,
    loadMembers,
    loadOlder,
    loadNewer,
    jumpTo,
    /** Leaves a list opened at a message for the newest page. */
    async jumpToNewest(roomId: Id): Promise<void> {
      await loadNewest(roomId, true);
      set({ scrollNonce: get().scrollNonce + 1 });
    },
    refreshRooms,
    syncRooms,

    async start(me: User): Promise<void> {
      set({ me });
      await refreshRooms();
    },

    reset(): void {
      for (const t of typingTimers.values()) clearTimeout(t);
      typingTimers.clear();
      for (const k of Object.keys(readSent)) delete readSent[k];
      set(initialState());
    },

    addRoom(room: Room): void {
      upsertRooms([room], false);
    },

    removeRoom(roomId: Id): void {
      const rooms = { ...get().rooms };
      delete rooms[roomId];
      set({ rooms, activeRoomId: get().activeRoomId === roomId ? null : get().activeRoomId });
    },

    async openRoom(roomId: Id): Promise<void> {
      if (get().activeRoomId === roomId && get().timelines[roomId]) return;
      set({ activeRoomId: roomId, atBottom: true });
      const tasks: Promise<unknown>[] = [loadMembers(roomId).catch(() => undefined)];
      const tl = get().timelines[roomId];
      if (!tl || !tl.loaded) tasks.push(loadNewest(roomId, false));
      else if (tl.hasNewer || tl.focusSeq !== null) tasks.push(loadNewest(roomId, true));
      else {
        const room = get().rooms[roomId];
        const me = get().me;
        patchTimeline(roomId, (t) => ({
          ...t,
          markerSeq: room && me ? unreadMarkerSeq(t.messages, room.unread, me.id) : null,
        }));
        maybeMarkRead();
      }
      await Promise.all(tasks);
    },

    setAtBottom(atBottom: boolean): void {
      if (get().atBottom !== atBottom) set({ atBottom });
      if (atBottom) maybeMarkRead();
    },

    setVisible(v: boolean): void {
      visible = v;
      if (v) maybeMarkRead();
    },

    /** Optimistic send: shows at once as pending; sent on ack; failed on error/timeout. */
    send(roomId: Id, content: string, opts: { replyTo?: ChatMessage | null; type?: 'image' | 'file'; fileUrl?: string } = {}): string {
      const me = get().me;
      if (!me) throw new Error('not signed in');
      const clientId = deps.uuid();
      const at = nowIso();
      const reply = opts.replyTo ?? null;
      const local: ChatMessage = {
        id: `local:${clientId}`,
        roomId,
        userId: me.id,
        seq: Number.MAX_SAFE_INTEGER,
        content,
        type: opts.type ?? 'text',
        fileUrl: opts.fileUrl ?? null,
        replyToId: reply?.id ?? null,
        replyTo: reply ? { id: reply.id, content: reply.content, user: { username: reply.user.username } } : null,
        user: me,
        reactions: [],
        mentions: [],
        clientId,
        createdAt: at,
        updatedAt: at,
        status: 'pending',
      };
      if (!get().timelines[roomId]) set({ timelines: { ...get().timelines, [roomId]: { ...emptyTimeline(), loaded: true } } });
      patchTimeline(roomId, (t) => ({ ...t, messages: addLocal(t.messages, local), markerSeq: null }));
      set({ scrollNonce: get().scrollNonce + 1 });
      void sendLocal(local);
      return clientId;
    },

    /** Retries a failed message with the same clientId, so it can never be stored twice. */
    retry(roomId: Id, clientId: string): void {
      const tl = get().timelines[roomId];
      const local = tl?.messages.find((m) => m.clientId === clientId && m.status === 'failed');
      if (!local) return;
      patchTimeline(roomId, (t) => ({ ...t, messages: setLocalStatus(t.messages, clientId, 'pending') }));
      void sendLocal({ ...local, status: 'pending' });
    },

    discard(roomId: Id, clientId: string): void {
      patchTimeline(roomId, (t) => ({
        ...t,
        messages: t.messages.filter((m) => !(m.clientId === clientId && m.status === 'failed')),
      }));
    },

    async edit(messageId: Id, content: string): Promise<string | null> {
      const res = await deps.realtime.editMessage(messageId, content);
      if (!res.ok) return res.error.message;
      return null;
    },

    async remove(messageId: Id): Promise<string | null> {
      const res = await deps.realtime.deleteMessage(messageId);
      return res.ok ? null : res.error.message;
    },

    async react(messageId: Id, emoji: string): Promise<string | null> {
      const res = await deps.realtime.react(messageId, emoji);
      return res.ok ? null : res.error.message;
    },

    async joinRoom(room: Room): Promise<void> {
      const res = await deps.rest.joinRoom(room.id).catch(() => null);
      upsertRooms([res?.room ?? room], false);
      const ack = await deps.realtime.joinRoom(room.id);
      if (ack.ok && ack.room) upsertRooms([ack.room], false);
    },

    async subscribe(room: Room): Promise<void> {
      upsertRooms([room], false);
      const ack = await deps.realtime.joinRoom(room.id);
      if (ack.ok && ack.room) upsertRooms([ack.room], false);
    },

    async leaveRoom(roomId: Id): Promise<void> {
      await deps.rest.leaveRoom(roomId);
      actions.removeRoom(roomId);
    },
  };

  return { store, ...actions };
}
