// An attachment in a message: an image preview that opens the lightbox, or a file chip.
import { useEffect, useState } from 'react';
import { fileInfo } from '../api/rest';
import type { UploadedFile } from '../api/types';
import { isSafeUrl } from '../lib/markdown';
import type { ChatMessage } from '../state/timeline';
import { formatSize, typeLabel } from '../state/uploads';
import { Icon } from './Icon';
import { Lightbox } from './Lightbox';

/** What the server says about a file of ours (name, type, size), once. */
function useFileInfo(url: string | null): UploadedFile | null {
  const [info, setInfo] = useState<UploadedFile | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    fileInfo(url).then(
      (i) => live && setInfo(i),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [url]);
  return info;
}

/** An uploaded file or image (served by our server to room members only):
 *  images as a preview that opens a lightbox, other files as a chip. */
export function Attachment({ message }: { message: ChatMessage }) {
  const raw = message.fileUrl;
  const url = raw && isSafeUrl(raw) && /^\/api\/files\/\d+$/.test(raw) ? raw : null;
  const info = useFileInfo(url && !message.id.startsWith('local:') ? url : null);
  const [open, setOpen] = useState(false);
  if (!url) return null;
  const name = info?.name || message.content || 'file';
  if (message.type === 'image') {
    const w = info?.width;
    const h = info?.height;
    // The thumbnail is at most 360 px a side; keep the image's shape while it loads.
    const scale = w && h ? Math.min(1, 360 / Math.max(w, h)) : 1;
    return (
      <>
        <button
          type="button"
          className="attachment-image"
          aria-label={`Open image ${name}`}
          onClick={() => setOpen(true)}
          data-testid="attachment-image"
        >
          <img
            src={`${url}/thumb`}
            alt={name}
            loading="lazy"
            width={w ? Math.round(w * scale) : undefined}
            height={h ? Math.round(h * scale) : undefined}
          />
        </button>
        {open && <Lightbox src={url} alt={name} name={name} onClose={() => setOpen(false)} />}
      </>
    );
  }
  return (
    <a className="attachment-file" href={url} download={name} data-testid="attachment-file">
      <Icon name="paperclip" size={16} />
      <span className="attachment-file-name">{name}</span>
      {info && (
        <span className="attachment-file-meta">
          {typeLabel(info.contentType, name)} · {formatSize(info.size)}
        </span>
      )}
    </a>
  );
}
