// Message search in the room header (a lookup of its own): scope, filter chips, results.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { ApiError, rest } from '../api/rest';
import type { Id, Room, SearchResult } from '../api/types';
import { addFilter, filtersIn, isDay, removeFilter } from '../lib/search';
import { absoluteTime } from '../lib/time';
import { timelines, useRooms } from '../state';
import { roomTitle } from '../state/rooms';
import { Icon } from './Icon';

type Menu = 'from' | 'in' | 'has' | 'date' | null;

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

function editable(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName);
}

/**
 * Message search in the room header: Ctrl/Cmd+K or `/` focus it. The scope (this
 * room, all rooms, or a room picked with "In") is always shown; filters are chips
 * that write the operators into the query, so typed and clicked filters are the same.
 */
export function SearchBox({ room }: { room: Room }) {
  const rooms = useRooms((s) => s.rooms);
  const peers = useRooms((s) => s.dmPeers);
  const members = useRooms((s) => s.members[room.id]);
  const [text, setText] = useState('');
  const [scope, setScope] = useState<Id | null>(null);
  const [open, setOpen] = useState(false);
  const [menu, setMenu] = useState<Menu>(null);
  const [results, setResults] = useState<SearchResult[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [status, setStatus] = useState<'idle' | 'loading' | 'done' | 'error'>('idle');
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [day, setDay] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const asked = useRef(0);
  const listId = useId();

  // Ctrl/Cmd+K anywhere, `/` outside a text field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k';
      const slash = e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !editable(e.target);
      if (!k && !slash) return;
      e.preventDefault();
      input.current?.focus();
      input.current?.select();
      setOpen(true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // A click outside closes it.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (box.current && e.target instanceof Node && !box.current.contains(e.target)) {
        setOpen(false);
        setMenu(null);
      }
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const run = useCallback(
    async (cursor: string | null) => {
      const q = text.trim();
      const n = ++asked.current;
      if (!q) {
        setResults([]);
        setNext(null);
        setStatus('idle');
        return;
      }
      setStatus('loading');
      try {
        const page = await rest.search({ q, roomId: scope ?? undefined, cursor: cursor ?? undefined, limit: 20 });
        if (n !== asked.current) return;
        setResults((prev) => (cursor ? [...prev, ...page.results] : page.results));
        setNext(page.nextCursor);
        setStatus('done');
        setError(null);
        if (!cursor) setActive(0);
      } catch (e) {
        if (n !== asked.current) return;
        setStatus('error');
        setError(e instanceof ApiError ? e.message : 'Search failed.');
      }
    },
    [text, scope],
  );

  useEffect(() => {
    const t = setTimeout(() => void run(null), 250);
    return () => clearTimeout(t);
  }, [run]);

  const openResult = (r: SearchResult) => {
    setOpen(false);
    setMenu(null);
    void timelines.jumpTo(r.message.roomId, r.message.seq).catch(() => undefined);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      if (menu) setMenu(null);
      else {
        setOpen(false);
        input.current?.blur();
      }
    } else if (e.key === 'ArrowDown' && results.length > 0) {
      e.preventDefault();
      setOpen(true);
      setActive((i) => Math.min(results.length - 1, i + 1));
    } else if (e.key === 'ArrowUp' && results.length > 0) {
      e.preventDefault();
      setActive((i) => Math.max(0, i - 1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const r = results[active];
      if (r) openResult(r);
    }
  };

  const add = (filter: string) => {
    setText((q) => addFilter(q, filter));
    setMenu(null);
    input.current?.focus();
  };

  const scopeName = scope === null ? 'All rooms' : scope === room.id ? 'This room' : `In ${roomLabel(rooms[scope])}`;
  function roomLabel(r: Room | undefined): string {
    if (!r) return 'a room';
    return r.isDirect ? roomTitle(r, peers) : `#${r.name}`;
  }
  const filters = filtersIn(text);
  const roomList = Object.values(rooms).sort((a, b) => roomLabel(a).localeCompare(roomLabel(b)));
  const showPanel = open;
  const activeId = results[active] ? `${listId}-${active}` : undefined;

  return (
    <div className="search" ref={box}>
      <div className="search-field">
        <Icon name="search" size={16} />
        <input
          ref={input}
          type="search"
          role="combobox"
          aria-label="Search messages"
          aria-expanded={showPanel}
          aria-controls={listId}
          aria-activedescendant={showPanel ? activeId : undefined}
          aria-autocomplete="list"
          placeholder="Search messages"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onKeyDown={onKeyDown}
          data-testid="search-input"
        />
        <kbd className="search-kbd" aria-hidden="true">
          {IS_MAC ? '⌘K' : 'Ctrl K'}
        </kbd>
      </div>
      {showPanel && (
        <div className="search-panel" role="region" aria-label="Search">
          <div className="search-scope" role="group" aria-label="Where to search">
            <button type="button" aria-pressed={scope === room.id} onClick={() => setScope(room.id)}>
              This room
            </button>
            <button type="button" aria-pressed={scope === null} onClick={() => setScope(null)}>
              All rooms
            </button>
            <span className="search-scope-now" data-testid="search-scope">
              Searching: {scopeName}
            </span>
          </div>
          <div className="search-chips" role="group" aria-label="Filters">
            {(['from', 'in', 'has', 'date'] as const).map((m) => (
              <button
                key={m}
                type="button"
                className={menu === m ? 'chip chip-open' : 'chip'}
                aria-expanded={menu === m}
                onClick={() => setMenu(menu === m ? null : m)}
              >
                {m === 'from' ? 'From' : m === 'in' ? 'In' : m === 'has' ? 'Has' : 'Date'} ▾
              </button>
            ))}
            {filters.map((f) => (
              <button
                key={f}
                type="button"
                className="chip chip-active"
                aria-label={`Remove filter ${f}`}
                onClick={() => setText((q) => removeFilter(q, f))}
              >
                {f} <Icon name="close" size={12} />
              </button>
            ))}
          </div>
          {menu && (
            <div className="search-menu" role="menu" aria-label={`${menu} filter`}>
              {menu === 'from' && (
                <>
                  <button type="button" role="menuitem" onClick={() => add('from:me')}>
                    Me
                  </button>
                  {(members ?? []).map((m) => (
                    <button type="button" role="menuitem" key={m.user.id} onClick={() => add(`from:@${m.user.username}`)}>
                      {m.user.name} <span className="muted">@{m.user.username}</span>
                    </button>
                  ))}
                </>
              )}
              {menu === 'in' &&
                roomList.map((r) => (
                  <button
                    type="button"
                    role="menuitem"
                    key={r.id}
                    onClick={() => {
                      setScope(r.id);
                      setMenu(null);
                      input.current?.focus();
                    }}
                  >
                    {roomLabel(r)}
                  </button>
                ))}
              {menu === 'has' &&
                (['link', 'image', 'file'] as const).map((h) => (
                  <button type="button" role="menuitem" key={h} onClick={() => add(`has:${h}`)}>
                    {h === 'link' ? 'A link' : h === 'image' ? 'An image' : 'A file'}
                  </button>
                ))}
              {menu === 'date' && (
                <div className="search-date">
                  <label>
                    Day
                    <input type="date" value={day} onChange={(e) => setDay(e.target.value)} aria-label="Day" />
                  </label>
                  {(['on', 'before', 'after'] as const).map((op) => (
                    <button type="button" key={op} disabled={!isDay(day)} onClick={() => add(`${op}:${day}`)}>
                      {op === 'on' ? 'On' : op === 'before' ? 'Before' : 'After'}
                    </button>
                  ))}
                </div>
              )}
            </div>
          )}
          {status === 'error' && (
            <p className="search-note search-error" role="alert">
              {error}
            </p>
          )}
          {status === 'idle' && (
            <p className="search-note muted">
              Type words to find. Filters: <code>from:@name</code> <code>in:#room</code> <code>has:link</code>{' '}
              <code>before:2025-01-31</code> <code>"exact phrase"</code> <code>-word</code>
            </p>
          )}
          {status === 'done' && results.length === 0 && (
            <div className="search-note" role="status" data-testid="search-empty">
              <strong>No messages match.</strong>
              <ul>
                <li>Check the spelling, or use fewer or shorter words (a word finds words it starts).</li>
                {scope !== null && <li>Search all rooms instead of {scopeName.replace(/^In /, '')}.</li>}
                {filters.length > 0 && <li>Remove a filter.</li>}
                <li>Only rooms you are a member of are searched.</li>
              </ul>
            </div>
          )}
          <ul className="search-results" id={listId} role="listbox" aria-label="Results" aria-busy={status === 'loading'}>
            {results.map((r, i) => (
              <li
                key={r.message.id}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                className={i === active ? 'search-result active' : 'search-result'}
                onMouseEnter={() => setActive(i)}
                onClick={() => openResult(r)}
                data-testid="search-result"
              >
                <div className="search-result-meta">
                  <span className="search-result-room">{roomLabel(rooms[r.message.roomId])}</span>
                  <span>{r.message.user?.name || r.message.user?.username}</span>
                  <time dateTime={r.message.createdAt}>{absoluteTime(r.message.createdAt)}</time>
                </div>
                <p className="search-snippet">
                  {r.snippet.map((p, j) => (p.match ? <mark key={j}>{p.text}</mark> : <span key={j}>{p.text}</span>))}
                </p>
              </li>
            ))}
          </ul>
          {next && (
            <button type="button" className="button button-ghost search-more" onClick={() => void run(next)}>
              More results
            </button>
          )}
          {status === 'loading' && <p className="search-note muted">Searching…</p>}
        </div>
      )}
    </div>
  );
}
