// The connection state in the sidebar ("Catching up…" while a sync runs).
import { useConnectionState, useSync } from '../state';

const LABELS = {
  idle: 'Offline',
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const;

export function ConnectionIndicator() {
  const state = useConnectionState();
  const syncing = useSync((s) => s.syncing);
  const label = state === 'online' && syncing ? 'Catching up…' : LABELS[state];
  return (
    <span className={`connection connection-${state}`} role="status" aria-live="polite" data-testid="connection-state" data-state={state}>
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-label">{label}</span>
    </span>
  );
}
