// Timelines store: each room's messages, the reader's position, new-message effects, marking read.
// Pages: newest, older, newer, and the page around a search result; a new message counts as
// unread unless looked at, moves the marker and is announced.
import { createStore } from 'zustand/vanilla';
import type { RestApi } from '../api/rest';
import type { RealtimeApi } from '../api/socket';
import type { Id, Message, RoomChange } from '../api/types';
import type { RoomsStore } from './rooms';
import {
  applyAroundPage,
  applyChange,
  applyNewestPage,
  appendNewer,
  emptyTimeline,
  lastStored,
  newestSeq,
  prependOlder,
  unreadMarkerSeq,
  type Timeline,
} from './timeline';
import type { TypingStore } from './typing';

export interface TimelinesState {
  timelines: Record<Id, Timeline>;
  /** Bumped when the active room should scroll to its newest message. */
  scrollNonce: number;
  /** Is the user looking at the newest message of the active room? */
  atBottom: boolean;
  /** Latest announcement for the screen-reader live region. */
  announcement: { id: number; text: string } | null;
}

export interface TimelinesDeps {
  rest: Pick<RestApi, 'messages'>;
  realtime: Pick<RealtimeApi, 'markRead'>;
  rooms: RoomsStore;
  typing: TypingStore;
  now: () => number;
}

function initialState(): TimelinesState {
  return { timelines: {}, scrollNonce: 0, atBottom: true, announcement: null };
}

