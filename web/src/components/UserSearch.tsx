// Search people by name or username (a lookup of its own) and pick one.
import { useEffect, useId, useState } from 'react';
import { rest } from '../api/rest';
import type { User } from '../api/types';
import { Avatar } from './Avatar';

interface Props {
  label: string;
  actionLabel: string;
  exclude?: string[];
  onPick: (u: User) => void | Promise<void>;
  autoFocus?: boolean;
}

/** Search people by name or username (GET /api/users?query=). */
export function UserSearch({ label, actionLabel, exclude = [], onPick, autoFocus }: Props) {
  const id = useId();
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setUsers(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      rest
        .users(q)
        .then((r) => live && (setUsers(r.users), setError(null)))
        .catch((e: unknown) => live && setError(e instanceof Error ? e.message : 'Search failed'));
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [query]);

  const shown = (users ?? []).filter((u) => !exclude.includes(u.id));

  return (
    <div className="user-search">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="search"
        value={query}
        placeholder="Name or username"
        onChange={(e) => setQuery(e.target.value)}
        autoComplete="off"
        data-autofocus={autoFocus ? true : undefined}
      />
      {error && <p className="field-error">{error}</p>}
      {users && shown.length === 0 && <p className="muted">No one found.</p>}
      {shown.length > 0 && (
        <ul className="pick-list">
          {shown.map((u) => (
            <li key={u.id} className="pick-item">
              <Avatar user={u} size={28} />
              <span className="pick-text">
                <span>{u.name || u.username}</span>
                <span className="muted">@{u.username}</span>
              </span>
              <button
                type="button"
                className="button button-small"
                disabled={busy !== null}
                onClick={async () => {
                  setBusy(u.id);
                  try {
                    await onPick(u);
                  } finally {
                    setBusy(null);
                  }
                }}
                aria-label={`${actionLabel} ${u.name || u.username}`}
              >
                {busy === u.id ? '…' : actionLabel}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
