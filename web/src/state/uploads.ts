// Uploads in flight, per room: each file is uploaded (XMLHttpRequest, with
// progress and abort), then sent as a message of type image/file. A failed
// upload stays in the tray with Retry; a cancelled one goes away.
import { createStore } from 'zustand/vanilla';
import type { Id, UploadedFile } from '../api/types';

export type UploadStatus = 'uploading' | 'failed';

export interface UploadJob {
  id: string;
  roomId: Id;
  name: string;
  type: string;
  size: number;
  /** 0..1 */
  progress: number;
  status: UploadStatus;
  error?: string;
}

export interface UploadDeps {
  upload: (roomId: Id, file: File, onProgress: (p: number) => void) => { promise: Promise<UploadedFile>; abort: () => void };
  /** Sends the uploaded file into the room as a message. */
  send: (roomId: Id, file: UploadedFile, name: string) => void;
  uuid: () => string;
}

export interface UploadsState {
  jobs: UploadJob[];
}

/** Human file sizes: 512 B, 12.3 KB, 4.5 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A short type label for a chip: "PNG", "PDF", "TXT", or "FILE". */
export function typeLabel(type: string, name: string): string {
  const known: Record<string, string> = {
    'image/png': 'PNG',
    'image/jpeg': 'JPEG',
    'image/gif': 'GIF',
    'image/webp': 'WEBP',
    'application/pdf': 'PDF',
    'application/zip': 'ZIP',
    'text/plain': 'TXT',
    'audio/mpeg': 'MP3',
    'video/mp4': 'MP4',
  };
  if (known[type]) return known[type]!;
  const ext = /\.([a-z0-9]{1,5})$/i.exec(name)?.[1];
  return ext ? ext.toUpperCase() : 'FILE';
}

export function createUploads(deps: UploadDeps) {
  const store = createStore<UploadsState>(() => ({ jobs: [] }));
  const files = new Map<string, File>();
  const aborts = new Map<string, () => void>();

  const patch = (id: string, p: Partial<UploadJob>) =>
    store.setState((s) => ({ jobs: s.jobs.map((j) => (j.id === id ? { ...j, ...p } : j)) }));
  const remove = (id: string) => {
    files.delete(id);
    aborts.delete(id);
    store.setState((s) => ({ jobs: s.jobs.filter((j) => j.id !== id) }));
  };

  function start(id: string) {
    const job = store.getState().jobs.find((j) => j.id === id);
    const file = files.get(id);
    if (!job || !file) return;
    patch(id, { status: 'uploading', progress: 0, error: undefined });
    const run = deps.upload(job.roomId, file, (p) => patch(id, { progress: p }));
    aborts.set(id, run.abort);
    run.promise.then(
      (uploaded) => {
        remove(id);
        deps.send(job.roomId, uploaded, file.name);
      },
      (err: unknown) => {
        aborts.delete(id);
        const code = (err as { code?: string } | null)?.code;
        if (code === 'aborted') {
          remove(id);
          return;
        }
        patch(id, { status: 'failed', error: err instanceof Error ? err.message : 'Upload failed' });
      },
    );
  }

  return {
    store,
    /** Queues and starts uploading every file (several at once are fine). */
    add(roomId: Id, list: Iterable<File>): void {
      for (const file of list) {
        const id = deps.uuid();
        files.set(id, file);
        const name = file.name || 'pasted-image.png';
        store.setState((s) => ({
          jobs: [...s.jobs, { id, roomId, name, type: file.type, size: file.size, progress: 0, status: 'uploading' }],
        }));
        start(id);
      }
    },
    cancel(id: string): void {
      const abort = aborts.get(id);
      if (abort) abort();
      else remove(id);
    },
    retry(id: string): void {
      start(id);
    },
    dismiss(id: string): void {
      remove(id);
    },
  };
}

export type Uploads = ReturnType<typeof createUploads>;
