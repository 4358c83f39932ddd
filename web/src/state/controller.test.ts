// Tests of the session controller: lifecycle (start, reconnect, stop, logout) and event routing.
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/rest';
import { ServerEvent, type SyncEvent } from '../api/types';
import { deferred, flush, setup } from '../test/app';
import { ana, luis, msg, room } from '../test/fixtures';

const newMessage = (seq: number): SyncEvent => ({
  eventSeq: seq,
  roomId: 'r1',
  event: ServerEvent.MessageNew,
  data: { ...msg(seq), eventSeq: seq },
});

describe('start', () => {
  it('loads the rooms, then connects with the token', async () => {
    const t = setup();
    const rooms = deferred<{ rooms: ReturnType<typeof room>[] }>();
    t.stubRest({ rooms: vi.fn(() => rooms.promise) });
    const started = t.controller.start(ana, 'tok');
    expect(t.controller.store.getState().phase).toBe('starting');
    expect(t.rooms.store.getState().me).toEqual(ana);
    expect(t.connection.start).not.toHaveBeenCalled();
    rooms.resolve({ rooms: [room()] });
    await started;
    expect(t.controller.store.getState().phase).toBe('ready');
    expect(t.connection.start).toHaveBeenCalledWith('tok', expect.any(Object));
    expect(Object.keys(t.rooms.store.getState().rooms)).toEqual(['r1']);
  });

  it('a start stopped before the rooms arrive never connects (unmount, StrictMode)', async () => {
    const t = setup();
    const rooms = deferred<{ rooms: ReturnType<typeof room>[] }>();
    t.stubRest({ rooms: vi.fn(() => rooms.promise) });
    const started = t.controller.start(ana, 'tok');
    t.controller.stop();
    rooms.resolve({ rooms: [room()] });
    await started;
    expect(t.connection.start).not.toHaveBeenCalled();
    expect(t.controller.store.getState().phase).toBe('idle');
  });

  it('a 401 while loading the rooms signs out; another failure is shown', async () => {
    const t = setup();
    t.stubRest({ rooms: vi.fn(async () => Promise.reject(new ApiError(401, 'unauthenticated', 'Sign in'))) });
    await t.controller.start(ana, 'tok');
    expect(t.signedOut).toHaveBeenCalledTimes(1);
    expect(t.connection.start).not.toHaveBeenCalled();

    const u = setup();
    u.stubRest({ rooms: vi.fn(async () => Promise.reject(new ApiError(500, 'internal', 'Database down'))) });
    await u.controller.start(ana, 'tok');
    expect(u.signedOut).not.toHaveBeenCalled();
    expect(u.controller.store.getState()).toEqual({ phase: 'failed', error: 'Database down' });
  });
});

describe('reconnect', () => {
  it('every connect syncs from the cursors applied so far, then takes the server’s counts', async () => {
    const t = setup({ roomLastSeq: 2 });
    await t.controller.start(ana, 'tok');
    await t.timelines.openRoom('r1');
    t.setSync((req) => ({ ok: true, events: [3, 4].map(newMessage).filter((e) => e.eventSeq > (req['r1'] ?? 0)), reset: [] }));
    t.server().onConnected();
    await flush();
    expect(t.syncCalls).toEqual([{ r1: 2 }]);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    // after sync, the room list again (its counts include what sync brought)
    expect(t.restFake.rooms).toHaveBeenCalledTimes(2);

    // live, then a room we are added to, then the connection drops and comes back
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 5, message: msg(5) });
    t.server().onRoomJoined(room({ id: 'r2', name: 'random', lastSeq: 7 }));
    t.setSync(() => ({ ok: true, events: [newMessage(6)], reset: [] }));
    t.server().onConnected();
    await flush();
    expect(t.syncCalls[1]).toEqual({ r1: 5, r2: 7 });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.sync.store.getState().lastSeq).toEqual({ r1: 6, r2: 7 });
  });
});

