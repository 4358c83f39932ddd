// One room (or DM) in the sidebar list, with its unread and mention badges.
import type { Room } from '../api/types';
import { usePresence, useRooms } from '../state';
import { roomTitle } from '../state/rooms';
import { Avatar } from './Avatar';
import { Icon } from './Icon';

interface Props {
  room: Room;
  active: boolean;
  onOpen: (room: Room) => void;
}

export function RoomListItem({ room, active, onOpen }: Props) {
  const peer = useRooms((s) => (room.isDirect ? s.dmPeers[room.id] : undefined));
  const online = usePresence((s) => (peer ? (s.presence[peer.id]?.online ?? false) : false));
  const title = roomTitle(room, peer ? { [room.id]: peer } : {});
  const unread = room.unread || 0;
  const mentions = room.mentions || 0;
  const label = [title, unread ? `${unread} unread` : '', mentions ? `${mentions} mentions` : ''].filter(Boolean).join(', ');
  return (
    <li>
      <button
        type="button"
        className={['room-item', active ? 'active' : '', unread ? 'has-unread' : ''].filter(Boolean).join(' ')}
        aria-current={active ? 'page' : undefined}
        aria-label={label}
        onClick={() => onOpen(room)}
        data-testid="room-item"
        data-room-id={room.id}
        data-room-name={title}
      >
        <span className="room-item-icon" aria-hidden="true">
          {room.isDirect && peer ? (
            <Avatar user={peer} size={26} online={online} />
          ) : (
            <Icon name={room.isPrivate ? 'lock' : 'hash'} size={16} />
          )}
        </span>
        <span className="room-item-name">{title}</span>
        {mentions > 0 && (
          <span className="badge badge-mention" data-testid="mention-badge" aria-hidden="true">
            @{mentions}
          </span>
        )}
        {unread > 0 && (
          <span className="badge" data-testid="unread-badge" aria-hidden="true">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
    </li>
  );
}
