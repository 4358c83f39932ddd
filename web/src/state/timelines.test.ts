// Tests of the timelines store: unread counting, and a list opened at a search result.
import { describe, expect, it, vi } from 'vitest';
import { setup } from '../test/app';
import { ana, msg } from '../test/fixtures';

describe('arriving messages', () => {
  it('counts unread for messages from others while away, and marks read when looking', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3, { mentions: [ana.id] }) });
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 4, message: msg(4, { userId: ana.id }) });
    expect(t.rooms.store.getState().rooms['r1']).toMatchObject({ unread: 1, mentions: 1 });
    t.server().onUnread({ roomId: 'r1', unread: 0, mentions: 0 });
    expect(t.rooms.store.getState().rooms['r1']).toMatchObject({ unread: 0, mentions: 0 });
  });
});

describe('jump to a search result', () => {
  it('opens the room around the message, then loads newer pages up to the live end', async () => {
    const t = setup({ roomLastSeq: 2 });
    await t.controller.start(ana, null);
    const fetch = t.restFake.messages as unknown as ReturnType<typeof vi.fn>;
    fetch.mockImplementationOnce(async () => ({
      messages: [msg(1), msg(2)],
      hasMore: false,
      hasMoreBefore: false,
      hasMoreAfter: true,
    }));
    await t.timelines.jumpTo('r1', 2);
    expect(fetch).toHaveBeenLastCalledWith({ roomId: 'r1', around: 2, limit: 50 });
    const tl = t.timelines.store.getState().timelines['r1']!;
    expect(tl.focusSeq).toBe(2);
    expect(tl.hasNewer).toBe(true);
    expect(t.rooms.store.getState().activeRoomId).toBe('r1');
    // A live message while newer history is missing is not appended after a gap.
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2]);
    fetch.mockImplementationOnce(async () => ({ messages: [msg(3)], hasMore: false }));
    await t.timelines.loadNewer('r1');
    expect(fetch).toHaveBeenLastCalledWith({ roomId: 'r1', after: 2, limit: 50 });
    expect(t.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(t.timelines.store.getState().timelines['r1']!.hasNewer).toBe(false);
  });
});