describe('logout', () => {
  it('forgets this device’s push, signs out on the server, then tears everything down', async () => {
    const t = setup();
    await t.controller.start(ana, 'tok');
    await t.timelines.openRoom('r1');
    t.server().onUserOnline({ userId: luis.id, username: 'luis' });
    t.server().onTypingStart({ roomId: 'r1', userId: luis.id, username: 'luis' });
    await t.controller.logout();
    expect(t.log.slice(t.log.indexOf('forgetPush'))).toEqual(['forgetPush', 'rest.logout', 'signedOut', 'connection.stop', 'focus.stop']);
    expect(t.connected()).toBe(false);
    expect(t.rooms.store.getState()).toMatchObject({ me: null, rooms: {}, activeRoomId: null, members: {} });
    expect(t.timelines.store.getState().timelines).toEqual({});
    expect(t.sync.store.getState().lastSeq).toEqual({});
    expect(t.presence.store.getState().presence).toEqual({});
    expect(t.typing.store.getState().typing).toEqual({});
    expect(t.controller.store.getState().phase).toBe('idle');
  });

  it('signs out locally when the server cannot be reached; "everywhere" skips the push step', async () => {
    const t = setup();
    await t.controller.start(ana, 'tok');
    t.stubRest({ logoutAll: vi.fn(async () => Promise.reject(new ApiError(0, 'network', 'offline'))) });
    await t.controller.logoutEverywhere();
    expect(t.forgetPush).not.toHaveBeenCalled();
    expect(t.signedOut).toHaveBeenCalledTimes(1);
    expect(t.connection.stop).toHaveBeenCalled();
    expect(t.rooms.store.getState().rooms).toEqual({});
  });
});

describe('socket events', () => {
  it('a refused socket signs out only if the REST session is gone too', async () => {
    const t = setup();
    await t.controller.start(ana, 'tok');
    t.server().onAuthFailed('Invalid token');
    await flush();
    expect(t.signedOut).not.toHaveBeenCalled();
    t.stubRest({ me: vi.fn(async () => Promise.reject(new ApiError(401, 'unauthenticated', 'Sign in'))) });
    t.server().onAuthFailed('Invalid token');
    await flush();
    expect(t.signedOut).toHaveBeenCalledTimes(1);
  });

  it('routes presence, typing, read cursors and unknown rooms to their stores', async () => {
    vi.useFakeTimers();
    try {
      const t = setup();
      await t.controller.start(ana, 'tok');
      t.server().onUserOffline({ userId: luis.id, username: 'luis', lastSeen: '2025-01-01T00:00:00Z' });
      expect(t.presence.store.getState().presence[luis.id]).toEqual({ online: false, lastSeen: '2025-01-01T00:00:00Z' });
      t.server().onTypingStart({ roomId: 'r1', userId: luis.id, username: 'luis' });
      t.server().onTypingStart({ roomId: 'r1', userId: ana.id, username: 'ana' });
      expect(Object.keys(t.typing.store.getState().typing['r1'] ?? {})).toEqual([luis.id]);
      t.server().onTypingStop({ roomId: 'r1', userId: luis.id });
      expect(t.typing.store.getState().typing['r1']).toEqual({});
      t.server().onRead({ messageId: 'm2', roomId: 'r1', userId: luis.id, seq: 2 });
      expect(t.rooms.store.getState().readCursors['r1']).toEqual({ [luis.id]: 2 });
      // a change in a room we do not hold yet: one coalesced refresh of the list
      t.server().onRoomChange({ kind: 'new', roomId: 'r9', eventSeq: 1, message: msg(1, { roomId: 'r9' }) });
      t.server().onDmNew(msg(2, { roomId: 'r9' }));
      await vi.advanceTimersByTimeAsync(300);
      expect(t.restFake.rooms).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('page notifications: other people’s messages as far as the room’s level lets them', async () => {
    const t = setup();
    t.stubRest({ rooms: vi.fn(async () => ({ rooms: [room({ notifications: 'all', lastSeq: 2 })] })) });
    await t.controller.start(ana, 'tok');
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) });
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 4, message: msg(4, { userId: ana.id, user: ana }) });
    expect(t.notify).toHaveBeenCalledTimes(1);
    expect(t.notify).toHaveBeenCalledWith(expect.objectContaining({ id: 'r1' }), 'Luis in #general', expect.objectContaining({ id: 'm3' }), expect.any(Function));
    // a click on it opens the room
    const onOpen = t.notify.mock.calls[0]![3] as () => void;
    onOpen();
    expect(t.rooms.store.getState().activeRoomId).toBe('r1');
  });

  it('focus reports follow the open room until the session stops', async () => {
    const t = setup();
    await t.controller.start(ana, 'tok');
    expect(t.focusReports).toHaveBeenCalledWith(null);
    await t.timelines.openRoom('r1');
    expect(t.focus.setRoom).toHaveBeenLastCalledWith('r1');
    t.controller.stop();
    expect(t.focus.stop).toHaveBeenCalled();
  });
});
