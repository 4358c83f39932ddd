// Tests of RelativeTime: it moves on as time passes.
import { act, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RelativeTime } from './RelativeTime';

describe('RelativeTime', () => {
  afterEach(() => vi.useRealTimers());

  it('moves from "just now" to minutes ago as time passes', () => {
    vi.useFakeTimers();
    const t0 = new Date('2025-01-01T12:00:00Z');
    vi.setSystemTime(t0);
    const { container } = render(<RelativeTime iso={t0.toISOString()} />);
    expect(container.textContent).toBe('just now');
    act(() => {
      vi.advanceTimersByTime(3 * 60_000);
    });
    expect(container.textContent).toBe('3 min ago');
    expect(container.querySelector('time')?.getAttribute('datetime')).toBe(t0.toISOString());
  });
});
