// The sidebar's "Notifications" control: Web Push on this device, on or off.
import { useEffect, useState } from 'react';
import { setPushOn } from '../lib/attention';
import { disablePush, enablePush, refreshPush, type PushState } from '../lib/push';
import { Icon } from './Icon';

const LABEL: Record<PushState, string> = {
  on: 'On',
  off: 'Off',
  blocked: 'Blocked by the browser',
  page: 'While Natter is open',
  unsupported: 'Not supported here',
};

/**
 * "Notifications" in the sidebar: the state on this device and the one button that asks
 * the browser for permission (never asked on page load).
 */
export function NotificationsControl() {
  const [state, setState] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void refreshPush().then((s) => {
      if (!live) return;
      setState(s);
      setPushOn(s === 'on');
    });
    return () => {
      live = false;
    };
  }, []);

  const run = async (f: () => Promise<PushState>) => {
    setBusy(true);
    setError(null);
    try {
      const s = await f();
      setState(s);
      setPushOn(s === 'on');
    } catch (e) {
      // e.g. a browser without a push service of its own (some Chromium builds)
      setError(`Could not change notifications${e instanceof Error && e.message ? `: ${e.message}` : ''}`);
    } finally {
      setBusy(false);
    }
  };

  if (state === null) return null;
  const canEnable = state === 'off';
  return (
    <div className="notifications-control" data-testid="notifications-control" data-state={state}>
      <Icon name={state === 'on' || state === 'page' ? 'bell' : 'bell-off'} size={16} />
      <span className="notifications-state" id="notifications-state" aria-live="polite">
        Notifications: <strong>{LABEL[state]}</strong>
      </span>
      {canEnable && (
        <button type="button" className="link-button" disabled={busy} aria-describedby="notifications-state" onClick={() => void run(enablePush)}>
          {busy ? 'Enabling…' : 'Enable notifications'}
        </button>
      )}
      {state === 'on' && (
        <button type="button" className="link-button" disabled={busy} onClick={() => void run(disablePush)}>
          Turn off
        </button>
      )}
      {state === 'blocked' && <span className="notifications-hint">Allow them in the browser’s site settings.</span>}
      {error && (
        <span className="notifications-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
