// Tests of the rooms store: member lists and the room actions dialogs call.
import { describe, expect, it, vi } from 'vitest';
import { flush, setup } from '../test/app';
import { ApiError } from '../api/rest';
import type { Member, User } from '../api/types';
import { ana, luis, room } from '../test/fixtures';

describe('members', () => {
  it('room:user-left reloads a member list that is shown', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    await flush();
    const members = vi.fn(async () => ({ members: [] }));
    (t.restFake as unknown as { members: typeof members }).members = members;
    t.server().onUserLeft({ roomId: 'r1', user: ana });
    await flush();
    expect(members).toHaveBeenCalledWith('r1');
  });
});

describe('our own membership ending', () => {
  it('room:user-left about us drops the room once the server says we are not a member', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    await flush();
    const room = vi.fn(async () => {
      throw new ApiError(403, 'forbidden', 'you are not a member of this room');
    });
    t.stubRest({ room });
    t.server().onUserLeft({ roomId: 'r1', user: ana });
    await flush();
    expect(room).toHaveBeenCalledWith('r1');
    expect(t.rooms.store.getState().rooms['r1']).toBeUndefined();
    expect(t.rooms.store.getState().activeRoomId).toBeNull();
  });

  it('keeps the room when only one of our sockets left it (we are still a member)', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    const held = t.rooms.store.getState().rooms['r1']!;
    t.stubRest({ room: vi.fn(async () => ({ room: { ...held, role: 'member' as const } })) });
    t.server().onUserLeft({ roomId: 'r1', user: ana });
    await flush();
    expect(t.rooms.store.getState().rooms['r1']).toBeDefined();
  });

  it('asks nothing when someone else left', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    const room = vi.fn();
    t.stubRest({ room });
    t.server().onUserLeft({ roomId: 'r1', user: luis });
    await flush();
    expect(room).not.toHaveBeenCalled();
    expect(t.rooms.store.getState().rooms['r1']).toBeDefined();
  });
});

describe('room actions', () => {
  it('join takes the REST copy, then the ack’s, and resolves to the room as held', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    const r2 = room({ id: 'r2', name: 'random', lastSeq: 5 });
    t.stubRest({ joinRoom: vi.fn(async () => ({ room: r2 })) });
    t.realtime.joinRoom = vi.fn(async () => ({ ok: true as const, room: { ...r2, unread: 3 } }));
    const joined = await t.rooms.join(r2);
    expect(joined).toMatchObject({ id: 'r2', unread: 3 });
    expect(t.rooms.store.getState().rooms['r2']).toBe(joined);
    // its catch-up cursor starts where the room was when we first saw it
    expect(t.sync.store.getState().lastSeq['r2']).toBe(5);
  });

  it('setNotifications changes only the level, and nothing for a room left meanwhile', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    const setNotifications = vi.fn(async () => ({ room: room({ notifications: 'all', name: 'stale' }) }));
    t.stubRest({ setNotifications });
    await t.rooms.setNotifications('r1', 'all');
    expect(setNotifications).toHaveBeenCalledWith('r1', 'all');
    expect(t.rooms.store.getState().rooms['r1']).toMatchObject({ name: 'general', notifications: 'all' });
    t.rooms.remove('r1');
    await t.rooms.setNotifications('r1', 'none');
    expect(t.rooms.store.getState().rooms['r1']).toBeUndefined();
  });

  it('openDm subscribes to the room and takes its peer from the member list', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    const dm = room({ id: 'd1', name: '', isDirect: true });
    const member = (user: User): Member => ({ user, role: 'member', online: true, lastSeen: null, joinedAt: '', lastReadSeq: 0 });
    t.stubRest({
      openDm: vi.fn(async () => ({ room: dm })),
      members: vi.fn(async () => ({ members: [member(ana), member(luis)] })),
    });
    const opened = await t.rooms.openDm(luis.id);
    expect(opened.id).toBe('d1');
    const s = t.rooms.store.getState();
    expect(s.rooms['d1']).toBeDefined();
    expect(s.dmPeers['d1']).toEqual(luis);
    expect(t.presence.store.getState().presence[luis.id]).toEqual({ online: true, lastSeen: null });
  });

  it('saveSettings keeps our own counts and role', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    const mine = { ...t.rooms.store.getState().rooms['r1']!, unread: 4, mentions: 1, role: 'admin' as const };
    t.stubRest({ updateRoom: vi.fn(async () => ({ room: room({ name: 'hall', unread: 0, mentions: 0, role: 'member' }) })) });
    await t.rooms.saveSettings(mine, { name: 'hall', description: '' });
    expect(t.rooms.store.getState().rooms['r1']).toMatchObject({ name: 'hall', unread: 4, mentions: 1, role: 'admin' });
  });
});
