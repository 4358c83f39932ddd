// Tests of the attention helpers: favicon badge, plain previews, notification levels, VAPID key.
import { describe, expect, it } from 'vitest';
import { faviconHref, notifies, plainPreview } from './attention';
import { fromBase64Url } from './push';

describe('attention', () => {
  it('badges the favicon with the unread total', () => {
    expect(decodeURIComponent(faviconHref(3))).toContain('>3</text>');
    expect(decodeURIComponent(faviconHref(250))).toContain('>99+</text>');
    expect(decodeURIComponent(faviconHref(0))).not.toContain('<text');
    expect(faviconHref(1).startsWith('data:image/svg+xml,')).toBe(true);
  });

  it('previews markdown as one plain line of at most 140 characters', () => {
    expect(plainPreview('**hi** _there_ `code` [a link](https://x.example)')).toBe('hi there code a link');
    const long = plainPreview('word '.repeat(100));
    expect([...long].length).toBe(140);
    expect(long.endsWith('…')).toBe(true);
  });

  it('follows the levels, with the defaults of DMs and rooms', () => {
    expect(notifies(undefined, true, false)).toBe(true);
    expect(notifies(undefined, false, false)).toBe(false);
    expect(notifies(undefined, false, true)).toBe(true);
    expect(notifies('all', false, false)).toBe(true);
    expect(notifies('none', true, true)).toBe(false);
  });

  it('decodes the VAPID key from base64url', () => {
    expect([...fromBase64Url('AQID_-8')]).toEqual([1, 2, 3, 255, 239]);
  });
});
