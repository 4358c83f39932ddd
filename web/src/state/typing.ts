// Typing indicators: the text shown for who is typing, and a throttle so a keystroke is
// not an event.

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
