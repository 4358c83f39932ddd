// The app's store instances, wired to the real REST client and socket, and hooks to read them.
import { useStore } from 'zustand';
import { rest } from '../api/rest';
import { connection, realtime, type ConnectionState } from '../api/socket';
import { useSyncExternalStore } from 'react';
import { uuid } from '../lib/uuid';
import { createChat, type ChatState } from './chat';
import { sessionStore, type SessionState } from './session';
import { themeStore, type ThemeChoice } from './theme';

export const chat = createChat({ rest, realtime, uuid, now: () => Date.now() });

export function useChat<T>(selector: (s: ChatState) => T): T {
  return useStore(chat.store, selector);
}

export function useSession<T>(selector: (s: SessionState) => T): T {
  return useStore(sessionStore, selector);
}

export function useTheme(): ThemeChoice {
  return useStore(themeStore, (s) => s.choice);
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(connection.subscribe, connection.getState, connection.getState);
}

// ---- uploads (files in flight, per room) ----
import { uploadFile } from '../api/rest';
import { createUploads, type UploadsState } from './uploads';

export const uploads = createUploads({
  upload: uploadFile,
  // The file's name shows on its chip (from /info), so the text stays empty.
  send: (roomId, file) =>
    chat.send(roomId, '', { type: file.contentType.startsWith('image/') ? 'image' : 'file', fileUrl: file.url }),
  uuid,
});

export function useUploads<T>(selector: (s: UploadsState) => T): T {
  return useStore(uploads.store, selector);
}
