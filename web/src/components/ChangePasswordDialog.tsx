// The change-password dialog (a one-off REST call; every other session is signed out).
import { useState, type FormEvent } from 'react';
import { ApiError, rest } from '../api/rest';
import { Dialog } from './Dialog';

interface Props {
  onClose: () => void;
}

/** Change the password; every other session of the account is signed out. */
export function ChangePasswordDialog({ onClose }: Props) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<{ field: 'current' | 'new' | 'form'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next.length < 8) {
      setError({ field: 'new', text: 'Use at least 8 characters.' });
      return;
    }
    if (next !== repeat) {
      setError({ field: 'new', text: 'The two new passwords differ.' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await rest.changePassword({ current, new: next });
      setDone(true);
    } catch (err) {
      const text = err instanceof Error ? err.message : 'Could not change the password';
      const field = err instanceof ApiError && /^current/i.test(text) ? 'current' : err instanceof ApiError && /^password/i.test(text) ? 'new' : 'form';
      setError({ field, text: field === 'current' ? 'The current password is wrong.' : text.charAt(0).toUpperCase() + text.slice(1) });
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <Dialog title="Password changed" onClose={onClose} size="small" testId="password-dialog">
        <p role="status">Your password is changed. You were signed out on every other device.</p>
        <div className="dialog-actions">
          <button type="button" className="button button-primary" onClick={onClose} data-autofocus>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Change password" onClose={onClose} size="small" testId="password-dialog">
      <form onSubmit={submit} noValidate>
        <div className={error?.field === 'current' ? 'field field-invalid' : 'field'}>
          <label htmlFor="pw-current">Current password</label>
          <input
            id="pw-current"
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            data-autofocus
            required
            aria-invalid={error?.field === 'current' || undefined}
            aria-describedby={error?.field === 'current' ? 'pw-current-error' : undefined}
          />
          {error?.field === 'current' && (
            <p className="field-error" id="pw-current-error" role="alert">
              {error.text}
            </p>
          )}
        </div>
        <div className={error?.field === 'new' ? 'field field-invalid' : 'field'}>
          <label htmlFor="pw-new">New password</label>
          <input
            id="pw-new"
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
            minLength={8}
            aria-invalid={error?.field === 'new' || undefined}
            aria-describedby={error?.field === 'new' ? 'pw-new-error' : 'pw-new-hint'}
          />
          <p className="muted field-hint" id="pw-new-hint">
            At least 8 characters. Other devices will be signed out.
          </p>
        </div>
        <div className={error?.field === 'new' ? 'field field-invalid' : 'field'}>
          <label htmlFor="pw-repeat">Repeat the new password</label>
          <input
            id="pw-repeat"
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            required
            aria-invalid={error?.field === 'new' || undefined}
            aria-describedby={error?.field === 'new' ? 'pw-new-error' : undefined}
          />
          {error?.field === 'new' && (
            <p className="field-error" id="pw-new-error" role="alert">
              {error.text}
            </p>
          )}
        </div>
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
            {busy ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
