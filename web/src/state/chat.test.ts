import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RealtimeApi } from '../api/socket';
import type { Ack, Message, SendMessagePayload, SyncEvent, SyncResult } from '../api/types';
import { ana, msg, room } from '../test/fixtures';
import { createChat, type RestApi } from './chat';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(opts: { roomLastSeq?: number; page?: Message[] } = {}) {
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
    rooms: async () => ({ rooms: [r1] }),
    room: async () => ({ room: { ...r1, lastSeq: 600 } }),
    members: async () => ({ members: [] }),
    messages: vi.fn(async () => ({ messages: pages.shift() ?? [], hasMore: false })),
  } as unknown as RestApi;
  let n = 0;
  const chat = createChat({ rest: restFake, realtime, uuid: () => `client-${++n}`, now: () => Date.UTC(2025, 0, 2) });
  return {
    chat,
    sends,
    syncCalls,
    pages,
    restFake,
    setSync: (f: typeof syncReply) => (syncReply = f),
    messages: () => chat.store.getState().timelines['r1']?.messages ?? [],
  };
}

async function flush() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}

describe('optimistic send', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await t.chat.start(ana);
    await t.chat.openRoom('r1');
  });

  it('goes pending → sent on ack, keeping one copy', async () => {
    const clientId = t.chat.send('r1', 'hello');
    let mine = t.messages().filter((m) => m.clientId === clientId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.status).toBe('pending');
    expect(t.sends[0]!.payload).toMatchObject({ roomId: 'r1', content: 'hello', clientId });

    const stored = msg(3, { userId: ana.id, user: ana, content: 'hello', clientId });
    // The broadcast can arrive before the ack: still one message.
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: stored });
    t.sends[0]!.ack.resolve({ ok: true, message: stored });
    await flush();
    mine = t.messages().filter((m) => m.clientId === clientId || m.id === stored.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.status).toBe('sent');
    expect(mine[0]!.id).toBe('m3');
  });

  it('goes pending → failed on an error ack, and retry reuses the same clientId', async () => {
    const clientId = t.chat.send('r1', 'hello');
    t.sends[0]!.ack.resolve({ ok: false, error: { code: 'timeout', message: 'The server did not answer in time' } });
    await flush();
    const failed = t.messages().find((m) => m.clientId === clientId)!;
    expect(failed.status).toBe('failed');
    expect(failed.sendError).toMatch(/did not answer/);

    t.chat.retry('r1', clientId);
    expect(t.messages().find((m) => m.clientId === clientId)!.status).toBe('pending');
    expect(t.sends).toHaveLength(2);
    expect(t.sends[1]!.payload.clientId).toBe(clientId);

    // The server had stored the first try after all: the replay acks the same message.
    const stored = msg(3, { userId: ana.id, user: ana, content: 'hello', clientId });
    t.sends[1]!.ack.resolve({ ok: true, message: stored });
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: stored });
    await flush();
    expect(t.messages().map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(t.messages()[2]!.status).toBe('sent');
  });

  it('a failed message can be discarded', async () => {
    const clientId = t.chat.send('r1', 'oops');
    t.sends[0]!.ack.resolve({ ok: false, error: { code: 'invalid', message: 'bad' } });
    await flush();
    t.chat.discard('r1', clientId);
    expect(t.messages().some((m) => m.clientId === clientId)).toBe(false);
  });
});

