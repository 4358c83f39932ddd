// The message box: drafts, mentions, emoji, reply and edit modes, files, typing events.
import { useEffect, useMemo, useRef, useState, type ChangeEvent, type ClipboardEvent, type KeyboardEvent } from 'react';
import type { Room, User } from '../api/types';
import { plainText } from '../lib/markdown';
import { sending, timelines, typing, uploads, useRooms } from '../state';
import { isLocal, type ChatMessage } from '../state/timeline';
import { EmojiPickerPopover } from './EmojiPickerPopover';
import { Icon } from './Icon';
import { MentionSuggestions } from './MentionSuggestions';
import { UploadTray } from './UploadTray';

interface Props {
  room: Room;
  title: string;
  replyTo: ChatMessage | null;
  editing: ChatMessage | null;
  onCancelReply: () => void;
  onStartEdit: (m: ChatMessage) => void;
  onCancelEdit: () => void;
  onError: (msg: string) => void;
}

const MAX = 4000;
const drafts = new Map<string, string>();

/** The `@word` being typed just before the caret, if any. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|[\s(])@([a-z0-9_.-]{0,32})$/i.exec(before);
  if (!m) return null;
  return { start: caret - m[2]!.length - 1, query: m[2]!.toLowerCase() };
}

export function Composer({ room, title, replyTo, editing, onCancelReply, onStartEdit, onCancelEdit, onError }: Props) {
  const [text, setText] = useState(() => drafts.get(room.id) ?? '');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [picker, setPicker] = useState<DOMRect | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const members = useRooms((s) => s.members[room.id]);
  const me = useRooms((s) => s.me);
  const savedDraft = useRef('');

  useEffect(() => () => typing.stop(), [room.id]);
  useEffect(() => {
    drafts.set(room.id, editing ? savedDraft.current : text);
  }, [room.id, text, editing]);

  // Entering edit mode puts the message text in the box; leaving restores the draft.
  useEffect(() => {
    if (editing) {
      savedDraft.current = text;
      setText(editing.content);
      requestAnimationFrame(() => {
        const el = ref.current;
        if (el) {
          el.focus();
          el.setSelectionRange(el.value.length, el.value.length);
        }
      });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editing?.id]);

  useEffect(() => {
    if (replyTo) ref.current?.focus();
  }, [replyTo]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  const mq = mentionQuery(text, caret);
  const suggestions: User[] = useMemo(() => {
    if (!mq) return [];
    const users = (members ?? []).map((m) => m.user).filter((u) => u.id !== me?.id);
    const list = users.filter(
      (u) => u.username.toLowerCase().startsWith(mq.query) || (u.name ?? '').toLowerCase().includes(mq.query),
    );
    if (!room.isDirect && 'room'.startsWith(mq.query)) list.push({ id: '@room', username: 'room', name: 'Everyone in the room', avatar: null });
    return list.slice(0, 8);
  }, [mq?.query, members, me?.id, room.isDirect]); // eslint-disable-line react-hooks/exhaustive-deps

  const showSuggestions = !!mq && suggestions.length > 0;

  function insertMention(u: User) {
    if (!mq) return;
    const next = `${text.slice(0, mq.start)}@${u.username} ${text.slice(caret)}`;
    const pos = mq.start + u.username.length + 2;
    setText(next);
    setCaret(pos);
    requestAnimationFrame(() => ref.current?.setSelectionRange(pos, pos));
  }

  function insertText(s: string) {
    const el = ref.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    const next = text.slice(0, start) + s + text.slice(end);
    setText(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + s.length, start + s.length);
    });
  }

  async function submit() {
    const content = text.trim();
    if (!content) return;
    if (content.length > MAX) {
      onError(`Messages can be at most ${MAX} characters (this one has ${content.length}).`);
      return;
    }
    typing.stop();
    if (editing) {
      const target = editing;
      onCancelEdit();
      setText(savedDraft.current);
      if (content !== target.content) {
        const err = await sending.edit(target.id, content);
        if (err) onError(`Could not edit: ${err}`);
      }
      return;
    }
    sending.send(room.id, content, { replyTo });
    setText('');
    onCancelReply();
  }

  function editLast(): boolean {
    const msgs = timelines.store.getState().timelines[room.id]?.messages ?? [];
    for (let i = msgs.length - 1; i >= 0; i--) {
      const m = msgs[i]!;
      if (m.userId === me?.id && !m.deletedAt && !isLocal(m) && m.type === 'text') {
        onStartEdit(m);
        return true;
      }
    }
    return false;
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.nativeEvent.isComposing) return;
    if (showSuggestions) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setActive((a) => (a + d + suggestions.length) % suggestions.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        insertMention(suggestions[Math.min(active, suggestions.length - 1)]!);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setCaret(-1);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      void submit();
      return;
    }
    if (e.key === 'ArrowUp' && !e.altKey && text === '' && !editing) {
      if (editLast()) e.preventDefault();
      return;
    }
    if (e.key === 'Escape') {
      if (editing) {
        e.preventDefault();
        onCancelEdit();
        setText(savedDraft.current);
      } else if (replyTo) {
        e.preventDefault();
        onCancelReply();
      }
    }
  }

  function onChange(e: ChangeEvent<HTMLTextAreaElement>) {
    setText(e.target.value);
    setCaret(e.target.selectionStart);
    setActive(0);
    if (e.target.value && !editing) typing.keystroke(room.id);
    else if (!e.target.value) typing.stop();
  }

  function onFile(e: ChangeEvent<HTMLInputElement>) {
    const files = Array.from(e.target.files ?? []);
    e.target.value = '';
    if (files.length > 0) uploads.add(room.id, files);
  }

  // A pasted image (a screenshot, say) is uploaded; pasted text stays text.
  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    if (editing) return;
    const files = Array.from(e.clipboardData?.files ?? []);
    if (files.length === 0) return;
    e.preventDefault();
    uploads.add(room.id, files);
  }

  const over = text.length > MAX;
  const listId = `mentions-${room.id}`;

  return (
    <div className="composer-wrap">
      {showSuggestions && (
        <MentionSuggestions id={listId} users={suggestions} active={Math.min(active, suggestions.length - 1)} onPick={insertMention} />
      )}
      <form
        className={editing ? 'composer composer-editing' : 'composer'}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {replyTo && !editing && (
          <div className="composer-context" data-testid="composer-reply">
            <Icon name="reply" size={14} />
            <span>
              Replying to <strong>{replyTo.user.name || replyTo.user.username}</strong>:{' '}
              <span className="muted">{plainText(replyTo.content, 100)}</span>
            </span>
            <button type="button" className="icon-button small" aria-label="Cancel reply" onClick={onCancelReply}>
              <Icon name="close" size={14} />
            </button>
          </div>
        )}
        {editing && (
          <div className="composer-context composer-context-edit" data-testid="composer-editing">
            <Icon name="edit" size={14} />
            <span>
              Editing message · <kbd>Enter</kbd> to save · <kbd>Esc</kbd> to cancel
            </span>
            <button
              type="button"
              className="icon-button small"
              aria-label="Cancel editing"
              onClick={() => {
                onCancelEdit();
                setText(savedDraft.current);
              }}
            >
              <Icon name="close" size={14} />
            </button>
          </div>
        )}
        <UploadTray roomId={room.id} />
        <div className="composer-row">
          <button
            type="button"
            className="icon-button"
            aria-label="Attach files"
            title="Attach files (or drop or paste them)"
            onClick={() => fileRef.current?.click()}
            disabled={!!editing}
          >
            <Icon name="paperclip" />
          </button>
          <input ref={fileRef} type="file" multiple hidden onChange={onFile} aria-hidden="true" tabIndex={-1} data-testid="file-input" />
          <textarea
            ref={ref}
            className="composer-input"
            rows={1}
            value={text}
            placeholder={editing ? 'Edit your message' : `Message ${title}`}
            aria-label={editing ? 'Edit message' : `Message ${title}`}
            aria-autocomplete="list"
            aria-controls={showSuggestions ? listId : undefined}
            aria-activedescendant={showSuggestions ? `${listId}-${Math.min(active, suggestions.length - 1)}` : undefined}
            aria-invalid={over || undefined}
            onChange={onChange}
            onKeyDown={onKeyDown}
            onPaste={onPaste}
            onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
            onBlur={() => typing.stop()}
            data-testid="composer-input"
          />
          <button
            type="button"
            className="icon-button"
            aria-label="Insert emoji"
            title="Insert emoji"
            onClick={(e) => setPicker(e.currentTarget.getBoundingClientRect())}
          >
            <Icon name="smile" />
          </button>
          <button type="submit" className="send-button" aria-label={editing ? 'Save edit' : 'Send message'} disabled={!text.trim() || over}>
            <Icon name="send" />
          </button>
        </div>
        {text.length > MAX - 400 && (
          <p className={over ? 'composer-count over' : 'composer-count'} aria-live="polite">
            {text.length} / {MAX}
          </p>
        )}
      </form>
      <p className="composer-hint" aria-hidden="true">
        <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>↑</kbd> edit last · <kbd>@</kbd> mention
      </p>
      {picker && (
        <EmojiPickerPopover
          anchor={picker}
          quick={false}
          onPick={(e) => {
            setPicker(null);
            insertText(e);
          }}
          onClose={() => setPicker(null)}
        />
      )}
    </div>
  );
}
