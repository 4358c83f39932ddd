// A panel shown as a drawer on narrow screens: Escape closes it, focus moves into it
// when it opens and back to what opened it when it closes.
import { useEffect, useRef, type RefObject } from 'react';

export function useDrawer(open: boolean, onClose: () => void, query: string): RefObject<HTMLElement | null> {
  const panel = useRef<HTMLElement | null>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    if (!open || !window.matchMedia?.(query).matches) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const first = panel.current?.querySelector<HTMLElement>('button, [href], input, [tabindex]:not([tabindex="-1"])');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      close.current();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus();
    };
  }, [open, query]);
  return panel;
}
