// Keyboard moves between messages: ↑/↓ (and Home/End) focus the previous/next
// message of the list, Escape returns to the composer. Only when the message itself
// has focus, so its buttons and links keep their own keys.
import type { KeyboardEvent } from 'react';

const MESSAGE = '[data-testid="message"][tabindex]';

export function onArticleKey(e: KeyboardEvent<HTMLElement>): void {
  if (e.target !== e.currentTarget || e.altKey || e.ctrlKey || e.metaKey) return;
  const all = [...document.querySelectorAll<HTMLElement>(MESSAGE)];
  const i = all.indexOf(e.currentTarget);
  let next: HTMLElement | undefined;
  if (e.key === 'ArrowUp') next = all[i - 1];
  else if (e.key === 'ArrowDown') next = all[i + 1];
  else if (e.key === 'Home') next = all[0];
  else if (e.key === 'End') next = all[all.length - 1];
  else if (e.key === 'Escape') {
    e.preventDefault();
    document.querySelector<HTMLElement>('[data-testid="composer-input"]')?.focus();
    return;
  } else return;
  e.preventDefault();
  if (next) {
    next.focus();
    next.scrollIntoView({ block: 'nearest' });
  }
}
