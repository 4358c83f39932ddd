// What the main area shows with no room open: loading, an error, or browse/create.
import { Icon } from './Icon';

interface Props {
  ready: boolean;
  error: string | null;
  onBrowse: () => void;
  onCreate: () => void;
  onOpenDrawer: () => void;
}

export function EmptyState({ ready, error, onBrowse, onCreate, onOpenDrawer }: Props) {
  return (
    <div className="empty-state">
      <button type="button" className="icon-button drawer-button" aria-label="Open sidebar" onClick={onOpenDrawer}>
        <Icon name="menu" />
      </button>
      {error ? (
        <p role="alert">{error}</p>
      ) : !ready ? (
        <p className="muted">Loading your rooms…</p>
      ) : (
        <div className="empty-card">
          <span className="empty-icon" aria-hidden="true">
            <Icon name="message" size={28} />
          </span>
          <h1>Nothing here yet</h1>
          <p className="muted">Join a room to see what people are talking about, or start your own.</p>
          <div className="button-row">
            <button type="button" className="button button-primary" onClick={onBrowse}>
              Browse rooms
            </button>
            <button type="button" className="button" onClick={onCreate}>
              Create a room
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
