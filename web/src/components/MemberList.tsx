// The member panel of a room: online and offline members with their roles.
import { useMemo } from 'react';
import type { Member, Room } from '../api/types';
import { memberPresence } from '../lib/presence';
import { lastSeenText } from '../lib/time';
import { useDrawer } from '../lib/useDrawer';
import { useConnectionState, usePresence, useRooms } from '../state';
import { Avatar } from './Avatar';
import { Icon } from './Icon';

interface Props {
  room: Room;
  onClose: () => void;
}

const ROLE_ORDER = { admin: 0, moderator: 1, member: 2 } as const;

export function MemberList({ room, onClose }: Props) {
  const members = useRooms((s) => s.members[room.id]);
  const presence = usePresence((s) => s.presence);
  const me = useRooms((s) => s.me);
  const connection = useConnectionState();
  // below 1100 px the panel is a drawer over the conversation
  const panel = useDrawer(true, onClose, '(max-width: 1099px)');
  const [online, offline] = useMemo(() => {
    const list = [...(members ?? [])].sort(
      (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.user.name || a.user.username).localeCompare(b.user.name || b.user.username),
    );
    const isOn = (m: Member) => memberPresence(m, presence, me?.id, connection).online;
    return [list.filter(isOn), list.filter((m) => !isOn(m))];
  }, [members, presence, me?.id, connection]);

  const row = (m: Member) => {
    const { online: on, lastSeen } = memberPresence(m, presence, me?.id, connection);
    return (
      <li key={m.user.id} className="member" data-testid="member" data-username={m.user.username} data-online={on ? 'true' : 'false'}>
        <Avatar user={m.user} size={30} online={on} />
        <div className="member-text">
          <span className="member-name">
            {m.user.name || m.user.username}
          </span>
          <span className="member-sub" title={on ? 'Online' : lastSeenText(lastSeen)}>
            @{m.user.username}
            {m.user.id === me?.id && ' · you'}
          </span>
        </div>
        {m.role !== 'member' && <span className={`role role-${m.role}`}>{m.role}</span>}
      </li>
    );
  };

  return (
    <>
    <div className="members-scrim" onClick={onClose} aria-hidden="true" />
    <aside className="members" aria-label="Members" ref={panel}>
      <header className="members-header">
        <h2>Members</h2>
        <button type="button" className="icon-button" aria-label="Hide members" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      {!members ? (
        <p className="muted pad">Loading…</p>
      ) : (
        <div className="members-scroll">
          <h3 className="members-group">Online — {online.length}</h3>
          <ul className="member-list">{online.map(row)}</ul>
          {offline.length > 0 && (
            <>
              <h3 className="members-group">Offline — {offline.length}</h3>
              <ul className="member-list offline">{offline.map(row)}</ul>
            </>
          )}
        </div>
      )}
    </aside>
    </>
  );
}
