// A message time that stays true ("just now" → "3 min ago" → "14:05") without each
// message keeping a timer: one shared 30 s tick re-renders only these elements.
import { useSyncExternalStore } from 'react';
import { absoluteTime, relativeTime } from '../lib/time';

const TICK_MS = 30_000;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  if (!timer) {
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

const getNow = () => now;

export function RelativeTime({ iso, className }: { iso: string; className?: string }) {
  // the tick only re-renders; the text is computed from the clock now
  useSyncExternalStore(subscribe, getNow, getNow);
  return (
    <time className={className} dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso, Date.now())}
    </time>
  );
}
