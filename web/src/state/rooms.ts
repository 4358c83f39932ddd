// Rooms store: me, my rooms (settings, unread counts), the open room, members, read cursors.
// Its actions are the room operations components call (join, leave, create, DMs, settings,
// notifications, member admin) and the room events the controller routes here.
import { createStore } from 'zustand/vanilla';
import { ApiError, type RestApi } from '../api/rest';
import type { RealtimeApi } from '../api/socket';
import type { Id, Member, MessageReadPayload, NotificationLevel, Role, Room, RoomUserPayload, User } from '../api/types';
import type { PresenceStore } from './presence';

export interface RoomsState {
  me: User | null;
  rooms: Record<Id, Room>;
  activeRoomId: Id | null;
  members: Record<Id, Member[]>;
  /** The other user of each DM room. */
  dmPeers: Record<Id, User>;
  /** Read cursor (seq) per room, per user. */
  readCursors: Record<Id, Record<Id, number>>;
}

export interface RoomsDeps {
  rest: RestApi;
  realtime: Pick<RealtimeApi, 'joinRoom'>;
  presence: PresenceStore;
  now: () => number;
}

function initialState(): RoomsState {
  return { me: null, rooms: {}, activeRoomId: null, members: {}, dmPeers: {}, readCursors: {} };
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

export function createRooms(deps: RoomsDeps) {
  const store = createStore<RoomsState>(() => initialState());
  const get = store.getState;
  const set = store.setState;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  function patch(roomId: Id, f: (r: Room) => Room): void {
    const r = get().rooms[roomId];
    if (!r) return;
    set({ rooms: { ...get().rooms, [roomId]: f(r) } });
  }

  /** Adds or refreshes rooms (the sync store starts a cursor for each room it has not seen). */
  function upsert(list: Room[], replaceAll: boolean): void {
    const rooms: Record<Id, Room> = replaceAll ? {} : { ...get().rooms };
    for (const r of list) rooms[r.id] = r;
    // A DM's other person comes with the room (`peer`): no member list to fetch.
    const dmPeers = { ...get().dmPeers };
    for (const r of list) if (r.isDirect && r.peer) dmPeers[r.id] = r.peer;
    set({ rooms, dmPeers });
  }

  async function refresh(): Promise<void> {
    const { rooms } = await deps.rest.rooms();
    upsert(rooms, true);
  }

  async function loadMembers(roomId: Id): Promise<void> {
    const { members } = await deps.rest.members(roomId);
    const me = get().me;
    deps.presence.seed(members);
    // Read cursors as the server knows them, so "Seen by" is right from the
    // start; live `message:read` events only ever move them forward.
    const cursors = { ...(get().readCursors[roomId] ?? {}) };
    for (const m of members) cursors[m.user.id] = Math.max(cursors[m.user.id] ?? 0, m.lastReadSeq ?? 0);
    const next: Partial<RoomsState> = {
      members: { ...get().members, [roomId]: members },
      readCursors: { ...get().readCursors, [roomId]: cursors },
    };
    const room = get().rooms[roomId];
    if (room?.isDirect) {
      const peer = members.find((m) => m.user.id !== me?.id)?.user ?? members[0]?.user;
      if (peer) next.dmPeers = { ...get().dmPeers, [roomId]: peer };
    }
    set(next);
  }

  /** Takes a room and subscribes this connection to it (the ack brings its counts). */
  async function subscribe(room: Room): Promise<void> {
    upsert([room], false);
    const ack = await deps.realtime.joinRoom(room.id);
    if (ack.ok && ack.room) upsert([ack.room], false);
  }

  function remove(roomId: Id): void {
    const rooms = { ...get().rooms };
    delete rooms[roomId];
    set({ rooms, activeRoomId: get().activeRoomId === roomId ? null : get().activeRoomId });
  }

  /** A member-admin call, then the member list as the server now has it. */
  async function thenReloadMembers(roomId: Id, call: Promise<unknown>): Promise<void> {
    await call;
    await loadMembers(roomId);
  }

  return {
    store,
    patch,
    refresh,
    loadMembers,
    subscribe,
    remove,

    setMe(me: User): void {
      set({ me });
    },

    /** Coalesces refreshes asked for by events about rooms we do not know yet. */
    scheduleRefresh(): void {
      if (refreshTimer) return;
      refreshTimer = setTimeout(() => {
        refreshTimer = null;
        void refresh().catch(() => undefined);
      }, 300);
    },

    /** A room we were added to (room:joined), or one we now have a newer copy of. */
    add(room: Room): void {
      upsert([room], false);
    },

    /** Replaces one room wholesale (after a `reset`). */
    replace(room: Room): void {
      set({ rooms: { ...get().rooms, [room.id]: room } });
    },

    setActive(roomId: Id): void {
      set({ activeRoomId: roomId });
    },

    setUnread(roomId: Id, unread: number, mentions: number): void {
      patch(roomId, (r) => ({ ...r, unread, mentions }));
    },

    /** Joins a public room; resolves to the room as we now hold it. */
    async join(room: Room): Promise<Room> {
      const res = await deps.rest.joinRoom(room.id).catch(() => null);
      upsert([res?.room ?? room], false);
      const ack = await deps.realtime.joinRoom(room.id);
      if (ack.ok && ack.room) upsert([ack.room], false);
      return get().rooms[room.id] ?? room;
    },

    async leave(roomId: Id): Promise<void> {
      await deps.rest.leaveRoom(roomId);
      remove(roomId);
    },

    async create(p: { name: string; description: string; isPrivate: boolean }): Promise<Room> {
      const { room } = await deps.rest.createRoom(p);
      await subscribe(room);
      return room;
    },

    /** Opens (or finds) the DM with someone, with its member list. */
    async openDm(userId: Id): Promise<Room> {
      const { room } = await deps.rest.openDm(userId);
      await subscribe(room);
      await loadMembers(room.id).catch(() => undefined);
      return room;
    },

    /** Saves name and description; our own counts and role stay as `room` had them. */
    async saveSettings(room: Room, p: { name: string; description: string }): Promise<void> {
      const { room: updated } = await deps.rest.updateRoom(room.id, p);
      upsert([{ ...room, ...updated, unread: room.unread, mentions: room.mentions, role: room.role }], false);
    },

    async setNotifications(roomId: Id, level: NotificationLevel): Promise<void> {
      const { room: updated } = await deps.rest.setNotifications(roomId, level);
      patch(roomId, (r) => ({ ...r, notifications: updated.notifications }));
    },

    invite(roomId: Id, userId: Id): Promise<void> {
      return thenReloadMembers(roomId, deps.rest.invite(roomId, userId));
    },

    removeMember(roomId: Id, userId: Id): Promise<void> {
      return thenReloadMembers(roomId, deps.rest.removeMember(roomId, userId));
    },

    setRole(roomId: Id, userId: Id, role: Role): Promise<void> {
      return thenReloadMembers(roomId, deps.rest.setRole(roomId, userId, role));
    },

    /** room:user-joined: added to a member list that is loaded. */
    userJoined(p: RoomUserPayload): void {
      const list = get().members[p.roomId];
      if (!list || list.some((m) => m.user.id === p.user.id)) return;
      const member: Member = {
        user: p.user,
        role: 'member',
        online: true,
        lastSeen: null,
        joinedAt: new Date(deps.now()).toISOString(),
        lastReadSeq: get().rooms[p.roomId]?.lastSeq ?? 0,
      };
      set({ members: { ...get().members, [p.roomId]: [...list, member] } });
    },

    /**
     * room:user-left: sent when a member leaves or is removed, and also when one of their
     * sockets only unsubscribes (`room:leave`, membership stays): ask the server who is in.
     * About ourselves (a leave in another tab, a removal), ask whether we still are a member
     * and drop the room if not.
     */
    userLeft(p: RoomUserPayload): void {
      if (p.user.id === get().me?.id && get().rooms[p.roomId]) {
        void deps.rest.room(p.roomId).then(
          ({ room: r }) => {
            if (!r.role) remove(p.roomId);
          },
          (e: unknown) => {
            if (e instanceof ApiError && (e.status === 403 || e.status === 404)) remove(p.roomId);
          },
        );
      }
      if (get().members[p.roomId]) void loadMembers(p.roomId).catch(() => undefined);
    },

    /** message:read: a read cursor only moves forward. */
    read(p: MessageReadPayload): void {
      const cur = get().readCursors[p.roomId] ?? {};
      if ((cur[p.userId] ?? -1) >= p.seq) return;
      set({ readCursors: { ...get().readCursors, [p.roomId]: { ...cur, [p.userId]: p.seq } } });
    },

    reset(): void {
      set(initialState());
    },
  };
}

export type RoomsStore = ReturnType<typeof createRooms>;
