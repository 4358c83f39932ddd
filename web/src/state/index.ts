// The state's public entry: the app's stores and session controller, and a hook per store.
// Wired here to the real REST client and socket.
import { useSyncExternalStore } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import { rest, uploadFile } from '../api/rest';
import { connection, realtime, type ConnectionState } from '../api/socket';
import { pageNotify, startFocusReports } from '../lib/attention';
import { forgetPushOnThisDevice } from '../lib/push';
import { uuid } from '../lib/uuid';
import { createApp } from './app';
import { sessionStore, signedOut } from './session';
import { themeStore, type ThemeChoice } from './theme';

export const { presence, rooms, typing, timelines, sync, sending, uploads, controller } = createApp({
  rest,
  realtime,
  connection,
  upload: uploadFile,
  uuid,
  now: () => Date.now(),
  signedOut,
  forgetPush: forgetPushOnThisDevice,
  notify: pageNotify,
  focusReports: startFocusReports,
});

/** The hook that reads `store` through a selector (re-rendering when the selection changes). */
function hookOf<S>(store: StoreApi<S>): <T>(selector: (s: S) => T) => T {
  return (selector) => useStore(store, selector);
}

export const useRooms = hookOf(rooms.store);
export const useTimelines = hookOf(timelines.store);
export const usePresence = hookOf(presence.store);
export const useTyping = hookOf(typing.store);
export const useSync = hookOf(sync.store);
export const useUploads = hookOf(uploads.store);
/** The session controller's phase: rooms loading, ready, or failed (with why). */
export const useSessionPhase = hookOf(controller.store);
export const useSession = hookOf(sessionStore);

export function useTheme(): ThemeChoice {
  return useStore(themeStore, (s) => s.choice);
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(connection.subscribe, connection.getState, connection.getState);
}
