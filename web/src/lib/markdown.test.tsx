// Tests of message markdown: no raw HTML, no unsafe links, only allow-listed elements.
import { render } from '@testing-library/react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { isSafeUrl, renderMarkdown } from './markdown';

function dom(src: string, myUsername?: string) {
  const { container } = render(<div data-testid="root">{renderMarkdown(src, { myUsername })}</div>);
  return container;
}

describe('markdown safety', () => {
  it('shows raw HTML as text, creating no element', () => {
    const c = dom('<img src=x onerror=alert(1)>');
    expect(c.querySelector('img')).toBeNull();
    expect(c.textContent).toContain('<img src=x onerror=alert(1)>');
    const html = renderToStaticMarkup(<>{renderMarkdown('<script>alert(1)</script><b onclick="x()">b</b>')}</>);
    expect(html).not.toMatch(/<script|<b[ >]/);
    expect(html).toContain('&lt;script&gt;');
    const c2 = dom('<script>alert(1)</script><b onclick="x()">b</b> <a href="javascript:alert(1)">a</a>');
    expect(c2.querySelector('script, b, a')).toBeNull();
    for (const el of Array.from(c2.querySelectorAll('*'))) {
      expect(Array.from(el.attributes).filter((a) => /^on/i.test(a.name))).toEqual([]);
    }
  });

  it('never makes a live javascript:, data: or vbscript: link', () => {
    for (const src of [
      '[x](javascript:alert(1))',
      '[x](JaVaScRiPt:alert(1))',
      '[x](java\tscript:alert(1))',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '[x](vbscript:msgbox)',
      '<javascript:alert(1)>',
      '[x](&#106;avascript:alert(1))',
    ]) {
      const c = dom(src);
      for (const a of Array.from(c.querySelectorAll('a'))) {
        expect(a.getAttribute('href') ?? '').not.toMatch(/^\s*(javascript|data|vbscript):/i);
      }
      expect(renderToStaticMarkup(<>{renderMarkdown(src)}</>)).not.toMatch(/href="\s*(javascript|data|vbscript)/i);
    }
    expect(dom('[x](javascript:alert(1))').querySelector('a')).toBeNull();
  });

  it('creates only allow-listed elements', () => {
    const c = dom('**b** *i* ~~s~~ `c`\n\n```\ncode <b>\n```\n\n> quote\n\n- a\n- b\n\n1. one\n\n[link](https://example.com) ![img](https://x/y.png) # not heading');
    const allowed = new Set(['DIV', 'P', 'STRONG', 'EM', 'S', 'CODE', 'PRE', 'BLOCKQUOTE', 'UL', 'OL', 'LI', 'A', 'BR', 'SPAN']);
    for (const el of Array.from(c.querySelectorAll('*'))) expect(allowed.has(el.tagName)).toBe(true);
    expect(c.querySelector('img')).toBeNull();
    expect(c.querySelector('h1')).toBeNull();
    const a = c.querySelector('a[href="https://example.com"]')!;
    expect(a.getAttribute('rel')).toContain('noopener');
    expect(a.getAttribute('target')).toBe('_blank');
    expect(c.querySelector('pre code')!.textContent).toBe('code <b>');
  });

  it('renders the GFM subset people use in chat', () => {
    const c = dom('**bold** _it_ ~~gone~~ `x`');
    expect(c.querySelector('strong')!.textContent).toBe('bold');
    expect(c.querySelector('em')!.textContent).toBe('it');
    expect(c.querySelector('s')!.textContent).toBe('gone');
    expect(c.querySelector('code')!.textContent).toBe('x');
  });

  it('highlights mentions of me and @room, not email addresses', () => {
    const c = dom('hi @ana and @luis, @room! mail ana@example.com', 'ana');
    const mentions = Array.from(c.querySelectorAll('.mention')).map((e) => e.textContent);
    expect(mentions).toEqual(['@ana', '@luis', '@room']);
    expect(Array.from(c.querySelectorAll('.mention-me')).map((e) => e.textContent)).toEqual(['@ana', '@room']);
  });

  it('isSafeUrl accepts http(s), mailto and relative links only', () => {
    expect(isSafeUrl('https://example.com')).toBe(true);
    expect(isSafeUrl('mailto:a@b.c')).toBe(true);
    expect(isSafeUrl('/api/files/1')).toBe(true);
    expect(isSafeUrl('javascript:alert(1)')).toBe(false);
    expect(isSafeUrl(' javascript:alert(1)')).toBe(false);
    expect(isSafeUrl('data:text/html,x')).toBe(false);
    expect(isSafeUrl('file:///etc/passwd')).toBe(false);
  });
});
