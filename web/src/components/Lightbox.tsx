// A full-size image over the app.
import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import { Icon } from './Icon';

interface Props {
  src: string;
  alt: string;
  name: string;
  onClose: () => void;
}

/** A full-size image over the app: Escape, the close button or the backdrop close
 *  it, and focus goes back to what opened it. */
export function Lightbox({ src, alt, name, onClose }: Props) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onCloseRef.current();
      } else if (e.key === 'Tab') {
        // Two controls: keep focus between them.
        const items = Array.from(document.querySelectorAll<HTMLElement>('.lightbox a, .lightbox button'));
        const i = items.indexOf(document.activeElement as HTMLElement);
        e.preventDefault();
        items[(i + (e.shiftKey ? items.length - 1 : 1)) % items.length]?.focus();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      previous?.focus?.();
    };
  }, []);

  return createPortal(
    <div
      className="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={`Image: ${name}`}
      data-testid="lightbox"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="lightbox-bar">
        <span className="lightbox-name">{name}</span>
        <a className="icon-button" href={src} download={name} aria-label={`Download ${name}`} title="Download">
          <Icon name="arrowDown" />
        </a>
        <button ref={closeRef} type="button" className="icon-button" aria-label="Close image" onClick={onClose}>
          <Icon name="close" />
        </button>
      </div>
      <img className="lightbox-image" src={src} alt={alt} onMouseDown={(e) => e.stopPropagation()} />
    </div>,
    document.body,
  );
}
