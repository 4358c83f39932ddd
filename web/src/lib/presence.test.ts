// Tests of who counts as online in member lists.
import { describe, expect, it } from 'vitest';
import type { Member } from '../api/types';
import { ana, luis } from '../test/fixtures';
import { memberPresence } from './presence';

const member = (user = ana, over: Partial<Member> = {}): Member => ({
  user,
  role: 'member',
  online: false,
  lastSeen: '2025-01-01T00:00:00Z',
  joinedAt: '2025-01-01T00:00:00Z',
  lastReadSeq: 0,
  ...over,
});

describe('memberPresence', () => {
  it('shows the viewer online while connected, whatever the member snapshot said', () => {
    // the snapshot was taken before this tab's socket connected
    const p = memberPresence(member(ana), { [ana.id]: { online: false, lastSeen: 'x' } }, ana.id, 'online');
    expect(p).toEqual({ online: true, lastSeen: null });
  });

  it('shows the viewer offline while the connection is down', () => {
    expect(memberPresence(member(ana, { online: true }), {}, ana.id, 'reconnecting').online).toBe(false);
  });

  it('follows live presence for other people, falling back to the snapshot', () => {
    const m = member(luis);
    expect(memberPresence(m, {}, ana.id, 'online')).toEqual({ online: false, lastSeen: m.lastSeen });
    expect(memberPresence(m, { [luis.id]: { online: true, lastSeen: null } }, ana.id, 'online').online).toBe(true);
    expect(
      memberPresence(member(luis, { online: true }), { [luis.id]: { online: false, lastSeen: 'later' } }, ana.id, 'online'),
    ).toEqual({ online: false, lastSeen: 'later' });
  });
});
