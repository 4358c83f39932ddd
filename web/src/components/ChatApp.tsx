// The signed-in app: starts the session, follows the URL, lays out sidebar, room and dialogs.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Room } from '../api/types';
import { controller, rooms as roomsStore, timelines, useRooms, useSession, useSessionPhase } from '../state';
import { roomTitle, sortedRooms, totalUnread } from '../state/rooms';
import { setFavicon } from '../lib/attention';
import { CreateRoomDialog } from './CreateRoomDialog';
import { EmptyState } from './EmptyState';
import { LiveAnnouncer } from './LiveAnnouncer';
import { NewDmDialog } from './NewDmDialog';
import { RoomBrowserDialog } from './RoomBrowserDialog';
import { RoomSettingsDialog } from './RoomSettingsDialog';
import { RoomView } from './RoomView';
import { Sidebar } from './Sidebar';

type DialogKind = 'browse' | 'create' | 'dm' | 'settings' | null;

// `#/room/<id>`, or `#/room/<id>/message/<id>` (where a push opens)
const HASH = /^#\/room\/([^/]+)(?:\/message\/[^/]+)?$/;

function roomFromHash(hash = window.location.hash): string | null {
  const m = HASH.exec(hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

/** The signed-in app: starts the session controller, lays out sidebar and room. */
export function ChatApp() {
  const user = useSession((s) => s.user)!;
  const token = useSession((s) => s.token);
  const rooms = useRooms((s) => s.rooms);
  const peers = useRooms((s) => s.dmPeers);
  const activeRoomId = useRooms((s) => s.activeRoomId);
  const ready = useSessionPhase((s) => s.phase === 'ready');
  const loadError = useSessionPhase((s) => s.error);
  const [dialog, setDialog] = useState<DialogKind>(null);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(() => window.matchMedia?.('(min-width: 1100px)').matches ?? true);

  // Load the rooms, then connect (each connect syncs every room); stop on the way out.
  useEffect(() => {
    void controller.start(user, token);
    return () => controller.stop();
  }, [user, token]);

  // Open the room in the URL, else the last one, else the first.
  useEffect(() => {
    if (!ready || activeRoomId) return;
    const sorted = sortedRooms(rooms);
    const list = [...sorted.filter((r) => !r.isDirect), ...sorted.filter((r) => r.isDirect)];
    if (list.length === 0) return;
    let saved: string | null = null;
    try {
      saved = localStorage.getItem('natter.room');
    } catch {
      saved = null;
    }
    const want = [roomFromHash(), saved].find((id) => id && rooms[id]) ?? list[0]!.id;
    void timelines.openRoom(want);
  }, [ready, rooms, activeRoomId]);

  // A push (service worker message) or a link changed the hash: open that room.
  useEffect(() => {
    const go = (hash: string) => {
      const id = roomFromHash(hash);
      if (id && id !== roomsStore.store.getState().activeRoomId) void timelines.openRoom(id);
    };
    const onHash = () => go(window.location.hash);
    const onWorker = (e: MessageEvent<unknown>) => {
      const d = e.data as { type?: string; url?: string } | null;
      if (d?.type !== 'natter:open' || typeof d.url !== 'string') return;
      const u = new URL(d.url, window.location.origin);
      if (u.origin !== window.location.origin) return;
      go(u.hash);
    };
    window.addEventListener('hashchange', onHash);
    navigator.serviceWorker?.addEventListener('message', onWorker);
    return () => {
      window.removeEventListener('hashchange', onHash);
      navigator.serviceWorker?.removeEventListener('message', onWorker);
    };
  }, []);

  useEffect(() => {
    if (!activeRoomId) return;
    const h = `#/room/${encodeURIComponent(activeRoomId)}`;
    if (window.location.hash !== h) window.history.replaceState(null, '', h);
    try {
      localStorage.setItem('natter.room', activeRoomId);
    } catch {
      /* not persisted */
    }
  }, [activeRoomId]);

  // Tab title shows the total unread count.
  const unread = totalUnread(rooms);
  const active = activeRoomId ? rooms[activeRoomId] : undefined;
  useEffect(() => {
    const name = active ? (active.isDirect ? roomTitle(active, peers) : `#${active.name}`) : 'Natter';
    document.title = `${unread > 0 ? `(${unread}) ` : ''}${name} · Natter`;
  }, [unread, active, peers]);
  useEffect(() => setFavicon(unread), [unread]);
  useEffect(() => () => setFavicon(0), []);

  useEffect(() => {
    const onVis = () => timelines.setVisible(document.visibilityState === 'visible');
    window.addEventListener('focus', onVis);
    document.addEventListener('visibilitychange', onVis);
    onVis();
    return () => {
      window.removeEventListener('focus', onVis);
      document.removeEventListener('visibilitychange', onVis);
    };
  }, []);

  const ordered = useMemo(() => {
    const list = sortedRooms(rooms);
    return [...list.filter((r) => !r.isDirect), ...list.filter((r) => r.isDirect)];
  }, [rooms]);

  const open = useCallback((room: Room | string) => {
    const id = typeof room === 'string' ? room : room.id;
    void timelines.openRoom(id);
    setDrawerOpen(false);
  }, []);

  // Alt+↑ / Alt+↓ switch rooms.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
      if (ordered.length === 0) return;
      e.preventDefault();
      const i = ordered.findIndex((r) => r.id === roomsStore.store.getState().activeRoomId);
      const next = e.key === 'ArrowUp' ? (i <= 0 ? ordered.length - 1 : i - 1) : (i + 1) % ordered.length;
      open(ordered[next]!);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ordered, open]);

  return (
    <div className={drawerOpen ? 'app drawer-open' : 'app'}>
      <Sidebar
        rooms={ordered}
        onOpen={open}
        onBrowse={() => setDialog('browse')}
        onCreate={() => setDialog('create')}
        onNewDm={() => setDialog('dm')}
        onCloseDrawer={() => setDrawerOpen(false)}
        drawerOpen={drawerOpen}
      />
      <div className="drawer-scrim" onClick={() => setDrawerOpen(false)} aria-hidden="true" />
      <main className="main" aria-label="Conversation">
        {active ? (
          <RoomView
            key={active.id}
            room={active}
            membersOpen={membersOpen}
            onToggleMembers={() => setMembersOpen((v) => !v)}
            onOpenDrawer={() => setDrawerOpen(true)}
            onOpenSettings={() => setDialog('settings')}
          />
        ) : (
          <EmptyState
            ready={ready}
            error={loadError}
            onBrowse={() => setDialog('browse')}
            onCreate={() => setDialog('create')}
            onOpenDrawer={() => setDrawerOpen(true)}
          />
        )}
      </main>
      <LiveAnnouncer />
      {dialog === 'browse' && <RoomBrowserDialog onClose={() => setDialog(null)} onOpen={open} />}
      {dialog === 'create' && <CreateRoomDialog onClose={() => setDialog(null)} onCreated={open} />}
      {dialog === 'dm' && <NewDmDialog onClose={() => setDialog(null)} onOpened={open} />}
      {dialog === 'settings' && active && <RoomSettingsDialog room={active} onClose={() => setDialog(null)} />}
    </div>
  );
}
