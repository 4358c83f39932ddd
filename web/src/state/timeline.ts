// Pure functions over one room's message timeline: merge and dedupe by id (and by
// clientId for our own optimistic messages), order by seq, prepend older pages, apply
// room changes, and gate changes by eventSeq. No IO here, so tests drive it directly.
import type { Message, Reaction, RoomChange } from '../api/types';

/** `pending` and `failed` are ours, not yet acknowledged; `sent` is ours, acknowledged. */
export type SendStatus = 'pending' | 'sent' | 'failed';

export interface ChatMessage extends Message {
  status?: SendStatus;
  sendError?: string;
}

export interface Timeline {
  /** Stored messages by seq, then our unacknowledged ones in the order we wrote them. */
  messages: ChatMessage[];
  /** Older history exists on the server. */
  hasMore: boolean;
  /** The newest page has arrived. */
  loaded: boolean;
  loadingOlder: boolean;
  /** Index of messages[0] for the virtualized list: lowered by each prepended page. */
  firstItemIndex: number;
  /** Bumped when the timeline is replaced wholesale (reset): the list remounts. */
  version: number;
  /** Seq of the first message shown under the "New messages" marker. */
  markerSeq: number | null;
  /** Opened at a message (a search result): newer history exists beyond the list. */
  hasNewer: boolean;
  loadingNewer: boolean;
  /** The message the list was opened at (highlighted), if any. */
  focusSeq: number | null;
}

export const FIRST_INDEX = 1_000_000;

export function emptyTimeline(): Timeline {
  return {
    messages: [],
    hasMore: true,
    loaded: false,
    loadingOlder: false,
    firstItemIndex: FIRST_INDEX,
    version: 0,
    markerSeq: null,
    hasNewer: false,
    loadingNewer: false,
    focusSeq: null,
  };
}

export function isLocal(m: ChatMessage): boolean {
  return m.status === 'pending' || m.status === 'failed';
}

function compare(a: ChatMessage, b: ChatMessage): number {
  const al = isLocal(a);
  const bl = isLocal(b);
  if (al !== bl) return al ? 1 : -1;
  if (al && bl) return Date.parse(a.createdAt) - Date.parse(b.createdAt);
  return a.seq - b.seq;
}

/**
 * Merges stored messages into a list. A message already held (same id) is replaced by the
 * incoming copy, except that a tombstone never comes back to life and an older edit never
 * replaces a newer one. An incoming message carrying the clientId of one of our local
 * messages replaces that local message. Result ordered by seq, locals last.
 */
export function mergeMessages(existing: ChatMessage[], incoming: Message[]): ChatMessage[] {
  if (incoming.length === 0) return existing;
  const byId = new Map<string, ChatMessage>();
  const localClientIds = new Set<string>();
  for (const m of existing) {
    byId.set(m.id, m);
    if (isLocal(m) && m.clientId) localClientIds.add(m.clientId);
  }
  const ackedClientIds = new Set<string>();
  for (const inc of incoming) {
    if (inc.clientId) ackedClientIds.add(inc.clientId);
    const prev = byId.get(inc.id);
    if (!prev) {
      const mine = inc.clientId && localClientIds.has(inc.clientId);
      byId.set(inc.id, mine ? { ...inc, status: 'sent' } : { ...inc });
      continue;
    }
    if (prev.deletedAt && !inc.deletedAt) continue;
    if (!inc.deletedAt && prev.updatedAt && inc.updatedAt && Date.parse(inc.updatedAt) < Date.parse(prev.updatedAt)) continue;
    const next: ChatMessage = { ...inc };
    if (prev.status === 'sent') next.status = 'sent';
    byId.set(inc.id, next);
  }
  const out: ChatMessage[] = [];
  for (const m of byId.values()) {
    if (isLocal(m) && m.clientId && ackedClientIds.has(m.clientId)) continue;
    out.push(m);
  }
  out.sort(compare);
  return out;
}

/** Prepends an older page, keeping the list's scroll anchor via firstItemIndex. */
export function prependOlder(tl: Timeline, page: Message[], hasMore: boolean): Timeline {
  const before = tl.messages.filter((m) => !isLocal(m)).length;
  const messages = mergeMessages(tl.messages, page);
  const after = messages.filter((m) => !isLocal(m)).length;
  return {
    ...tl,
    messages,
    hasMore,
    loadingOlder: false,
    firstItemIndex: tl.firstItemIndex - (after - before),
  };
}

/** Merges the newest page (first load, or a reload after `reset`). */
export function applyNewestPage(tl: Timeline, page: Message[], hasMore: boolean, replace: boolean): Timeline {
  if (replace) {
    const locals = tl.messages.filter(isLocal);
    return {
      ...tl,
      messages: mergeMessages(locals, page),
      hasMore,
      loaded: true,
      firstItemIndex: FIRST_INDEX,
      version: tl.version + 1,
      hasNewer: false,
      loadingNewer: false,
      focusSeq: null,
    };
  }
  return { ...tl, messages: mergeMessages(tl.messages, page), hasMore: tl.loaded ? tl.hasMore : hasMore, loaded: true };
}

