// The session controller: a signed-in session's connection lifecycle and its socket events.
// It loads the rooms, connects, catches up on every (re)connect, stops and logs out, and
// routes each socket event to the store action that handles it (plus page notifications
// and focus reports).
import { createStore } from 'zustand/vanilla';
import { ApiError, type RestApi } from '../api/rest';
import type { RealtimeHandlers } from '../api/socket';
import type { Id, Message, Room, User } from '../api/types';
import { notifies } from '../lib/attention';
import type { PresenceStore } from './presence';
import type { RoomsStore } from './rooms';
import type { SyncStore } from './sync';
import type { TimelinesStore } from './timelines';
import type { TypingStore } from './typing';

/** The part of the socket connection the controller drives (api/socket's `connection`). */
export interface ConnectionControl {
  start(token: string | null, handlers: RealtimeHandlers): void;
  stop(): void;
}

export interface FocusReports {
  setRoom(id: Id | null): void;
  stop(): void;
}

export interface ControllerDeps {
  connection: ConnectionControl;
  rest: Pick<RestApi, 'me' | 'logout' | 'logoutAll'>;
  rooms: RoomsStore;
  timelines: TimelinesStore;
  sync: SyncStore;
  presence: PresenceStore;
  typing: TypingStore;
  /** Ends the auth session (state/session's `signedOut`). */
  signedOut: () => void;
  /** This browser stops getting the signed-out user's pushes (lib/push). */
  forgetPush: () => Promise<void>;
  /** A notification from the page (lib/attention's `pageNotify`). */
  notify: (room: Room | undefined, title: string, message: Message, onOpen: () => void) => void;
  /** Keeps the server told which room this tab looks at (lib/attention's `startFocusReports`). */
  focusReports: (initial: Id | null) => FocusReports;
}

/** `starting`: loading the rooms; `ready`: loaded and connecting or connected. */
export type SessionPhase = 'idle' | 'starting' | 'ready' | 'failed';

export interface ControllerState {
  phase: SessionPhase;
  /** Why the rooms could not be loaded (phase `failed`). */
  error: string | null;
}

const isUnauthorized = (e: unknown) => e instanceof ApiError && e.status === 401;

export function createSessionController(deps: ControllerDeps) {
  const { rooms, timelines, sync, presence, typing } = deps;
  const store = createStore<ControllerState>(() => ({ phase: 'idle', error: null }));
  /** Bumped by every start and stop, so a start that was stopped meanwhile never connects. */
  let generation = 0;
  let focus: { reports: FocusReports; unsubscribe: () => void } | null = null;

  function startFocusReports(): void {
    if (focus) return;
    const reports = deps.focusReports(rooms.store.getState().activeRoomId);
    const unsubscribe = rooms.store.subscribe((s, prev) => {
      if (s.activeRoomId !== prev.activeRoomId) reports.setRoom(s.activeRoomId);
    });
    focus = { reports, unsubscribe };
  }

  /** While the tab is hidden (and without Web Push here), the page notifies. */
  function notifyPage(roomId: Id, kind: 'dm' | 'mention' | 'message', message: Message): void {
    const r = rooms.store.getState().rooms[roomId];
    const name = message.user.name || message.user.username;
    const title = kind === 'dm' || r?.isDirect ? name : `${name} in #${r?.name ?? ''}`;
    deps.notify(r, title, message, () => void timelines.openRoom(roomId));
  }

  function handlers(user: User): RealtimeHandlers {
    return {
      onConnected() {
        // Catch up first, then take the server's counts (they include what sync brought).
        void sync
          .syncRooms()
          .then(() => rooms.refresh())
          .catch(() => undefined);
      },
      onAuthFailed() {
        // The socket was refused: signed out only if the REST session says so too.
        deps.rest.me().catch((e: unknown) => {
          if (isUnauthorized(e)) deps.signedOut();
        });
      },
      onRoomChange(c) {
        sync.receive(c);
        // every message notifies as far as its room's level lets it (DMs at their default
        // `all`); mentions come with the `notification` event instead
        if (c.kind !== 'new' || c.message.userId === user.id) return;
        const r = rooms.store.getState().rooms[c.roomId];
        const mentioned = c.message.mentions.includes(user.id);
        if (!r || mentioned || !notifies(r.notifications, r.isDirect, false)) return;
        notifyPage(c.roomId, r.isDirect ? 'dm' : 'message', c.message);
      },
      onDmNew(m) {
        if (!rooms.store.getState().rooms[m.roomId]) rooms.scheduleRefresh();
        // dm:new has no eventSeq: merged by id (its message:new dedupes)
        else timelines.mergeUnsequenced(m);
      },
      onRead: (p) => rooms.read(p),
      onTypingStart: (p) => typing.started(p),
      onTypingStop: (p) => typing.clear(p.roomId, p.userId),
      onUserOnline: (p) => presence.online(p.userId),
      onUserOffline: (p) => presence.offline(p.userId, p.lastSeen),
      onRoomJoined: (room) => rooms.add(room),
      onUserJoined: (p) => rooms.userJoined(p),
      onUserLeft: (p) => rooms.userLeft(p),
      onUnread: (p) => rooms.setUnread(p.roomId, p.unread, p.mentions),
      onNotification(p) {
        const r = rooms.store.getState().rooms[p.roomId];
        if (!r) rooms.scheduleRefresh();
        if (p.kind !== 'mention' || r?.notifications === 'none') return;
        notifyPage(p.roomId, p.kind, p.message);
      },
      onServerError() {
        /* surfaced through acks where it matters */
      },
    };
  }

  /** Disconnects and forgets everything the session's stores hold. Idempotent. */
  function stop(): void {
    generation += 1;
    deps.connection.stop();
    if (focus) {
      focus.unsubscribe();
      focus.reports.stop();
      focus = null;
    }
    typing.reset();
    timelines.reset();
    sync.reset();
    presence.reset();
    rooms.reset();
    store.setState({ phase: 'idle', error: null });
  }

  function signedOut(): void {
    deps.signedOut();
    stop();
  }

  return {
    store,
    stop,

    /** Loads the user's rooms, then connects (each connect syncs every room). */
    async start(user: User, token: string | null): Promise<void> {
      const run = ++generation;
      store.setState({ phase: 'starting', error: null });
      rooms.setMe(user);
      startFocusReports();
      try {
        await rooms.refresh();
      } catch (e) {
        if (isUnauthorized(e)) deps.signedOut();
        else if (run === generation) store.setState({ phase: 'failed', error: e instanceof Error ? e.message : 'Could not load your rooms.' });
        return;
      }
      if (run !== generation) return;
      store.setState({ phase: 'ready' });
      deps.connection.start(token, handlers(user));
    },

    async logout(): Promise<void> {
      await deps.forgetPush();
      try {
        await deps.rest.logout();
      } catch {
        /* signed out locally anyway */
      }
      signedOut();
    },

    /** "Sign out everywhere": every session of the account, this one too. */
    async logoutEverywhere(): Promise<void> {
      try {
        await deps.rest.logoutAll();
      } catch {
        /* signed out locally anyway */
      }
      signedOut();
    },
  };
}

export type SessionController = ReturnType<typeof createSessionController>;
