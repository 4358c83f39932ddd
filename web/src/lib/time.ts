// Times as people read them: relative for the recent past, absolute in the title attribute.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function clockTime(iso: string): string {
  return timeFmt.format(new Date(iso));
}

export function absoluteTime(iso: string): string {
  return fullFmt.format(new Date(iso));
}

/** "just now", "5 min ago", or the clock time. */
export function relativeTime(iso: string, now = Date.now()): string {
  const t = new Date(iso).getTime();
  const diff = Math.max(0, now - t);
  if (diff < 45_000) return 'just now';
  if (diff < 60 * 60_000) return `${Math.round(diff / 60_000)} min ago`;
  return clockTime(iso);
}

/** "Today", "Yesterday", "Monday, March 3" (+ year when not this year). */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const start = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((start(now) - start(d)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return d.getFullYear() === now.getFullYear() ? dayFmt.format(d) : dayYearFmt.format(d);
}

export function lastSeenText(iso: string | null): string {
  if (!iso) return 'Offline';
  const diff = Date.now() - new Date(iso).getTime();
  if (diff < 60_000) return 'Last seen just now';
  if (diff < 3_600_000) return `Last seen ${Math.round(diff / 60_000)} min ago`;
  if (diff < 86_400_000) return `Last seen ${Math.round(diff / 3_600_000)} h ago`;
  return `Last seen ${dayLabel(iso)}`;
}
