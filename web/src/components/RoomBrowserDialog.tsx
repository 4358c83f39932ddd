// "Browse rooms": search the public rooms (a lookup of its own), open or join one.
import { useEffect, useState } from 'react';
import { rest } from '../api/rest';
import type { Room } from '../api/types';
import { rooms as roomsStore, useRooms } from '../state';
import { Dialog } from './Dialog';
import { Icon } from './Icon';

interface Props {
  onClose: () => void;
  onOpen: (room: Room) => void;
}

export function RoomBrowserDialog({ onClose, onOpen }: Props) {
  const [query, setQuery] = useState('');
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const mine = useRooms((s) => s.rooms);

  useEffect(() => {
    let live = true;
    const t = setTimeout(
      () => {
        rest
          .publicRooms(query.trim())
          .then((r) => live && (setRooms(r.rooms), setError(null)))
          .catch((e: unknown) => live && setError(e instanceof Error ? e.message : 'Could not load rooms'));
      },
      query ? 200 : 0,
    );
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [query]);

  async function join(room: Room) {
    setBusy(room.id);
    try {
      onOpen(await roomsStore.join(room));
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Could not join');
    } finally {
      setBusy(null);
    }
  }

  return (
    <Dialog title="Browse rooms" onClose={onClose} size="large" testId="room-browser">
      <div className="search-field">
        <Icon name="search" size={16} />
        <label htmlFor="room-search" className="visually-hidden">
          Search public rooms
        </label>
        <input
          id="room-search"
          type="search"
          placeholder="Search public rooms"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-autofocus
          autoComplete="off"
        />
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {rooms === null ? (
        <p className="muted">Loading…</p>
      ) : rooms.length === 0 ? (
        <p className="muted">{query ? `No public rooms match “${query}”.` : 'No public rooms yet. Create the first one!'}</p>
      ) : (
        <ul className="browse-list">
          {rooms.map((r) => {
            const joined = !!mine[r.id];
            return (
              <li key={r.id} className="browse-item" data-testid="public-room" data-room-name={r.name}>
                <span className="browse-icon" aria-hidden="true">
                  <Icon name="hash" size={18} />
                </span>
                <div className="browse-text">
                  <span className="browse-name">{r.name}</span>
                  <span className="muted">{r.description || 'No description'}</span>
                </div>
                {joined ? (
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => {
                      onOpen(r);
                      onClose();
                    }}
                    aria-label={`Open ${r.name}`}
                  >
                    Open
                  </button>
                ) : (
                  <button
                    type="button"
                    className="button button-small button-primary"
                    disabled={busy !== null}
                    onClick={() => void join(r)}
                    aria-label={`Join ${r.name}`}
                  >
                    {busy === r.id ? 'Joining…' : 'Join'}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Dialog>
  );
}
