// Pure helpers of the search box: adding and removing filters (operators) in the
// query text, so chips and typed syntax are one and the same thing.

const FILTER = /^(from|in|has|before|after|on):\S+$/i;
/** Operators of which a query holds one at most (a new one replaces the old). */
const SINGLE = new Set(['before', 'after', 'on']);

function tokens(q: string): string[] {
  return q.split(/\s+/).filter(Boolean);
}

/** The filters written in a query, in order (`from:@ana`, `has:link`, …). */
export function filtersIn(q: string): string[] {
  return tokens(q).filter((t) => FILTER.test(t));
}

/** The query with `filter` added (replacing one of the same date operator), ending in a space. */
export function addFilter(q: string, filter: string): string {
  const op = filter.split(':')[0]!.toLowerCase();
  const kept = tokens(q).filter((t) => {
    if (t.toLowerCase() === filter.toLowerCase()) return false;
    const tOp = t.split(':')[0]!.toLowerCase();
    return !(SINGLE.has(op) && FILTER.test(t) && tOp === op);
  });
  return [...kept, filter].join(' ') + ' ';
}

/** The query without one of its filters. */
export function removeFilter(q: string, filter: string): string {
  const out = tokens(q).filter((t) => t !== filter).join(' ');
  return out ? `${out} ` : '';
}

/** `YYYY-MM-DD` of a date input is what the server takes as is. */
export function isDay(v: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(v);
}
