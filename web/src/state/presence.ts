// Presence store: who is online and when each person was last seen.
// Seeded from member lists, moved by live user:online / user:offline events.
import { createStore } from 'zustand/vanilla';
import type { Id, Member } from '../api/types';
import type { PresenceEntry } from '../lib/presence';

export type Presence = PresenceEntry;

export interface PresenceState {
  presence: Record<Id, Presence>;
}

export function createPresence() {
  const store = createStore<PresenceState>(() => ({ presence: {} }));
  const put = (userId: Id, p: Presence) => store.setState({ presence: { ...store.getState().presence, [userId]: p } });

  return {
    store,
    /** Takes what a member list says (the server's snapshot) for each member. */
    seed(members: Member[]): void {
      const presence = { ...store.getState().presence };
      for (const m of members) presence[m.user.id] = { online: m.online, lastSeen: m.lastSeen };
      store.setState({ presence });
    },
    online(userId: Id): void {
      put(userId, { online: true, lastSeen: null });
    },
    offline(userId: Id, lastSeen: string | null): void {
      put(userId, { online: false, lastSeen });
    },
    reset(): void {
      store.setState({ presence: {} });
    },
  };
}

export type PresenceStore = ReturnType<typeof createPresence>;
