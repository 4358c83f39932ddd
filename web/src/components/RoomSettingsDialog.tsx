// Room settings for admins: name, description, members' roles, remove and invite.
import { useState, type FormEvent } from 'react';
import type { Member, Role, Room } from '../api/types';
import { rooms, useRooms } from '../state';
import { Avatar } from './Avatar';
import { Dialog } from './Dialog';
import { UserSearch } from './UserSearch';

interface Props {
  room: Room;
  onClose: () => void;
}

/** Admin settings: name, description, invite, remove, roles (REST, docs/CONTRACT.md §4). */
export function RoomSettingsDialog({ room, onClose }: Props) {
  const members = useRooms((s) => s.members[room.id]) ?? [];
  const me = useRooms((s) => s.me);
  const [name, setName] = useState(room.name);
  const [description, setDescription] = useState(room.description ?? '');
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = (e: unknown) => setStatus({ kind: 'error', text: e instanceof Error ? e.message : 'Something went wrong' });

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await rooms.saveSettings(room, { name: name.trim(), description: description.trim() });
      setStatus({ kind: 'ok', text: 'Saved.' });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  async function setRole(m: Member, role: Role) {
    try {
      await rooms.setRole(room.id, m.user.id, role);
      setStatus({ kind: 'ok', text: `${m.user.name || m.user.username} is now ${role === 'member' ? 'a member' : `a ${role}`}.` });
    } catch (err) {
      fail(err);
    }
  }

  async function remove(m: Member) {
    try {
      await rooms.removeMember(room.id, m.user.id);
      setStatus({ kind: 'ok', text: `Removed ${m.user.name || m.user.username}.` });
    } catch (err) {
      fail(err);
    }
  }

  return (
    <Dialog title={`Settings · #${room.name}`} onClose={onClose} size="large" testId="room-settings">
      <form onSubmit={save} className="settings-section">
        <div className="field">
          <label htmlFor="settings-name">Name</label>
          <input id="settings-name" value={name} onChange={(e) => setName(e.target.value)} data-autofocus />
        </div>
        <div className="field">
          <label htmlFor="settings-description">Description</label>
          <textarea id="settings-description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="dialog-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            Save changes
          </button>
        </div>
      </form>
      {status && (
        <p className={status.kind === 'ok' ? 'form-ok' : 'form-error'} role={status.kind === 'ok' ? 'status' : 'alert'}>
          {status.text}
        </p>
      )}
      <section className="settings-section">
        <h3>Members</h3>
        <ul className="pick-list">
          {members.map((m) => (
            <li key={m.user.id} className="pick-item">
              <Avatar user={m.user} size={28} />
              <span className="pick-text">
                <span>{m.user.name || m.user.username}</span>
                <span className="muted">@{m.user.username}</span>
              </span>
              <label className="visually-hidden" htmlFor={`role-${m.user.id}`}>
                Role of {m.user.username}
              </label>
              <select
                id={`role-${m.user.id}`}
                value={m.role}
                disabled={m.user.id === me?.id}
                onChange={(e) => void setRole(m, e.target.value as Role)}
              >
                <option value="member">Member</option>
                <option value="moderator">Moderator</option>
                <option value="admin">Admin</option>
              </select>
              <button
                type="button"
                className="button button-small button-danger-ghost"
                disabled={m.user.id === me?.id || m.role === 'admin'}
                onClick={() => void remove(m)}
                aria-label={`Remove ${m.user.username}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="settings-section">
        <h3>Invite people</h3>
        <UserSearch
          label="Search people to invite"
          actionLabel="Invite"
          exclude={members.map((m) => m.user.id)}
          onPick={async (u) => {
            try {
              await rooms.invite(room.id, u.id);
              setStatus({ kind: 'ok', text: `Invited ${u.name || u.username}.` });
            } catch (err) {
              fail(err);
            }
          }}
        />
      </section>
    </Dialog>
  );
}
