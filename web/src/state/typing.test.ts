// Tests of typing: the indicator text and the typing:start/stop throttle.
import { describe, expect, it } from 'vitest';
import { formatTyping, TypingThrottle, type TypingClock } from './typing';

describe('formatTyping', () => {
  it('names one or two people, then says several', () => {
    expect(formatTyping([])).toBe('');
    expect(formatTyping(['Ana'])).toBe('Ana is typing…');
    expect(formatTyping(['Ana', 'Luis'])).toBe('Ana and Luis are typing…');
    expect(formatTyping(['Ana', 'Luis', 'Mei'])).toBe('Several people are typing…');
  });
});

function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let id = 0;
  const clock: TypingClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.push({ at: now + ms, fn, id: ++id });
      return id;
    },
    clearTimeout: (h) => {
      timers = timers.filter((t) => t.id !== h);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers = timers.filter((t) => t.at > now);
    due.forEach((t) => t.fn());
  };
  return { clock, advance };
}

describe('TypingThrottle', () => {
  it('sends one start per burst of keystrokes and a stop after idling', () => {
    const log: string[] = [];
    const { clock, advance } = fakeClock();
    const t = new TypingThrottle((r) => log.push(`start ${r}`), (r) => log.push(`stop ${r}`), clock);
    for (let i = 0; i < 20; i++) {
      t.keystroke('r1');
      advance(100);
    }
    expect(log).toEqual(['start r1']);
    advance(3000);
    expect(log).toEqual(['start r1', 'stop r1']);
  });

  it('refreshes start while typing goes on, and stops on room switch', () => {
    const log: string[] = [];
    const { clock, advance } = fakeClock();
    const t = new TypingThrottle((r) => log.push(`start ${r}`), (r) => log.push(`stop ${r}`), clock);
    for (let i = 0; i < 50; i++) {
      t.keystroke('r1');
      advance(200);
    }
    // 10 s of typing: a start every 4 s.
    expect(log.filter((l) => l === 'start r1')).toHaveLength(3);
    t.keystroke('r2');
    expect(log.slice(-2)).toEqual(['stop r1', 'start r2']);
    t.stop();
    expect(log.at(-1)).toBe('stop r2');
  });
});
