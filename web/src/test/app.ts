// Test harness: every store and the session controller (createApp) on fakes.
// Fakes of the REST client, the socket connection and the browser hooks, with a log of calls.
import { vi } from 'vitest';
import type { RestApi } from '../api/rest';
import type { RealtimeApi, RealtimeHandlers } from '../api/socket';
import type { Ack, Message, SendMessagePayload, SyncResult } from '../api/types';
import { createApp } from '../state/app';
import { msg, room } from './fixtures';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets pending promise chains (and zero-delay timers) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}

export function setup(opts: { roomLastSeq?: number; page?: Message[] } = {}) {
  /** What happened to the outside world, in order (for teardown order checks). */
  const log: string[] = [];
  const sends: { payload: SendMessagePayload; ack: Deferred<Ack<{ message: Message }>> }[] = [];
  const syncCalls: Record<string, number>[] = [];
  let syncReply: (req: Record<string, number>) => Ack<SyncResult> = () => ({ ok: true, events: [], reset: [] });
  const realtime: RealtimeApi = {
    sendMessage: (payload) => {
      const ack = deferred<Ack<{ message: Message }>>();
      sends.push({ payload, ack });
      return ack.promise;
    },
    editMessage: async () => ({ ok: true }),
    deleteMessage: async () => ({ ok: true }),
    react: async () => ({ ok: true }),
    markRead: vi.fn(async () => ({ ok: true }) as const),
    typingStart: () => undefined,
    typingStop: () => undefined,
    joinRoom: async () => ({ ok: true }),
    focus: async () => ({ ok: true }),
    sync: async (rooms) => {
      syncCalls.push({ ...rooms });
      return syncReply(rooms);
    },
  };
  const r1 = room({ lastSeq: opts.roomLastSeq ?? 2 });
  const pages: Message[][] = [opts.page ?? [msg(1), msg(2)]];
  const restFake = {
    rooms: vi.fn(async () => ({ rooms: [r1] })),
    room: async () => ({ room: { ...r1, lastSeq: 600 } }),
    members: async () => ({ members: [] }),
    messages: vi.fn(async () => ({ messages: pages.shift() ?? [], hasMore: false })),
    me: vi.fn(async () => ({ user: null })),
    logout: vi.fn(async () => log.push('rest.logout')),
    logoutAll: vi.fn(async () => log.push('rest.logoutAll')),
  } as unknown as RestApi;

  let handlers: RealtimeHandlers | null = null;
  const connection = {
    start: vi.fn((_token: string | null, h: RealtimeHandlers) => {
      handlers = h;
      log.push('connection.start');
    }),
    stop: vi.fn(() => {
      handlers = null;
      log.push('connection.stop');
    }),
  };
  const focus = { setRoom: vi.fn(), stop: vi.fn(() => log.push('focus.stop')) };
  const signedOut = vi.fn(() => log.push('signedOut'));
  const forgetPush = vi.fn(async () => void log.push('forgetPush'));
  const notify = vi.fn();
  const focusReports = vi.fn(() => focus);

  let n = 0;
  const app = createApp({
    rest: restFake,
    realtime,
    connection,
    upload: () => ({ promise: new Promise(() => undefined), abort: () => undefined }),
    uuid: () => `client-${++n}`,
    now: () => Date.UTC(2025, 0, 2),
    signedOut,
    forgetPush,
    notify,
    focusReports,
  });
  return {
    app,
    ...app,
    log,
    realtime,
    /** Replaces some REST calls for one test. */
    stubRest: (over: Partial<Record<keyof RestApi, unknown>>) => Object.assign(restFake, over),
    sends,
    syncCalls,
    pages,
    restFake,
    connection,
    focus,
    focusReports,
    signedOut,
    forgetPush,
    notify,
    setSync: (f: typeof syncReply) => (syncReply = f),
    /** The handlers the controller gave the (fake) socket: what the server "sends". */
    server: (): RealtimeHandlers => {
      if (!handlers) throw new Error('not connected');
      return handlers;
    },
    connected: () => handlers !== null,
    messages: () => app.timelines.store.getState().timelines['r1']?.messages ?? [],
  };
}

export type Harness = ReturnType<typeof setup>;
