// Tests of the pure timeline functions: merge, dedupe, order, pages, gate.
import { describe, expect, it } from 'vitest';
import { msg } from '../test/fixtures';
import {
  acknowledge,
  addLocal,
  applyAroundPage,
  applyChange,
  applyNewestPage,
  appendNewer,
  emptyTimeline,
  FIRST_INDEX,
  gate,
  mergeMessages,
  newestSeq,
  prependOlder,
  unreadMarkerSeq,
  type ChatMessage,
} from './timeline';

const seqs = (list: ChatMessage[]) => list.map((m) => m.seq);

describe('mergeMessages', () => {
  it('orders by seq and drops duplicates by id', () => {
    const out = mergeMessages([msg(2), msg(4)], [msg(3), msg(4), msg(1), msg(3)]);
    expect(seqs(out)).toEqual([1, 2, 3, 4]);
    expect(new Set(out.map((m) => m.id)).size).toBe(4);
  });

  it('keeps a tombstone dead when an older copy arrives', () => {
    const dead = { ...msg(5), deletedAt: '2025-01-02T00:00:00Z', content: '' };
    const out = mergeMessages([dead], [msg(5)]);
    expect(out[0]!.deletedAt).toBe(dead.deletedAt);
    expect(out[0]!.content).toBe('');
  });

  it('does not let an older edit replace a newer one', () => {
    const newer = { ...msg(5), content: 'v2', updatedAt: '2025-02-01T00:00:00Z' };
    const older = { ...msg(5), content: 'v1', updatedAt: '2025-01-15T00:00:00Z' };
    expect(mergeMessages([newer], [older])[0]!.content).toBe('v2');
    expect(mergeMessages([older], [newer])[0]!.content).toBe('v2');
  });

  it('keeps local (unacknowledged) messages after stored ones', () => {
    const local: ChatMessage = { ...msg(0), id: 'local:c1', clientId: 'c1', seq: Number.MAX_SAFE_INTEGER, status: 'pending' };
    const out = mergeMessages(addLocal([msg(1)], local), [msg(2)]);
    expect(out.map((m) => m.id)).toEqual(['m1', 'm2', 'local:c1']);
  });

  it('replaces a local message by the stored one carrying its clientId', () => {
    const local: ChatMessage = { ...msg(0), id: 'local:c1', clientId: 'c1', seq: Number.MAX_SAFE_INTEGER, status: 'pending' };
    const out = mergeMessages([msg(1), local], [msg(2, { clientId: 'c1' })]);
    expect(out.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(out[1]!.status).toBe('sent');
  });
});

describe('pagination', () => {
  it('prepends an older page and moves firstItemIndex by the number of new rows', () => {
    let tl = { ...emptyTimeline(), loaded: true, messages: mergeMessages([], [msg(51), msg(52), msg(53)]) };
    const older = [msg(48), msg(49), msg(50)];
    tl = prependOlder(tl, older, true);
    expect(seqs(tl.messages)).toEqual([48, 49, 50, 51, 52, 53]);
    expect(tl.firstItemIndex).toBe(FIRST_INDEX - 3);
    expect(tl.hasMore).toBe(true);
    // The same page again (a double scroll event) changes nothing.
    const again = prependOlder(tl, older, false);
    expect(seqs(again.messages)).toEqual([48, 49, 50, 51, 52, 53]);
    expect(again.firstItemIndex).toBe(FIRST_INDEX - 3);
    expect(again.hasMore).toBe(false);
  });

  it('merges a live message after a page without duplicating it', () => {
    let list = mergeMessages([], [msg(1), msg(2)]);
    list = applyChange(list, { kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) }, 'now');
    list = applyChange(list, { kind: 'new', roomId: 'r1', eventSeq: 3, message: msg(3) }, 'now');
    expect(seqs(list)).toEqual([1, 2, 3]);
  });
});

describe('applyChange', () => {
  it('applies edits, deletes and reactions idempotently', () => {
    let list = mergeMessages([], [msg(1), msg(2)]);
    const edited = { ...msg(1), content: 'edited', editedAt: '2025-01-03T00:00:00Z', updatedAt: '2025-01-03T00:00:00Z' };
    list = applyChange(list, { kind: 'updated', roomId: 'r1', eventSeq: 3, message: edited }, 'now');
    list = applyChange(list, { kind: 'deleted', roomId: 'r1', eventSeq: 4, messageId: 'm2' }, '2025-01-04T00:00:00Z');
    list = applyChange(list, { kind: 'deleted', roomId: 'r1', eventSeq: 4, messageId: 'm2' }, '2025-01-05T00:00:00Z');
    list = applyChange(
      list,
      { kind: 'reactions', roomId: 'r1', eventSeq: 5, messageId: 'm1', reactions: [{ emoji: '👍', count: 1, userIds: ['u'] }] },
      'now',
    );
    expect(list).toHaveLength(2);
    expect(list[0]!.content).toBe('edited');
    expect(list[0]!.reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['u'] }]);
    expect(list[1]!.deletedAt).toBe('2025-01-04T00:00:00Z');
    expect(list[1]!.content).toBe('');
  });
});

describe('gate', () => {
  it('applies the next eventSeq, ignores old ones, and reports gaps', () => {
    expect(gate(undefined, 7)).toBe('apply');
    expect(gate(6, 7)).toBe('apply');
    expect(gate(7, 7)).toBe('duplicate');
    expect(gate(7, 3)).toBe('duplicate');
    expect(gate(7, 9)).toBe('gap');
  });
});

describe('acknowledge', () => {
  it('a replayed ack (same stored message) never duplicates', () => {
    const local: ChatMessage = { ...msg(0), id: 'local:c1', clientId: 'c1', seq: Number.MAX_SAFE_INTEGER, status: 'pending' };
    let list: ChatMessage[] = [msg(1), local];
    const stored = msg(2, { clientId: 'c1', userId: 'me' });
    list = acknowledge(list, 'c1', stored);
    list = acknowledge(list, 'c1', stored);
    list = mergeMessages(list, [stored]);
    expect(list.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(list[1]!.status).toBe('sent');
  });
});

describe('unreadMarkerSeq', () => {
  it('points at the first of the last N messages by others', () => {
    const list = mergeMessages([], [msg(1), msg(2), msg(3, { userId: 'me' }), msg(4), msg(5)]);
    expect(unreadMarkerSeq(list, 2, 'me')).toBe(4);
    expect(unreadMarkerSeq(list, 3, 'me')).toBe(2);
    expect(unreadMarkerSeq(list, 0, 'me')).toBeNull();
  });
});

describe('opening at a message (search results)', () => {
  it('replaces the list with the page around it, newer history pending', () => {
    const tl = { ...emptyTimeline(), loaded: true, messages: [msg(90), msg(91)] as ChatMessage[] };
    const around = applyAroundPage(tl, [msg(9), msg(10), msg(11)], true, true, 10);
    expect(seqs(around.messages)).toEqual([9, 10, 11]);
    expect(around.focusSeq).toBe(10);
    expect(around.hasMore).toBe(true);
    expect(around.hasNewer).toBe(true);
    expect(around.version).toBe(tl.version + 1);
    expect(newestSeq(around.messages)).toBe(11);
    const more = appendNewer(around, [msg(12), msg(13)], false);
    expect(seqs(more.messages)).toEqual([9, 10, 11, 12, 13]);
    expect(more.hasNewer).toBe(false);
    // Back to the newest page: an ordinary list again.
    const newest = applyNewestPage(more, [msg(90), msg(91)], true, true);
    expect(newest.hasNewer).toBe(false);
    expect(newest.focusSeq).toBeNull();
  });
});
