// Tests of the search box's filter helpers.
import { describe, expect, it } from 'vitest';
import { addFilter, filtersIn, isDay, removeFilter } from './search';

describe('search filters', () => {
  it('adds filters after the words, once', () => {
    expect(addFilter('deploy', 'from:@ana')).toBe('deploy from:@ana ');
    expect(addFilter('deploy from:@ana ', 'from:@ana')).toBe('deploy from:@ana ');
    expect(addFilter('', 'has:link')).toBe('has:link ');
    expect(addFilter('x from:@ana', 'from:@luis')).toBe('x from:@ana from:@luis ');
  });

  it('keeps one date filter of each kind', () => {
    expect(addFilter('x after:2025-01-01', 'after:2025-02-01')).toBe('x after:2025-02-01 ');
    expect(addFilter('x after:2025-01-01', 'before:2025-03-01')).toBe('x after:2025-01-01 before:2025-03-01 ');
  });

  it('lists and removes the filters of a query', () => {
    const q = 'fix "the bug" from:@ana has:link -old on:2025-01-02';
    expect(filtersIn(q)).toEqual(['from:@ana', 'has:link', 'on:2025-01-02']);
    expect(filtersIn('foo: has:')).toEqual([]);
    expect(removeFilter(q, 'has:link')).toBe('fix "the bug" from:@ana -old on:2025-01-02 ');
    expect(removeFilter('has:link', 'has:link')).toBe('');
  });

  it('knows a day', () => {
    expect(isDay('2025-01-02')).toBe(true);
    expect(isDay('')).toBe(false);
    expect(isDay('2025-1-2')).toBe(false);
  });
});
