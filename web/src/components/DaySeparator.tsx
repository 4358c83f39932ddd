// The day label between messages of different days.
import { absoluteTime, dayLabel } from '../lib/time';

export function DaySeparator({ iso }: { iso: string }) {
  return (
    <div className="day-separator" role="separator" aria-label={dayLabel(iso)}>
      <span title={absoluteTime(iso)}>{dayLabel(iso)}</span>
    </div>
  );
}
