// The screen-reader live region that announces new messages in the open room.
import { useTimelines } from '../state';

/** Screen-reader region announcing new messages in the open room. */
export function LiveAnnouncer() {
  const a = useTimelines((s) => s.announcement);
  return (
    <div className="visually-hidden" role="log" aria-live="polite" aria-label="New messages" data-testid="live-region">
      {a ? <p key={a.id}>{a.text}</p> : null}
    </div>
  );
}
