// The sidebar: brand, room and DM lists, connection state, notifications, account menu.
import type { Room } from '../api/types';
import { useRooms, useSession } from '../state';
import { useDrawer } from '../lib/useDrawer';
import { AccountMenu } from './AccountMenu';
import { Avatar } from './Avatar';
import { ConnectionIndicator } from './ConnectionIndicator';
import { Icon } from './Icon';
import { NotificationsControl } from './NotificationsControl';
import { RoomListItem } from './RoomListItem';
import { ThemeToggle } from './ThemeToggle';

interface Props {
  rooms: Room[];
  onOpen: (room: Room) => void;
  onBrowse: () => void;
  onCreate: () => void;
  onNewDm: () => void;
  onCloseDrawer: () => void;
  /** Shown as a drawer (phones). */
  drawerOpen: boolean;
}

export function Sidebar({ rooms, onOpen, onBrowse, onCreate, onNewDm, onCloseDrawer, drawerOpen }: Props) {
  const panel = useDrawer(drawerOpen, onCloseDrawer, '(max-width: 760px)');
  const me = useSession((s) => s.user)!;
  const activeRoomId = useRooms((s) => s.activeRoomId);
  const channels = rooms.filter((r) => !r.isDirect);
  const dms = rooms.filter((r) => r.isDirect);

  return (
    <nav className="sidebar" aria-label="Rooms and direct messages" ref={panel}>
      <div className="sidebar-top">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Natter</span>
        </div>
        <div className="sidebar-top-actions">
          <ThemeToggle />
          <button type="button" className="icon-button drawer-close" aria-label="Close sidebar" onClick={onCloseDrawer}>
            <Icon name="close" />
          </button>
        </div>
      </div>
      <button type="button" className="sidebar-search" onClick={onBrowse}>
        <Icon name="compass" size={16} />
        <span>Browse rooms</span>
      </button>

      <div className="sidebar-scroll">
        <section className="sidebar-section" aria-labelledby="rooms-heading">
          <div className="sidebar-section-head">
            <h2 id="rooms-heading">Rooms</h2>
            <button type="button" className="icon-button small" aria-label="Create a room" title="Create a room" onClick={onCreate}>
              <Icon name="plus" size={16} />
            </button>
          </div>
          {channels.length === 0 ? (
            <p className="sidebar-empty">
              No rooms yet.{' '}
              <button type="button" className="link-button" onClick={onBrowse}>
                Find one
              </button>
            </p>
          ) : (
            <ul className="room-list">
              {channels.map((r) => (
                <RoomListItem key={r.id} room={r} active={r.id === activeRoomId} onOpen={onOpen} />
              ))}
            </ul>
          )}
        </section>

        <section className="sidebar-section" aria-labelledby="dms-heading">
          <div className="sidebar-section-head">
            <h2 id="dms-heading">Direct messages</h2>
            <button type="button" className="icon-button small" aria-label="New direct message" title="New direct message" onClick={onNewDm}>
              <Icon name="plus" size={16} />
            </button>
          </div>
          {dms.length === 0 ? (
            <p className="sidebar-empty">
              <button type="button" className="link-button" onClick={onNewDm}>
                Message someone
              </button>
            </p>
          ) : (
            <ul className="room-list">
              {dms.map((r) => (
                <RoomListItem key={r.id} room={r} active={r.id === activeRoomId} onOpen={onOpen} />
              ))}
            </ul>
          )}
        </section>
      </div>

      <NotificationsControl />
      <div className="sidebar-footer">
        <Avatar user={me} size={32} />
        <div className="me">
          <span className="me-name">{me.name || me.username}</span>
          <ConnectionIndicator />
        </div>
        <AccountMenu />
      </div>
    </nav>
  );
}
