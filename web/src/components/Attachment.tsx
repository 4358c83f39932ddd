import { isSafeUrl } from '../lib/markdown';
import type { ChatMessage } from '../state/timeline';
import { Icon } from './Icon';

/** An uploaded file or image (served by our server to room members only). */
export function Attachment({ message }: { message: ChatMessage }) {
  const url = message.fileUrl;
  if (!url || !isSafeUrl(url) || /^https?:/i.test(url)) return null;
  const a = message.attachment;
  if (message.type === 'image') {
    const thumb = a?.thumbnailUrl && isSafeUrl(a.thumbnailUrl) && !/^https?:/i.test(a.thumbnailUrl) ? a.thumbnailUrl : url;
    return (
      <a className="attachment-image" href={url} target="_blank" rel="noopener noreferrer">
        <img src={thumb} alt={message.content || 'Image'} loading="lazy" width={a?.width ?? undefined} height={a?.height ?? undefined} />
      </a>
    );
  }
  return (
    <a className="attachment-file" href={url} target="_blank" rel="noopener noreferrer" download>
      <Icon name="paperclip" size={16} />
      <span>{a?.name || message.content || 'Download file'}</span>
    </a>
  );
}
