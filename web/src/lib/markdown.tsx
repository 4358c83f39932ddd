// Safe markdown for message text. markdown-it parses (raw HTML off, images and headings
// off) and we build React elements from its tokens, from an allow-list of tags: no HTML
// string is ever handed to the browser, so a message cannot inject markup or script.
import MarkdownIt, { type Token } from 'markdown-it';
import { createElement, Fragment, type ReactNode } from 'react';

const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/** True for http(s)/mailto links and scheme-less (relative) ones; false for javascript:, data:, … */
export function isSafeUrl(url: string): boolean {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
  // eslint-disable-next-line no-control-regex
  const compact = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
  const m = /^([a-z][a-z0-9+.-]*):/.exec(compact);
  if (!m) {
    // No scheme: relative. Refuse anything that decodes to a colon before a slash.
    return !/^[^/?#]*(:|&colon;|%3a)/i.test(compact);
  }
  return SAFE_SCHEMES.has(m[1]!);
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['heading', 'lheading', 'table', 'hr', 'image', 'html_block', 'html_inline']);
md.validateLink = isSafeUrl;

export interface MarkdownOptions {
  /** My username: `@me` and `@room` mentions get highlighted. */
  myUsername?: string | null;
}

const MENTION = /(?<![\w.@])@([a-z0-9_.-]*[a-z0-9_])/gi;

function textWithMentions(text: string, opts: MarkdownOptions, key: string): ReactNode {
  if (!text.includes('@')) return text;
  const out: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(MENTION)) {
    const start = m.index;
    if (start > last) out.push(text.slice(last, start));
    const name = m[1]!.toLowerCase();
    const me = name === 'room' || (!!opts.myUsername && name === opts.myUsername.toLowerCase());
    out.push(
      createElement('span', { key: `${key}-m${i++}`, className: me ? 'mention mention-me' : 'mention' }, m[0]),
    );
    last = start + m[0].length;
  }
  if (last === 0) return text;
  if (last < text.length) out.push(text.slice(last));
  return createElement(Fragment, { key }, ...out);
}

/** Tags a token may open. Anything else renders its children only. */
const BLOCK_TAGS = new Set(['p', 'strong', 'em', 's', 'blockquote', 'ul', 'ol', 'li', 'a', 'code', 'pre']);

interface Frame {
  token: Token | null;
  children: ReactNode[];
}

function elementFor(token: Token, children: ReactNode[], key: string): ReactNode {
  const tag = token.tag;
  if (!BLOCK_TAGS.has(tag) || (tag === 'p' && token.hidden)) {
    return createElement(Fragment, { key }, ...children);
  }
  if (tag === 'a') {
    const href = String(token.attrGet('href') ?? '');
    if (!isSafeUrl(href)) return createElement(Fragment, { key }, ...children);
    return createElement(
      'a',
      { key, href, target: '_blank', rel: 'noopener noreferrer nofollow ugc' },
      ...children,
    );
  }
  if (tag === 'ol') {
    const start = Number(token.attrGet('start') ?? 1);
    return createElement('ol', { key, start: Number.isFinite(start) ? start : 1 }, ...children);
  }
  return createElement(tag, { key }, ...children);
}

function inline(tokens: Token[], opts: MarkdownOptions, keyBase: string): ReactNode[] {
  return build(tokens, opts, keyBase);
}

function build(tokens: Token[], opts: MarkdownOptions, keyBase: string): ReactNode[] {
  const stack: Frame[] = [{ token: null, children: [] }];
  tokens.forEach((t, idx) => {
    const key = `${keyBase}.${idx}`;
    const top = stack[stack.length - 1]!;
    if (t.nesting === 1) {
      stack.push({ token: t, children: [] });
      return;
    }
    if (t.nesting === -1) {
      if (stack.length === 1) return; // unbalanced close: ignore
      const frame = stack.pop()!;
      const parent = stack[stack.length - 1]!;
      if (frame.token) parent.children.push(elementFor(frame.token, frame.children, key));
      else parent.children.push(...frame.children);
      return;
    }
    switch (t.type) {
      case 'inline':
        top.children.push(createElement(Fragment, { key }, ...inline(t.children ?? [], opts, key)));
        break;
      case 'text':
        top.children.push(textWithMentions(t.content, opts, key));
        break;
      case 'code_inline':
        top.children.push(createElement('code', { key }, t.content));
        break;
      case 'code_block':
      case 'fence':
        top.children.push(createElement('pre', { key }, createElement('code', null, t.content.replace(/\n$/, ''))));
        break;
      case 'softbreak':
      case 'hardbreak':
        top.children.push(createElement('br', { key }));
        break;
      default:
        // html_inline/html_block are disabled; anything unexpected shows as text.
        if (t.content) top.children.push(t.content);
    }
  });
  while (stack.length > 1) {
    const frame = stack.pop()!;
    stack[stack.length - 1]!.children.push(...frame.children);
  }
  return stack[0]!.children;
}

/** Renders message text as safe React elements. */
export function renderMarkdown(src: string, opts: MarkdownOptions = {}): ReactNode {
  const tokens = md.parse(src, {});
  return createElement(Fragment, null, ...build(tokens, opts, 'md'));
}

/** Plain text of a message for previews (quotes, notifications): markup stripped. */
export function plainText(src: string, max = 140): string {
  const s = src
    .replace(/```[\s\S]*?```/g, '[code]')
    .replace(/[*_~`>#]/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
