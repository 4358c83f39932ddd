// Tests of catch-up: ordered sync replay with no double apply, gaps, `reset`, where cursors start.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerEvent, type SyncEvent } from '../api/types';
import { flush, setup } from '../test/app';
import { ana, msg, room } from '../test/fixtures';

describe('catch-up', () => {
  afterEach(() => vi.useRealTimers());

  it('applies sync events in order, skipping what it already has', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    // A live message arrives (seq 3), then the socket reconnects.
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) });
    const events: SyncEvent[] = [
      { eventSeq: 3, roomId: 'r1', event: ServerEvent.MessageNew, data: { ...msg(3), eventSeq: 3 } },
      { eventSeq: 4, roomId: 'r1', event: ServerEvent.MessageNew, data: { ...msg(4), eventSeq: 4 } },
      { eventSeq: 5, roomId: 'r1', event: ServerEvent.MessageUpdated, data: { ...msg(4), content: 'v2', updatedAt: '2030-01-01T00:00:00Z', eventSeq: 5 } },
      { eventSeq: 6, roomId: 'r1', event: ServerEvent.MessageDeleted, data: { messageId: 'm1', roomId: 'r1', eventSeq: 6 } },
      { eventSeq: 7, roomId: 'r1', event: ServerEvent.MessageReactions, data: { messageId: 'm2', roomId: 'r1', reactions: [{ emoji: '🎉', count: 1, userIds: ['x'] }], eventSeq: 7 } },
      { eventSeq: 8, roomId: 'r1', event: ServerEvent.MessageNew, data: { ...msg(8), eventSeq: 8 } },
    ];
    t.setSync((req) => ({ ok: true, events: events.filter((e) => e.eventSeq > (req['r1'] ?? 0)), reset: [] }));
    await t.sync.syncRooms();
    expect(t.syncCalls[0]).toEqual({ r1: 3 });
    const list = t.messages();
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, 4, 8]);
    expect(list[0]!.deletedAt).toBeTruthy();
    expect(list[1]!.reactions[0]!.emoji).toBe('🎉');
    expect(list[3]!.content).toBe('v2');
    expect(t.sync.store.getState().lastSeq['r1']).toBe(8);

    // The same events again (e.g. a second reconnect racing) change nothing.
    t.setSync(() => ({ ok: true, events, reset: [] }));
    await t.sync.syncRooms();
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 8]);
  });

  it('room:updated renames the room live and through sync, in eventSeq order', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    t.server().onRoomChange({
      kind: 'room', roomId: 'r1', eventSeq: 3, name: 'lobby', description: 'new topic', isPrivate: true,
    });
    let r = t.rooms.store.getState().rooms['r1']!;
    expect([r.name, r.description, r.isPrivate]).toEqual(['lobby', 'new topic', true]);
    expect(t.sync.store.getState().lastSeq['r1']).toBe(3);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2]);
    // Missed while away: sync replays it between messages.
    const events: SyncEvent[] = [
      { eventSeq: 4, roomId: 'r1', event: ServerEvent.MessageNew, data: { ...msg(4), eventSeq: 4 } },
      { eventSeq: 5, roomId: 'r1', event: ServerEvent.RoomUpdated,
        data: { roomId: 'r1', room: { id: 'r1', name: 'hall', description: '', isPrivate: false }, eventSeq: 5 } },
    ];
    t.setSync((req) => ({ ok: true, events: events.filter((e) => e.eventSeq > (req['r1'] ?? 0)), reset: [] }));
    await t.sync.syncRooms();
    r = t.rooms.store.getState().rooms['r1']!;
    expect([r.name, r.description, r.isPrivate]).toEqual(['hall', '', false]);
    expect(t.sync.store.getState().lastSeq['r1']).toBe(5);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 4]);
  });

  it('a gap in eventSeq triggers sync for that room instead of applying out of order', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    t.setSync((req) => ({
      ok: true,
      events: [3, 4, 5]
        .filter((s) => s > (req['r1'] ?? 0))
        .map((s) => ({ eventSeq: s, roomId: 'r1', event: ServerEvent.MessageNew, data: { ...msg(s), eventSeq: s } })),
      reset: [],
    }));
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 5, message: msg(5) });
    await flush();
    expect(t.syncCalls).toEqual([{ r1: 2 }]);
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    // A late live copy of 4 is a duplicate.
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 4, message: msg(4) });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('reset reloads the newest page and takes the room lastSeq', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    t.pages.push([msg(599), msg(600)]);
    t.setSync(() => ({ ok: true, events: [], reset: ['r1'] }));
    await t.sync.syncRooms();
    expect(t.messages().map((m) => m.seq)).toEqual([599, 600]);
    expect(t.sync.store.getState().lastSeq['r1']).toBe(600);
    expect(t.timelines.store.getState().timelines['r1']!.version).toBe(1);
  });

  it('a room’s cursor starts at the lastSeq it is first listed with; later listings never move it', async () => {
    const t = setup({ roomLastSeq: 2 });
    await t.controller.start(ana, null);
    expect(t.sync.store.getState().lastSeq).toEqual({ r1: 2 });
    // the server moved on while we missed it: a refresh must not skip those changes
    t.stubRest({ rooms: vi.fn(async () => ({ rooms: [room({ lastSeq: 9 }), room({ id: 'r2', lastSeq: 4 })] })) });
    await t.rooms.refresh();
    expect(t.sync.store.getState().lastSeq).toEqual({ r1: 2, r2: 4 });
    await t.sync.syncRooms();
    expect(t.syncCalls).toEqual([{ r1: 2, r2: 4 }]);
  });
});
