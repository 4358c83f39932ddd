import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, rest } from '../api/rest';
import { connection } from '../api/socket';
import type { Room } from '../api/types';
import { chat, useChat, useSession } from '../state';
import { roomTitle, sortedRooms, totalUnread } from '../state/chat';
import { signedOut } from '../state/session';
import { pageNotify, notifies, setFavicon, startFocusReports } from '../lib/attention';
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

/** The signed-in app: starts the store and the socket, lays out sidebar and room. */
export function ChatApp() {
  const user = useSession((s) => s.user)!;
  const token = useSession((s) => s.token);
  const rooms = useChat((s) => s.rooms);
  const peers = useChat((s) => s.dmPeers);
  const activeRoomId = useChat((s) => s.activeRoomId);
  const [ready, setReady] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<DialogKind>(null);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(() => window.matchMedia?.('(min-width: 1100px)').matches ?? true);

  // Start the store, then the socket (its connect handler syncs every room).
  useEffect(() => {
    let cancelled = false;
    chat
      .start(user)
      .then(() => {
        if (cancelled) return;
        setReady(true);
        const title = (roomId: string, kind: 'dm' | 'mention' | 'message', name: string) => {
          const r = chat.store.getState().rooms[roomId];
          return kind === 'dm' || r?.isDirect ? name : `${name} in #${r?.name ?? ''}`;
        };
        const openAt = (roomId: string) => () => void chat.openRoom(roomId);
        connection.start(token, {
          ...chat.handlers,
          // while hidden and without Web Push here, the page notifies: mentions from the
          // `notification` event, every other message its room's level lets through
          // (DMs at their default `all`, whether sent by dm:send or message:send)
          onNotification: (p) => {
            chat.handlers.onNotification(p);
            const r = chat.store.getState().rooms[p.roomId];
            if (p.kind !== 'mention' || r?.notifications === 'none') return;
            pageNotify(r, title(p.roomId, p.kind, p.message.user.name || p.message.user.username), p.message, openAt(p.roomId));
          },
          onRoomChange: (c) => {
            chat.handlers.onRoomChange(c);
            if (c.kind !== 'new' || c.message.userId === user.id) return;
            const r = chat.store.getState().rooms[c.roomId];
            const mentioned = c.message.mentions.includes(user.id);
            if (!r || mentioned || !notifies(r.notifications, r.isDirect, false)) return;
            const kind = r.isDirect ? 'dm' : 'message';
            pageNotify(r, title(c.roomId, kind, c.message.user.name || c.message.user.username), c.message, openAt(c.roomId));
          },
          onAuthFailed: () => {
            rest.me().catch((e: unknown) => {
              if (e instanceof ApiError && e.status === 401) signedOut();
            });
          },
        });
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) signedOut();
        else setLoadError(e instanceof Error ? e.message : 'Could not load your rooms.');
      });
    return () => {
      cancelled = true;
      connection.stop();
      chat.reset();
    };
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
    void chat.openRoom(want);
  }, [ready, rooms, activeRoomId]);

  // A push (service worker message) or a link changed the hash: open that room.
  useEffect(() => {
    const go = (hash: string) => {
      const id = roomFromHash(hash);
      if (id && id !== chat.store.getState().activeRoomId) void chat.openRoom(id);
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

  // Tell the server which room this tab is looking at (no push for it).
  const focusReports = useRef<ReturnType<typeof startFocusReports> | null>(null);
  useEffect(() => {
    const f = startFocusReports(chat.store.getState().activeRoomId ?? null);
    focusReports.current = f;
    return () => {
      f.stop();
      focusReports.current = null;
    };
  }, []);
  useEffect(() => {
    focusReports.current?.setRoom(activeRoomId ?? null);
  }, [activeRoomId]);

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
    const onVis = () => chat.setVisible(document.visibilityState === 'visible');
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
    void chat.openRoom(id);
    setDrawerOpen(false);
  }, []);

  // Alt+↑ / Alt+↓ switch rooms.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
      if (ordered.length === 0) return;
      e.preventDefault();
      const i = ordered.findIndex((r) => r.id === chat.store.getState().activeRoomId);
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
