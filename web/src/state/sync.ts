// Sync store: catch-up cursors (last eventSeq applied per room), the order gate, `sync` replay.
// Replay runs on connect and on a gap; rooms too far behind are `reset` (reloaded).
import { createStore } from 'zustand/vanilla';
import type { RestApi } from '../api/rest';
import type { RealtimeApi } from '../api/socket';
import { syncEventToChange } from '../api/socket';
import type { Id, Room, RoomChange } from '../api/types';
import type { RoomsStore } from './rooms';
import { gate } from './timeline';
import type { TimelinesStore } from './timelines';

export interface SyncState {
  /** The last eventSeq applied per room. */
  lastSeq: Record<Id, number>;
  syncing: boolean;
}

export interface SyncDeps {
  rest: Pick<RestApi, 'room'>;
  realtime: Pick<RealtimeApi, 'sync'>;
  rooms: RoomsStore;
  timelines: TimelinesStore;
}

export function createSync(deps: SyncDeps) {
  const store = createStore<SyncState>(() => ({ lastSeq: {}, syncing: false }));
  const get = store.getState;
  const set = store.setState;
  const rooms = () => deps.rooms.store.getState().rooms;

  /** Rooms with a `sync` in flight, and rooms that saw a gap meanwhile. */
  let syncInFlight = false;
  let syncAgain = new Set<Id>();

  // A room's cursor starts at the lastSeq it had when first seen; later listings of the
  // room never move it (only applied changes and a reset do).
  function seed(list: Record<Id, Room>): void {
    let lastSeq: Record<Id, number> | null = null;
    for (const r of Object.values(list)) {
      if (get().lastSeq[r.id] !== undefined) continue;
      lastSeq ??= { ...get().lastSeq };
      lastSeq[r.id] = r.lastSeq ?? 0;
    }
    if (lastSeq) set({ lastSeq });
  }
  deps.rooms.store.subscribe((s, prev) => {
    if (s.rooms !== prev.rooms) seed(s.rooms);
  });

  /** Applies a change whose order is already checked. */
  function applyOrdered(change: RoomChange, live: boolean): void {
    set({ lastSeq: { ...get().lastSeq, [change.roomId]: change.eventSeq } });
    if (change.kind === 'room') {
      const { name, description, isPrivate } = change;
      deps.rooms.patch(change.roomId, (r) => ({ ...r, name, description, isPrivate }));
      return;
    }
    deps.timelines.apply(change, live);
  }

  /** A live room change: the next one applies, an old one is dropped, a gap syncs. */
  function receive(change: RoomChange): void {
    if (!rooms()[change.roomId]) {
      deps.rooms.scheduleRefresh();
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
    const ids = only ?? Object.keys(rooms());
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
        if (!change || !rooms()[change.roomId]) continue;
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
    deps.rooms.replace(room);
    set({ lastSeq: { ...get().lastSeq, [roomId]: room.lastSeq } });
    if (deps.timelines.store.getState().timelines[roomId]) await deps.timelines.loadNewest(roomId, true);
  }

  return {
    store,
    receive,
    syncRooms,
    reset(): void {
      set({ lastSeq: {}, syncing: false });
    },
  };
}

export type SyncStore = ReturnType<typeof createSync>;
