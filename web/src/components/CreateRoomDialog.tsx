// "Create a room": name, description, public or private.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/rest';
import type { Room } from '../api/types';
import { rooms } from '../state';
import { Dialog } from './Dialog';

interface Props {
  onClose: () => void;
  onCreated: (room: Room) => void;
}

export function CreateRoomDialog({ onClose, onCreated }: Props) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [error, setError] = useState<{ field: 'name' | 'description' | 'form'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setError({ field: 'name', text: 'Give the room a name.' });
      return;
    }
    setBusy(true);
    try {
      const room = await rooms.create({ name: name.trim(), description: description.trim(), isPrivate });
      onCreated(room);
      onClose();
    } catch (err) {
      const text = err instanceof Error ? err.message : 'Could not create the room';
      const field = err instanceof ApiError && /description/i.test(text) ? 'description' : err instanceof ApiError && /name/i.test(text) ? 'name' : 'form';
      setError({ field, text: text.charAt(0).toUpperCase() + text.slice(1) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="Create a room" onClose={onClose} testId="create-room-dialog">
      <form onSubmit={submit} noValidate>
        <div className={error?.field === 'name' ? 'field field-invalid' : 'field'}>
          <label htmlFor="room-name">Name</label>
          <input
            id="room-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. design-team"
            maxLength={80}
            data-autofocus
            aria-invalid={error?.field === 'name' || undefined}
            aria-describedby={error?.field === 'name' ? 'room-name-error' : undefined}
          />
          {error?.field === 'name' && (
            <p className="field-error" id="room-name-error" role="alert">
              {error.text}
            </p>
          )}
        </div>
        <div className={error?.field === 'description' ? 'field field-invalid' : 'field'}>
          <label htmlFor="room-description">
            Description <span className="muted">(optional)</span>
          </label>
          <textarea
            id="room-description"
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="What is this room about?"
          />
          {error?.field === 'description' && (
            <p className="field-error" role="alert">
              {error.text}
            </p>
          )}
        </div>
        <fieldset className="visibility">
          <legend>Who can join</legend>
          <label className="radio">
            <input type="radio" name="visibility" checked={!isPrivate} onChange={() => setPrivate(false)} />
            <span>
              <strong>Public</strong>
              <span className="muted">Anyone can find and join it.</span>
            </span>
          </label>
          <label className="radio">
            <input type="radio" name="visibility" checked={isPrivate} onChange={() => setPrivate(true)} />
            <span>
              <strong>Private</strong>
              <span className="muted">Only people you invite.</span>
            </span>
          </label>
        </fieldset>
        {error?.field === 'form' && (
          <p className="form-error" role="alert">
            {error.text}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create room'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
