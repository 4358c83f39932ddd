// The virtualized message list of a room: paging, unread marker, jump buttons, sticking to the bottom.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import type { Room } from '../api/types';
import { dayKey } from '../lib/time';
import { timelines, useRooms, useTimelines } from '../state';
import { isLocal, type ChatMessage } from '../state/timeline';
import { Icon } from './Icon';
import { MessageItem } from './MessageItem';
import { SeenBy } from './SeenBy';

interface Props {
  room: Room;
  canModerate: boolean;
  onReply: (m: ChatMessage) => void;
  onEdit: (m: ChatMessage) => void;
  onDelete: (m: ChatMessage) => void;
  onError: (msg: string) => void;
}

const GROUP_MS = 5 * 60_000;

function groupedWith(prev: ChatMessage | undefined, m: ChatMessage, markerSeq: number | null): boolean {
  if (!prev) return false;
  if (prev.userId !== m.userId) return false;
  if (dayKey(prev.createdAt) !== dayKey(m.createdAt)) return false;
  if (markerSeq !== null && m.seq === markerSeq) return false;
  if (m.replyToId) return false;
  return new Date(m.createdAt).getTime() - new Date(prev.createdAt).getTime() < GROUP_MS;
}

export function MessageList({ room, canModerate, onReply, onEdit, onDelete, onError }: Props) {
  const tl = useTimelines((s) => s.timelines[room.id]);
  const me = useRooms((s) => s.me);
  const atBottom = useTimelines((s) => s.atBottom);
  const scrollNonce = useTimelines((s) => s.scrollNonce);
  const ref = useRef<VirtuosoHandle>(null);
  // While the reader is at the bottom, stay there when heights change (images, "Seen by").
  const stick = useRef(true);
  const scroller = useRef<HTMLElement | null>(null);
  const toBottom = useCallback((behavior: 'auto' | 'smooth' = 'auto') => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior });
  }, []);
  const messages = useMemo(() => tl?.messages ?? [], [tl?.messages]);
  const firstItemIndex = tl?.firstItemIndex ?? 0;
  const markerSeq = tl?.markerSeq ?? null;
  // Opened at a message (a search result): land on it, not on the newest.
  const focusSeq = tl?.focusSeq ?? null;
  const focusIndex = focusSeq === null ? -1 : messages.findIndex((m) => m.seq === focusSeq);
  // "Jump to first unread" while the unread marker is above the first visible item.
  // Only that yes/no is state: the visible range changes with every layout pass.
  const markerIndex = markerSeq === null ? -1 : messages.findIndex((m) => m.seq === markerSeq);
  const markerRef = useRef(markerIndex);
  markerRef.current = markerIndex;
  const [markerAbove, setMarkerAbove] = useState(false);
  const unreadAbove = markerAbove && markerIndex >= 0;
  // the first rendered item (the range includes what is rendered beyond the viewport)
  const renderedTop = useRef(0);
  const checkMarker = useCallback(() => {
    const sc = scroller.current;
    let above = false;
    if (sc && markerRef.current >= 0) {
      const el = sc.querySelector('.new-marker');
      above = el
        ? el.getBoundingClientRect().bottom <= sc.getBoundingClientRect().top + 1
        : markerRef.current < renderedTop.current;
    }
    setMarkerAbove((was) => (was === above ? was : above));
  }, []);

  useEffect(() => {
    if (scrollNonce === 0) return;
    stick.current = true;
    const t = setTimeout(() => toBottom(), 0);
    return () => clearTimeout(t);
  }, [scrollNonce, toBottom]);

  // Land on the newest message once the first page is measured.
  const loaded = !!tl?.loaded;
  useEffect(() => {
    if (!loaded) return;
    if (focusSeq !== null) {
      // Centre the message the list was opened at, once it is measured.
      stick.current = false;
      const timers = [50, 200, 500].map((ms) =>
        setTimeout(() => {
          const el = scroller.current?.querySelector('.msg-highlight');
          if (el instanceof HTMLElement) el.scrollIntoView({ block: 'center' });
        }, ms),
      );
      return () => timers.forEach(clearTimeout);
    }
    stick.current = true;
    const timers = [0, 50, 150, 300].map((ms) =>
      setTimeout(() => {
        stick.current = true;
        toBottom();
      }, ms),
    );
    return () => timers.forEach(clearTimeout);
  }, [loaded, tl?.version, toBottom]);

  useEffect(() => {
    const sc = scroller.current;
    if (!sc) return;
    checkMarker();
    sc.addEventListener('scroll', checkMarker, { passive: true });
    return () => sc.removeEventListener('scroll', checkMarker);
  }, [checkMarker, loaded, room.id, tl?.version, markerIndex]);

  const startReached = useCallback(() => {
    timelines.loadOlder(room.id).catch(() => onError('Could not load older messages.'));
  }, [room.id, onError]);

  const endReached = useCallback(() => {
    timelines.loadNewer(room.id).catch(() => onError('Could not load newer messages.'));
  }, [room.id, onError]);
  const hasNewer = !!tl?.hasNewer;

  const lastStoredId = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) if (!isLocal(messages[i]!)) return messages[i]!.id;
    return null;
  }, [messages]);

  if (!tl || !tl.loaded) {
    return (
      <div className="message-list loading" aria-busy="true">
        <div className="skeleton" />
        <div className="skeleton short" />
        <div className="skeleton" />
      </div>
    );
  }

  if (messages.length === 0) {
    return (
      <div className="message-list empty">
        <div className="room-intro">
          <h2>{room.isDirect ? 'This is the start of your conversation' : `Welcome to #${room.name}`}</h2>
          <p className="muted">{room.description || 'Say hello — messages you send here appear for everyone in the room.'}</p>
        </div>
      </div>
    );
  }

  return (
    <div className="message-list" data-testid="message-list">
      <Virtuoso
        key={`${room.id}:${tl.version}`}
        ref={ref}
        scrollerRef={(el) => {
          scroller.current = el instanceof HTMLElement ? el : null;
        }}
        className="virtuoso"
        data={messages}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={
          focusIndex >= 0
            ? { index: focusIndex, align: 'center' }
            : { index: Math.max(0, messages.length - 1), align: 'end' }
        }
        startReached={startReached}
        endReached={endReached}
        followOutput={(bottom) => (bottom && focusSeq === null ? 'auto' : false)}
        atBottomStateChange={(b) => {
          stick.current = b;
          timelines.setAtBottom(b);
        }}
        totalListHeightChanged={() => {
          // Opened at a message: pages loading around it must not pull the list away.
          if (stick.current && focusSeq === null) toBottom();
        }}
        rangeChanged={(r) => {
          // indices count from firstItemIndex, as in itemContent
          renderedTop.current = r.startIndex >= firstItemIndex ? r.startIndex - firstItemIndex : r.startIndex;
          checkMarker();
        }}
        atBottomThreshold={60}
        increaseViewportBy={{ top: 600, bottom: 300 }}
        computeItemKey={(_, m) => m.clientId ?? m.id}
        components={{
          Header: () =>
            tl.hasMore ? (
              <div className="list-header">{tl.loadingOlder ? 'Loading older messages…' : ' '}</div>
            ) : (
              <div className="room-intro">
                <h2>{room.isDirect ? 'This is the start of your conversation' : `This is the start of #${room.name}`}</h2>
                {room.description && <p className="muted">{room.description}</p>}
              </div>
            ),
          Footer: () =>
            hasNewer ? (
              <div className="list-header">{tl.loadingNewer ? 'Loading newer messages…' : ' '}</div>
            ) : (
              <SeenBy roomId={room.id} />
            ),
        }}
        itemContent={(index, m) => {
          const i = index - firstItemIndex;
          const prev = i > 0 ? messages[i - 1] : undefined;
          const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
          return (
            <MessageItem
              message={m}
              me={me}
              grouped={groupedWith(prev, m, markerSeq)}
              showDay={newDay}
              showMarker={markerSeq !== null && m.seq === markerSeq && !isLocal(m)}
              highlighted={focusSeq !== null && m.seq === focusSeq && !isLocal(m)}
              isLast={m.id === lastStoredId}
              canModerate={canModerate}
              onReply={onReply}
              onEdit={onEdit}
              onDelete={onDelete}
              onError={onError}
            />
          );
        }}
      />
      {unreadAbove && markerSeq !== null && (
        <button
          type="button"
          className="jump-button jump-unread"
          onClick={() => {
            stick.current = false;
            void timelines.jumpTo(room.id, markerSeq).catch(() => onError('Could not load the first unread message.'));
          }}
        >
          <Icon name="arrowUp" size={16} />
          Jump to first unread
        </button>
      )}
      {(!atBottom || hasNewer) && (
        <button
          type="button"
          className="jump-button"
          onClick={() => {
            stick.current = true;
            if (hasNewer || focusSeq !== null) void timelines.jumpToNewest(room.id).catch(() => onError('Could not load the newest messages.'));
            else toBottom('smooth');
          }}
        >
          <Icon name="arrowDown" size={16} />
          {markerSeq !== null ? 'New messages' : 'Jump to newest'}
        </button>
      )}
    </div>
  );
}
