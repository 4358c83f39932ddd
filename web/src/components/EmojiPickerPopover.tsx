// The emoji picker in a popover by its button, with quick reactions, lazy-loaded.
import { lazy, Suspense, useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import { effectiveTheme } from '../state/theme';
import { useTheme } from '../state';

// The picker and its emoji data are bundled (native emoji, no image CDN) and loaded
// from our own origin only when first opened.
const Picker = lazy(() => import('./EmojiPickerImpl').then((m) => ({ default: m.EmojiPickerImpl })));

const QUICK = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];

interface Props {
  anchor: DOMRect;
  onPick: (emoji: string) => void;
  onClose: () => void;
  quick?: boolean;
}

export function EmojiPickerPopover({ anchor, onPick, onClose, quick = true }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const theme = effectiveTheme(useTheme());
  // Focus moves into the picker (its first quick reaction) and back to what opened it.
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // (with quick reactions the first of them; the picker's search is one Tab away)
    const t = setTimeout(() => ref.current?.querySelector<HTMLElement>('button, input')?.focus(), 0);
    return () => {
      clearTimeout(t);
      if (!opener?.isConnected) return;
      // the opener may be a message action, shown only while its message has focus:
      // focus the message first so the button is rendered, then the button
      opener.parentElement?.closest<HTMLElement>('[tabindex]')?.focus({ preventScroll: true });
      opener.focus({ preventScroll: true });
    };
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onClose();
      }
    };
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('mousedown', onDown);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('mousedown', onDown);
    };
  }, [onClose]);

  const quickH = quick ? 52 : 0;
  const width = Math.min(340, window.innerWidth - 16);
  const height = Math.max(220, Math.min(400, window.innerHeight - 16 - quickH));
  const total = height + quickH;
  const left = Math.max(8, Math.min(anchor.right - width, window.innerWidth - width - 8));
  const above = anchor.top > total + 16;
  const top = above ? anchor.top - total - 8 : Math.min(anchor.bottom + 8, window.innerHeight - total - 8);

  return createPortal(
    <div ref={ref} className="emoji-popover" style={{ left, top: Math.max(8, top), width }} role="dialog" aria-label="Choose an emoji">
      {quick && (
        <div className="quick-reactions">
          {QUICK.map((e) => (
            <button key={e} type="button" className="quick-reaction" aria-label={`React with ${e}`} onClick={() => onPick(e)}>
              {e}
            </button>
          ))}
        </div>
      )}
      <Suspense fallback={<div className="emoji-loading">Loading emoji…</div>}>
        <Picker theme={theme} width={width} height={height} onPick={onPick} autoFocus={!quick} />
      </Suspense>
    </div>,
    document.body,
  );
}