function tombstone(m: ChatMessage, at: string): ChatMessage {
  return { ...m, deletedAt: m.deletedAt ?? at, content: '', fileUrl: null, reactions: [] };
}

/** Applies one room change (live or from sync) to the list. Idempotent. */
export function applyChange(messages: ChatMessage[], change: RoomChange, now: string): ChatMessage[] {
  switch (change.kind) {
    case 'new':
    case 'updated':
      return mergeMessages(messages, [change.message]);
    case 'deleted': {
      const i = messages.findIndex((m) => m.id === change.messageId);
      const found = messages[i];
      if (!found || found.deletedAt) return messages;
      const copy = messages.slice();
      copy[i] = tombstone(found, now);
      return copy;
    }
    case 'reactions':
      return setReactions(messages, change.messageId, change.reactions);
    case 'room':
      return messages;
  }
}

export function setReactions(messages: ChatMessage[], messageId: string, reactions: Reaction[]): ChatMessage[] {
  const i = messages.findIndex((m) => m.id === messageId);
  const found = messages[i];
  if (!found) return messages;
  const copy = messages.slice();
  copy[i] = { ...found, reactions: reactions.filter((r) => r.count > 0) };
  return copy;
}

export type GateResult = 'apply' | 'duplicate' | 'gap';

/**
 * Decides what to do with a room change given the last eventSeq applied for that room:
 * the next one applies, an old one is a duplicate, a later one means we missed some.
 */
export function gate(lastApplied: number | undefined, eventSeq: number): GateResult {
  if (lastApplied === undefined) return 'apply';
  if (eventSeq <= lastApplied) return 'duplicate';
  if (eventSeq === lastApplied + 1) return 'apply';
  return 'gap';
}

/** Adds a local, pending message. */
export function addLocal(messages: ChatMessage[], local: ChatMessage): ChatMessage[] {
  return [...messages, local];
}

export function setLocalStatus(
  messages: ChatMessage[],
  clientId: string,
  status: 'pending' | 'failed',
  sendError?: string,
): ChatMessage[] {
  let changed = false;
  const out = messages.map((m) => {
    if (m.clientId === clientId && isLocal(m)) {
      changed = true;
      return { ...m, status, sendError };
    }
    return m;
  });
  return changed ? out : messages;
}

/** Our message was acknowledged: the stored copy replaces the local one (never twice). */
export function acknowledge(messages: ChatMessage[], clientId: string, stored: Message): ChatMessage[] {
  const withoutLocal = messages.filter((m) => !(isLocal(m) && m.clientId === clientId));
  const merged = mergeMessages(withoutLocal, [{ ...stored, clientId: stored.clientId ?? clientId }]);
  return merged.map((m) => (m.id === stored.id && !m.status ? { ...m, status: 'sent' as const } : m));
}

/** The seq of the first of the last `unread` messages written by someone else. */
export function unreadMarkerSeq(messages: ChatMessage[], unread: number, myId: string): number | null {
  if (unread <= 0) return null;
  let left = unread;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (isLocal(m) || m.userId === myId) continue;
    left--;
    if (left === 0) return m.seq;
  }
  const first = messages.find((m) => !isLocal(m) && m.userId !== myId);
  return first ? first.seq : null;
}

/** The newest stored message (the one a read cursor can move to). */
export function lastStored(messages: ChatMessage[]): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (!isLocal(m)) return m;
  }
  return undefined;
}

/**
 * Replaces the list with the page around one message (a search result): older and
 * newer history then load from its ends. Our unacknowledged messages stay.
 */
export function applyAroundPage(
  tl: Timeline,
  page: Message[],
  hasMoreBefore: boolean,
  hasMoreAfter: boolean,
  focusSeq: number,
): Timeline {
  const locals = tl.messages.filter(isLocal);
  return {
    ...tl,
    messages: mergeMessages(locals, page),
    hasMore: hasMoreBefore,
    hasNewer: hasMoreAfter,
    loaded: true,
    loadingOlder: false,
    loadingNewer: false,
    firstItemIndex: FIRST_INDEX,
    version: tl.version + 1,
    markerSeq: null,
    focusSeq,
  };
}

/** Appends a newer page to a list opened at a message. */
export function appendNewer(tl: Timeline, page: Message[], hasMore: boolean): Timeline {
  return { ...tl, messages: mergeMessages(tl.messages, page), hasNewer: hasMore, loadingNewer: false };
}

/** The seq of the newest stored message of a list. */
export function newestSeq(messages: ChatMessage[]): number | null {
  for (let i = messages.length - 1; i >= 0; i--) if (!isLocal(messages[i]!)) return messages[i]!.seq;
  return null;
}
