// The composer's tray of files being uploaded.
import type { Id } from '../api/types';
import { uploads, useUploads } from '../state';
import { formatSize, typeLabel } from '../state/uploads';
import { Icon } from './Icon';

/** The files of one room being uploaded: a chip each, with progress, Cancel, or Retry. */
export function UploadTray({ roomId }: { roomId: Id }) {
  const all = useUploads((s) => s.jobs);
  const jobs = all.filter((j) => j.roomId === roomId);
  if (jobs.length === 0) return null;
  return (
    <ul className="upload-tray" aria-label="Uploads" data-testid="upload-tray">
      {jobs.map((j) => {
        const pct = Math.round(j.progress * 100);
        const failed = j.status === 'failed';
        return (
          <li key={j.id} className={failed ? 'upload-chip upload-failed' : 'upload-chip'} data-testid="upload-chip">
            <Icon name={j.type.startsWith('image/') ? 'image' : 'paperclip'} size={16} />
            <div className="upload-chip-body">
              <span className="upload-chip-name" title={j.name}>
                {j.name}
              </span>
              <span className="upload-chip-meta">
                {typeLabel(j.type, j.name)} · {formatSize(j.size)}
                {failed ? <span className="upload-chip-error" role="alert"> · {j.error}</span> : ` · ${pct}%`}
              </span>
              {!failed && (
                <div
                  className="upload-progress"
                  role="progressbar"
                  aria-label={`Uploading ${j.name}`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={pct}
                >
                  <div className="upload-progress-bar" style={{ width: `${pct}%` }} />
                </div>
              )}
            </div>
            {failed ? (
              <>
                <button type="button" className="icon-button small" aria-label={`Retry ${j.name}`} title="Retry" onClick={() => uploads.retry(j.id)}>
                  <Icon name="retry" size={14} />
                </button>
                <button type="button" className="icon-button small" aria-label={`Dismiss ${j.name}`} title="Dismiss" onClick={() => uploads.dismiss(j.id)}>
                  <Icon name="close" size={14} />
                </button>
              </>
            ) : (
              <button type="button" className="icon-button small" aria-label={`Cancel upload of ${j.name}`} title="Cancel" onClick={() => uploads.cancel(j.id)}>
                <Icon name="close" size={14} />
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
