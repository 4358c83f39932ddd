// The account menu in the sidebar footer: change password, sign out (here or everywhere).
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { controller } from '../state';
import { ChangePasswordDialog } from './ChangePasswordDialog';
import { Icon } from './Icon';

/** The signed-in user's menu: change password, sign out, sign out everywhere. */
export function AccountMenu() {
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState(false);
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  const items = () => Array.from(menuRef.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? []);

  useEffect(() => {
    if (!open) return;
    items()[0]?.focus();
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  function close(focusButton = true) {
    setOpen(false);
    if (focusButton) buttonRef.current?.focus();
  }

  function onMenuKey(e: KeyboardEvent<HTMLDivElement>) {
    const list = items();
    const at = list.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      list[(at + step + list.length) % list.length]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      list[e.key === 'Home' ? 0 : list.length - 1]?.focus();
    } else if (e.key === 'Tab') {
      close(false);
    }
  }

  return (
    <div className="account-menu">
      <button
        ref={buttonRef}
        type="button"
        className="icon-button"
        aria-label="Account"
        title="Account"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
        data-testid="account-menu-button"
      >
        <Icon name="settings" />
      </button>
      {open && (
        <div ref={menuRef} id={menuId} className="account-menu-list" role="menu" aria-label="Account" onKeyDown={onMenuKey}>
          <button
            type="button"
            role="menuitem"
            className="account-menu-item"
            onClick={() => {
              close(false);
              setDialog(true);
            }}
          >
            Change password…
          </button>
          <button type="button" role="menuitem" className="account-menu-item" onClick={() => void controller.logout()}>
            Sign out
          </button>
          <button type="button" role="menuitem" className="account-menu-item" onClick={() => void controller.logoutEverywhere()}>
            Sign out everywhere
          </button>
        </div>
      )}
      {dialog && <ChangePasswordDialog onClose={() => setDialog(false)} />}
    </div>
  );
}