export function createTimelines(deps: TimelinesDeps) {
  const store = createStore<TimelinesState>(() => initialState());
  const get = store.getState;
  const set = store.setState;
  const roomsState = () => deps.rooms.store.getState();
  const readSent: Record<Id, number> = {};
  let announceId = 0;
  let visible = true;

  function patch(roomId: Id, f: (tl: Timeline) => Timeline): void {
    const tl = get().timelines[roomId];
    if (!tl) return;
    const next = f(tl);
    if (next !== tl) set({ timelines: { ...get().timelines, [roomId]: next } });
  }

  /** Gives a room a timeline if it has none yet (`tl` is the one it starts with). */
  function ensure(roomId: Id, tl: Timeline = emptyTimeline()): void {
    if (!get().timelines[roomId]) set({ timelines: { ...get().timelines, [roomId]: tl } });
  }

  function nowIso(): string {
    return new Date(deps.now()).toISOString();
  }

  /** Where the "New messages" marker goes from the room's unread count. */
  function markerFor(roomId: Id, tl: Timeline): number | null {
    const room = roomsState().rooms[roomId];
    const me = roomsState().me;
    return room && me ? unreadMarkerSeq(tl.messages, room.unread, me.id) : null;
  }

  async function loadNewest(roomId: Id, replace: boolean): Promise<void> {
    ensure(roomId);
    const page = await deps.rest.messages({ roomId, limit: 50 });
    patch(roomId, (tl) => {
      let next = applyNewestPage(tl, page.messages, page.hasMore, replace);
      if (!tl.loaded || replace) next = { ...next, markerSeq: markerFor(roomId, next) };
      return next;
    });
    markRead();
  }

  // ---- reading ----

  function markRead(): void {
    const s = get();
    const roomId = roomsState().activeRoomId;
    if (!roomId || !s.atBottom || !visible) return;
    const tl = s.timelines[roomId];
    if (!tl?.loaded || tl.hasNewer) return;
    const last = lastStored(tl.messages);
    if (!last) return;
    const room = roomsState().rooms[roomId];
    if ((readSent[roomId] ?? -1) >= last.seq && !room?.unread) return;
    readSent[roomId] = last.seq;
    if (room && (room.unread || room.mentions)) deps.rooms.setUnread(roomId, 0, 0);
    void deps.realtime.markRead(last.id);
  }

  // ---- arriving messages ----

  function announce(text: string): void {
    announceId += 1;
    set({ announcement: { id: announceId, text } });
  }

  /** A message new to us: counts unread unless looked at, announces it, ends their typing. */
  function received(m: Message, live: boolean): void {
    const rs = roomsState();
    const me = rs.me;
    if (!me || m.userId === me.id) return;
    const known = rs.members[m.roomId];
    if (known && !known.some((x) => x.user.id === m.userId)) void deps.rooms.loadMembers(m.roomId).catch(() => undefined);
    const looking = rs.activeRoomId === m.roomId && get().atBottom && visible;
    if (!looking) {
      deps.rooms.patch(m.roomId, (r) => ({
        ...r,
        unread: (r.unread || 0) + 1,
        mentions: (r.mentions || 0) + (m.mentions?.includes(me.id) ? 1 : 0),
      }));
      if (rs.activeRoomId === m.roomId) {
        patch(m.roomId, (t) => (t.markerSeq === null ? { ...t, markerSeq: m.seq } : t));
      }
    }
    if (live && rs.activeRoomId === m.roomId) {
      const who = m.user?.name || m.user?.username || 'Someone';
      announce(`${who}: ${m.deletedAt ? 'message deleted' : m.content.slice(0, 140)}`);
    }
    // Typing ends when their message arrives.
    deps.typing.clear(m.roomId, m.userId);
    if (looking) markRead();
  }

  return {
    store,
    patch,
    ensure,
    loadNewest,

    /** A message change already in eventSeq order (see the sync store). */
    apply(change: Exclude<RoomChange, { kind: 'room' }>, live: boolean): void {
      const tl = get().timelines[change.roomId];
      const isNew = change.kind === 'new' && !tl?.messages.some((m) => m.id === change.message.id);
      // A list opened at an older message gets new ones when it loads up to them.
      const detached = tl?.hasNewer && change.kind === 'new';
      if (tl && !detached) patch(change.roomId, (t) => ({ ...t, messages: applyChange(t.messages, change, nowIso()) }));
      if (change.kind === 'new' && isNew) received(change.message, live);
    },

    /** A message without an eventSeq (dm:new from an older server): merged by id only. */
    mergeUnsequenced(m: Message): void {
      const tl = get().timelines[m.roomId];
      if (!tl) return;
      const known = tl.messages.some((x) => x.id === m.id);
      const change: RoomChange = { kind: 'new', roomId: m.roomId, eventSeq: 0, message: m };
      patch(m.roomId, (t) => ({ ...t, messages: applyChange(t.messages, change, nowIso()) }));
      if (!known) received(m, true);
    },

    async loadOlder(roomId: Id): Promise<void> {
      const tl = get().timelines[roomId];
      if (!tl || !tl.loaded || tl.loadingOlder || !tl.hasMore) return;
      const oldest = tl.messages.find((m) => m.status !== 'pending' && m.status !== 'failed');
      if (!oldest) return;
      patch(roomId, (t) => ({ ...t, loadingOlder: true }));
      try {
        const page = await deps.rest.messages({ roomId, before: oldest.seq, limit: 50 });
        patch(roomId, (t) => prependOlder(t, page.messages, page.hasMore));
      } catch (e) {
        patch(roomId, (t) => ({ ...t, loadingOlder: false }));
        throw e;
      }
    },

    async loadNewer(roomId: Id): Promise<void> {
      const tl = get().timelines[roomId];
      if (!tl || !tl.hasNewer || tl.loadingNewer) return;
      const after = newestSeq(tl.messages);
      if (after === null) return;
      patch(roomId, (t) => ({ ...t, loadingNewer: true }));
      try {
        const page = await deps.rest.messages({ roomId, after, limit: 50 });
        patch(roomId, (t) => appendNewer(t, page.messages, page.hasMore));
        markRead();
      } catch (e) {
        patch(roomId, (t) => ({ ...t, loadingNewer: false }));
        throw e;
      }
    },

    /** Opens a room at one message (a search result), highlighted, history around it. */
    async jumpTo(roomId: Id, seq: number): Promise<void> {
      deps.rooms.setActive(roomId);
      set({ atBottom: false });
      ensure(roomId);
      void deps.rooms.loadMembers(roomId).catch(() => undefined);
      const page = await deps.rest.messages({ roomId, around: seq, limit: 50 });
      patch(roomId, (tl) =>
        applyAroundPage(tl, page.messages, page.hasMoreBefore ?? page.hasMore, page.hasMoreAfter ?? false, seq),
      );
    },

    /** Leaves a list opened at a message for the newest page. */
    async jumpToNewest(roomId: Id): Promise<void> {
      await loadNewest(roomId, true);
      set({ scrollNonce: get().scrollNonce + 1 });
    },

    async openRoom(roomId: Id): Promise<void> {
      if (roomsState().activeRoomId === roomId && get().timelines[roomId]) return;
      deps.rooms.setActive(roomId);
      set({ atBottom: true });
      const tasks: Promise<unknown>[] = [deps.rooms.loadMembers(roomId).catch(() => undefined)];
      const tl = get().timelines[roomId];
      if (!tl || !tl.loaded) tasks.push(loadNewest(roomId, false));
      else if (tl.hasNewer || tl.focusSeq !== null) tasks.push(loadNewest(roomId, true));
      else {
        patch(roomId, (t) => ({ ...t, markerSeq: markerFor(roomId, t) }));
        markRead();
      }
      await Promise.all(tasks);
    },

    /** Our own message went in: the open list scrolls to it. */
    scrollToNewest(): void {
      set({ scrollNonce: get().scrollNonce + 1 });
    },

    setAtBottom(atBottom: boolean): void {
      if (get().atBottom !== atBottom) set({ atBottom });
      if (atBottom) markRead();
    },

    setVisible(v: boolean): void {
      visible = v;
      if (v) markRead();
    },

    reset(): void {
      for (const k of Object.keys(readSent)) delete readSent[k];
      set(initialState());
    },
  };
}

export type TimelinesStore = ReturnType<typeof createTimelines>;
