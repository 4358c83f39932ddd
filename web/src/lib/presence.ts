// Who counts as online in member lists: the viewer by their own connection (the
// server's member snapshot may predate their socket), everyone else by the latest
// live presence event, falling back to the snapshot.
import type { ConnectionState } from '../api/socket';
import type { Id, Member } from '../api/types';

export interface PresenceEntry {
  online: boolean;
  lastSeen: string | null;
}

export function memberPresence(
  m: Member,
  presence: Record<Id, PresenceEntry>,
  meId: Id | undefined,
  connection: ConnectionState,
): PresenceEntry {
  if (m.user.id === meId) {
    const online = connection === 'online';
    return { online, lastSeen: online ? null : (presence[m.user.id]?.lastSeen ?? m.lastSeen) };
  }
  return presence[m.user.id] ?? { online: m.online, lastSeen: m.lastSeen };
}
