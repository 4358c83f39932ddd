// The room header's "Notify me: all / mentions / nothing" menu.
import { useEffect, useRef, useState } from 'react';
import type { NotificationLevel, Room } from '../api/types';
import { rooms } from '../state';
import { Icon } from './Icon';

const CHOICES: { level: NotificationLevel; label: string; hint: string }[] = [
  { level: 'all', label: 'All messages', hint: 'Every new message' },
  { level: 'mentions', label: 'Mentions', hint: '@you and @room' },
  { level: 'none', label: 'Nothing', hint: 'Unread counts still show' },
];

/** "Notify me: all / mentions / nothing" for one room, in the room header. */
export function NotifyMenu({ room, onError }: { room: Room; onError: (m: string) => void }) {
  const [open, setOpen] = useState(false);
  const [saving, setSaving] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const level: NotificationLevel = room.notifications ?? (room.isDirect ? 'all' : 'mentions');

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (wrap.current && !wrap.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        wrap.current?.querySelector<HTMLButtonElement>('button')?.focus();
      }
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    wrap.current?.querySelector<HTMLButtonElement>('[role="menuitemradio"][aria-checked="true"]')?.focus();
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const choose = async (next: NotificationLevel) => {
    setOpen(false);
    if (next === level) return;
    setSaving(true);
    try {
      await rooms.setNotifications(room.id, next);
    } catch (e) {
      onError(`Could not change notifications: ${e instanceof Error ? e.message : 'something went wrong'}`);
    } finally {
      setSaving(false);
    }
  };

  const onMenuKey = (e: React.KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const items = [...(wrap.current?.querySelectorAll<HTMLButtonElement>('[role="menuitemradio"]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    const next = e.key === 'ArrowDown' ? (i + 1) % items.length : (i - 1 + items.length) % items.length;
    items[next]?.focus();
  };

  return (
    <div className="notify-menu" ref={wrap}>
      <button
        type="button"
        className="icon-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={`Notify me: ${CHOICES.find((c) => c.level === level)!.label}`}
        title="Notification settings for this room"
        disabled={saving}
        data-level={level}
        onClick={() => setOpen((v) => !v)}
      >
        <Icon name={level === 'none' ? 'bell-off' : 'bell'} />
      </button>
      {open && (
        <div className="notify-menu-list" role="menu" aria-label="Notify me" onKeyDown={onMenuKey}>
          <p className="notify-menu-title" aria-hidden="true">
            Notify me
          </p>
          {CHOICES.map((c) => (
            <button
              key={c.level}
              type="button"
              role="menuitemradio"
              aria-checked={c.level === level}
              className="notify-menu-item"
              onClick={() => void choose(c.level)}
            >
              <span className="notify-menu-check" aria-hidden="true">
                {c.level === level ? '✓' : ''}
              </span>
              <span>
                <span className="notify-menu-label">{c.label}</span>
                <span className="notify-menu-hint">{c.hint}</span>
              </span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
