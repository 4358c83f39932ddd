// Tests of the uploads store: parallel uploads, failure and retry, cancel, labels.
import { describe, expect, test } from 'vitest';
import type { UploadedFile } from '../api/types';
import { createUploads, formatSize, typeLabel } from './uploads';

function harness() {
  const runs: { file: File; progress: (p: number) => void; resolve: (f: UploadedFile) => void; reject: (e: unknown) => void; aborted: boolean }[] = [];
  const sent: { roomId: string; url: string; name: string }[] = [];
  let n = 0;
  const uploads = createUploads({
    upload: (_roomId, file, progress) => {
      const run = { file, progress, resolve: (_: UploadedFile) => {}, reject: (_: unknown) => {}, aborted: false };
      const promise = new Promise<UploadedFile>((resolve, reject) => {
        run.resolve = resolve;
        run.reject = reject;
      });
      runs.push(run);
      return {
        promise,
        abort: () => {
          run.aborted = true;
          run.reject(Object.assign(new Error('Upload cancelled.'), { code: 'aborted' }));
        },
      };
    },
    send: (roomId, f, name) => sent.push({ roomId, url: f.url, name }),
    uuid: () => `u${++n}`,
  });
  return { uploads, runs, sent, jobs: () => uploads.store.getState().jobs };
}

const file = (name: string, type = 'text/plain') => new File(['hello'], name, { type });
const uploaded = (id: string): UploadedFile => ({ id, url: `/api/files/${id}`, name: 'a.txt', thumbnailUrl: null, contentType: 'text/plain', size: 5 });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('uploads', () => {
  test('several files upload at once, with progress, and are sent when done', async () => {
    const h = harness();
    h.uploads.add('r1', [file('a.txt'), file('b.png', 'image/png')]);
    expect(h.jobs().map((j) => [j.name, j.status])).toEqual([
      ['a.txt', 'uploading'],
      ['b.png', 'uploading'],
    ]);
    h.runs[0]!.progress(0.5);
    expect(h.jobs()[0]!.progress).toBe(0.5);
    h.runs[0]!.resolve(uploaded('1'));
    await tick();
    expect(h.sent).toEqual([{ roomId: 'r1', url: '/api/files/1', name: 'a.txt' }]);
    expect(h.jobs().map((j) => j.name)).toEqual(['b.png']);
  });

  test('a failure stays with its error until retried; cancel removes it', async () => {
    const h = harness();
    h.uploads.add('r1', [file('a.txt')]);
    h.runs[0]!.reject(new Error('file storage failed'));
    await tick();
    expect(h.jobs()[0]).toMatchObject({ status: 'failed', error: 'file storage failed' });
    h.uploads.retry(h.jobs()[0]!.id);
    expect(h.jobs()[0]).toMatchObject({ status: 'uploading', progress: 0 });
    expect(h.runs).toHaveLength(2);
    h.uploads.cancel(h.jobs()[0]!.id);
    await tick();
    expect(h.runs[1]!.aborted).toBe(true);
    expect(h.jobs()).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  test('sizes and type labels read well', () => {
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(2048)).toBe('2.0 KB');
    expect(formatSize(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(typeLabel('image/png', 'x')).toBe('PNG');
    expect(typeLabel('application/octet-stream', 'notes.md')).toBe('MD');
    expect(typeLabel('', 'noext')).toBe('FILE');
  });
});
