// Typing: who is typing per room (a store), our own throttled typing events, the text shown.
// Someone counts as typing until their stop, their message or TYPING_EXPIRY_MS.
import { createStore } from 'zustand/vanilla';
import type { RealtimeApi } from '../api/socket';
import type { Id, TypingStartPayload } from '../api/types';

/** "Ana is typing…", "Ana and Luis are typing…", "Several people are typing…". */
export function formatTyping(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

/** How long a typing:start counts on the server with no stop (docs/CONTRACT.md §3.1). */
export const TYPING_EXPIRY_MS = 6_000;
/** Re-send typing:start at most this often while typing goes on. */
export const TYPING_REFRESH_MS = 4_000;
/** After this long without a keystroke, send typing:stop. */
export const TYPING_IDLE_MS = 3_000;

export interface TypingClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: TypingClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Turns keystrokes into at most one typing:start per TYPING_REFRESH_MS and a typing:stop
 * after TYPING_IDLE_MS of quiet, on send, or on switching rooms.
 */
export class TypingThrottle {
  private roomId: string | null = null;
  private lastStart = 0;
  private idleTimer: unknown = null;

  constructor(
    private readonly emitStart: (roomId: string) => void,
    private readonly emitStop: (roomId: string) => void,
    private readonly clock: TypingClock = realClock,
  ) {}

  keystroke(roomId: string): void {
    if (this.roomId !== null && this.roomId !== roomId) this.stop();
    const now = this.clock.now();
    if (this.roomId === null || now - this.lastStart >= TYPING_REFRESH_MS) {
      this.roomId = roomId;
      this.lastStart = now;
      this.emitStart(roomId);
    }
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = this.clock.setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  stop(): void {
    if (this.idleTimer !== null) {
      this.clock.clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (this.roomId !== null) {
      const r = this.roomId;
      this.roomId = null;
      this.lastStart = 0;
      this.emitStop(r);
    }
  }
}

export interface TypingEntry {
  username: string;
  until: number;
}

export interface TypingState {
  /** Who is typing, per room, per user. */
  typing: Record<Id, Record<Id, TypingEntry>>;
}

export interface TypingDeps {
  realtime: Pick<RealtimeApi, 'typingStart' | 'typingStop'>;
  now: () => number;
  /** The signed-in user (whose own typing events are ignored). */
  myId: () => Id | undefined;
}

export function createTyping(deps: TypingDeps) {
  const store = createStore<TypingState>(() => ({ typing: {} }));
  const get = store.getState;
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const throttle = new TypingThrottle(deps.realtime.typingStart, deps.realtime.typingStop);

  function clear(roomId: Id, userId: Id): void {
    const key = `${roomId}/${userId}`;
    const t = timers.get(key);
    if (t) clearTimeout(t);
    timers.delete(key);
    const room = get().typing[roomId];
    if (!room || !room[userId]) return;
    const { [userId]: _gone, ...rest } = room;
    void _gone;
    store.setState({ typing: { ...get().typing, [roomId]: rest } });
  }

  return {
    store,
    /** Someone else started typing (typing:start): shown until it expires. */
    started(p: TypingStartPayload): void {
      if (p.userId === deps.myId()) return;
      const key = `${p.roomId}/${p.userId}`;
      const old = timers.get(key);
      if (old) clearTimeout(old);
      timers.set(
        key,
        setTimeout(() => clear(p.roomId, p.userId), TYPING_EXPIRY_MS + 500),
      );
      const room = get().typing[p.roomId] ?? {};
      store.setState({
        typing: {
          ...get().typing,
          [p.roomId]: { ...room, [p.userId]: { username: p.username, until: deps.now() + TYPING_EXPIRY_MS } },
        },
      });
    },
    /** They stopped (typing:stop), or their message arrived. */
    clear,
    /** Our keystroke in a room's composer. */
    keystroke(roomId: Id): void {
      throttle.keystroke(roomId);
    },
    /** We stopped typing: sent, emptied the box, left it or switched rooms. */
    stop(): void {
      throttle.stop();
    },
    reset(): void {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      store.setState({ typing: {} });
    },
  };
}

export type TypingStore = ReturnType<typeof createTyping>;