describe('catch-up', () => {
  afterEach(() => vi.useRealTimers());

  it('applies sync events in order, skipping what it already has', async () => {
    const t = setup();
    await t.chat.start(ana);
    await t.chat.openRoom('r1');
    // A live message arrives (seq 3), then the socket reconnects.
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) });
    const events: SyncEvent[] = [
      { eventSeq: 3, roomId: 'r1', event: 'message:new', data: { ...msg(3), eventSeq: 3 } },
      { eventSeq: 4, roomId: 'r1', event: 'message:new', data: { ...msg(4), eventSeq: 4 } },
      { eventSeq: 5, roomId: 'r1', event: 'message:updated', data: { ...msg(4), content: 'v2', updatedAt: '2030-01-01T00:00:00Z', eventSeq: 5 } },
      { eventSeq: 6, roomId: 'r1', event: 'message:deleted', data: { messageId: 'm1', roomId: 'r1', eventSeq: 6 } },
      { eventSeq: 7, roomId: 'r1', event: 'message:reactions', data: { messageId: 'm2', roomId: 'r1', reactions: [{ emoji: '🎉', count: 1, userIds: ['x'] }], eventSeq: 7 } },
      { eventSeq: 8, roomId: 'r1', event: 'message:new', data: { ...msg(8), eventSeq: 8 } },
    ];
    t.setSync((req) => ({ ok: true, events: events.filter((e) => e.eventSeq > (req['r1'] ?? 0)), reset: [] }));
    await t.chat.syncRooms();
    expect(t.syncCalls[0]).toEqual({ r1: 3 });
    const list = t.messages();
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, 4, 8]);
    expect(list[0]!.deletedAt).toBeTruthy();
    expect(list[1]!.reactions[0]!.emoji).toBe('🎉');
    expect(list[3]!.content).toBe('v2');
    expect(t.chat.store.getState().lastSeq['r1']).toBe(8);

    // The same events again (e.g. a second reconnect racing) change nothing.
    t.setSync(() => ({ ok: true, events, reset: [] }));
    await t.chat.syncRooms();
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 8]);
  });

  it('room:updated renames the room live and through sync, in eventSeq order', async () => {
    const t = setup();
    await t.chat.start(ana);
    await t.chat.openRoom('r1');
    t.chat.handlers.onRoomChange({
      kind: 'room', roomId: 'r1', eventSeq: 3, name: 'lobby', description: 'new topic', isPrivate: true,
    });
    let r = t.chat.store.getState().rooms['r1']!;
    expect([r.name, r.description, r.isPrivate]).toEqual(['lobby', 'new topic', true]);
    expect(t.chat.store.getState().lastSeq['r1']).toBe(3);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2]);
    // Missed while away: sync replays it between messages.
    const events: SyncEvent[] = [
      { eventSeq: 4, roomId: 'r1', event: 'message:new', data: { ...msg(4), eventSeq: 4 } },
      { eventSeq: 5, roomId: 'r1', event: 'room:updated',
        data: { roomId: 'r1', room: { id: 'r1', name: 'hall', description: '', isPrivate: false }, eventSeq: 5 } },
    ];
    t.setSync((req) => ({ ok: true, events: events.filter((e) => e.eventSeq > (req['r1'] ?? 0)), reset: [] }));
    await t.chat.syncRooms();
    r = t.chat.store.getState().rooms['r1']!;
    expect([r.name, r.description, r.isPrivate]).toEqual(['hall', '', false]);
    expect(t.chat.store.getState().lastSeq['r1']).toBe(5);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 4]);
  });

  it('room:user-left reloads a member list that is shown', async () => {
    const t = setup();
    await t.chat.start(ana);
    await t.chat.openRoom('r1');
    await flush();
    const members = vi.fn(async () => ({ members: [] }));
    (t.restFake as unknown as { members: typeof members }).members = members;
    t.chat.handlers.onUserLeft({ roomId: 'r1', user: ana });
    await flush();
    expect(members).toHaveBeenCalledWith('r1');
  });

  it('a gap in eventSeq triggers sync for that room instead of applying out of order', async () => {
    const t = setup();
    await t.chat.start(ana);
    await t.chat.openRoom('r1');
    t.setSync((req) => ({
      ok: true,
      events: [3, 4, 5]
        .filter((s) => s > (req['r1'] ?? 0))
        .map((s) => ({ eventSeq: s, roomId: 'r1', event: 'message:new' as const, data: { ...msg(s), eventSeq: s } })),
      reset: [],
    }));
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 5, message: msg(5) });
    await flush();
    expect(t.syncCalls).toEqual([{ r1: 2 }]);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    // A late live copy of 4 is a duplicate.
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 4, message: msg(4) });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('reset reloads the newest page and takes the room lastSeq', async () => {
    const t = setup();
    await t.chat.start(ana);
    await t.chat.openRoom('r1');
    t.pages.push([msg(599), msg(600)]);
    t.setSync(() => ({ ok: true, events: [], reset: ['r1'] }));
    await t.chat.syncRooms();
    expect(t.messages().map((m) => m.seq)).toEqual([599, 600]);
    expect(t.chat.store.getState().lastSeq['r1']).toBe(600);
    expect(t.chat.store.getState().timelines['r1']!.version).toBe(1);
  });

  it('counts unread for messages from others while away, and marks read when looking', async () => {
    const t = setup();
    await t.chat.start(ana);
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3, { mentions: [ana.id] }) });
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 4, message: msg(4, { userId: ana.id }) });
    expect(t.chat.store.getState().rooms['r1']).toMatchObject({ unread: 1, mentions: 1 });
    t.chat.handlers.onUnread({ roomId: 'r1', unread: 0, mentions: 0 });
    expect(t.chat.store.getState().rooms['r1']).toMatchObject({ unread: 0, mentions: 0 });
  });
});

describe('jump to a search result', () => {
  it('opens the room around the message, then loads newer pages up to the live end', async () => {
    const t = setup({ roomLastSeq: 2 });
    await t.chat.start(ana);
    const fetch = t.restFake.messages as unknown as ReturnType<typeof vi.fn>;
    fetch.mockImplementationOnce(async () => ({
      messages: [msg(1), msg(2)],
      hasMore: false,
      hasMoreBefore: false,
      hasMoreAfter: true,
    }));
    await t.chat.jumpTo('r1', 2);
    expect(fetch).toHaveBeenLastCalledWith({ roomId: 'r1', around: 2, limit: 50 });
    const tl = t.chat.store.getState().timelines['r1']!;
    expect(tl.focusSeq).toBe(2);
    expect(tl.hasNewer).toBe(true);
    expect(t.chat.store.getState().activeRoomId).toBe('r1');
    // A live message while newer history is missing is not appended after a gap.
    t.chat.handlers.onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2]);
    fetch.mockImplementationOnce(async () => ({ messages: [msg(3)], hasMore: false }));
    await t.chat.loadNewer('r1');
    expect(fetch).toHaveBeenLastCalledWith({ roomId: 'r1', after: 2, limit: 50 });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(t.chat.store.getState().timelines['r1']!.hasNewer).toBe(false);
  });
});
