// Builds every store and the session controller from their dependencies.
// The real REST client and socket come from index.ts; tests pass fakes (test/app.ts).
import type { RestApi } from '../api/rest';
import type { RealtimeApi } from '../api/socket';
import { createSessionController, type ControllerDeps } from './controller';
import { createPresence } from './presence';
import { createRooms } from './rooms';
import { createSending } from './sending';
import { createSync } from './sync';
import { createTimelines } from './timelines';
import { createTyping } from './typing';
import { createUploads, type UploadDeps } from './uploads';

export interface AppDeps extends Pick<ControllerDeps, 'connection' | 'signedOut' | 'forgetPush' | 'notify' | 'focusReports'> {
  rest: RestApi;
  realtime: RealtimeApi;
  upload: UploadDeps['upload'];
  uuid: () => string;
  now: () => number;
}

export function createApp(deps: AppDeps) {
  const { rest, realtime, uuid, now } = deps;
  const presence = createPresence();
  const rooms = createRooms({ rest, realtime, presence, now });
  const typing = createTyping({ realtime, now, myId: () => rooms.store.getState().me?.id });
  const timelines = createTimelines({ rest, realtime, rooms, typing, now });
  const sync = createSync({ rest, realtime, rooms, timelines });
  const sending = createSending({ realtime, rooms, timelines, uuid, now });
  const uploads = createUploads({
    upload: deps.upload,
    // The file's name shows on its chip (from /info), so the text stays empty.
    send: (roomId, file) =>
      sending.send(roomId, '', { type: file.contentType.startsWith('image/') ? 'image' : 'file', fileUrl: file.url }),
    uuid,
  });
  const controller = createSessionController({ ...deps, rooms, timelines, sync, presence, typing });
  return { presence, rooms, typing, timelines, sync, sending, uploads, controller };
}

export type App = ReturnType<typeof createApp>;
