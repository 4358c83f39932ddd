// One message in the list: author, text, attachment, reply quote, reactions and actions.
import { memo, useMemo, useState } from 'react';
import type { User } from '../api/types';
import { plainText, renderMarkdown } from '../lib/markdown';
import { onArticleKey } from '../lib/messageKeys';
import { absoluteTime, clockTime } from '../lib/time';
import { sending } from '../state';
import type { ChatMessage } from '../state/timeline';
import { Attachment } from './Attachment';
import { Avatar } from './Avatar';
import { DaySeparator } from './DaySeparator';
import { EmojiPickerPopover } from './EmojiPickerPopover';
import { Icon } from './Icon';
import { Reactions } from './Reactions';
import { RelativeTime } from './RelativeTime';

interface Props {
  message: ChatMessage;
  me: User | null;
  grouped: boolean;
  showDay: boolean;
  showMarker: boolean;
  /** The message a search result opened. */
  highlighted?: boolean;
  isLast: boolean;
  canModerate: boolean;
  onReply: (m: ChatMessage) => void;
  onEdit: (m: ChatMessage) => void;
  onDelete: (m: ChatMessage) => void;
  onError: (msg: string) => void;
}

export const MessageItem = memo(function MessageItem({
  message: m,
  me,
  grouped,
  showDay,
  showMarker,
  highlighted = false,
  canModerate,
  onReply,
  onEdit,
  onDelete,
  onError,
}: Props) {
  const [picker, setPicker] = useState<DOMRect | null>(null);
  const mine = !!me && m.userId === me.id;
  const deleted = !!m.deletedAt;
  const local = m.status === 'pending' || m.status === 'failed';
  const mentionsMe = !!me && !mine && (m.mentions?.includes(me.id) ?? false);
  const body = useMemo(
    () => (deleted ? null : renderMarkdown(m.content, { myUsername: me?.username ?? null })),
    [m.content, deleted, me?.username],
  );
  const author = m.user?.name || m.user?.username || 'Unknown';

  const react = async (emoji: string) => {
    const err = await sending.react(m.id, emoji);
    if (err) onError(`Could not react: ${err}`);
  };

  const classes = [
    'msg',
    grouped ? 'msg-grouped' : '',
    mine ? 'msg-mine' : '',
    mentionsMe ? 'msg-mentions-me' : '',
    highlighted ? 'msg-highlight' : '',
    m.status ? `msg-${m.status}` : '',
    deleted ? 'msg-deleted' : '',
    // the actions stay shown while the emoji picker is open, so focus can come back
    picker ? 'msg-picking' : '',
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <div className="msg-wrap">
      {showDay && <DaySeparator iso={m.createdAt} />}
      {showMarker && (
        <div className="new-marker" data-testid="new-marker" role="separator" aria-label="New messages">
          <span>New</span>
        </div>
      )}
      <article
        className={classes}
        data-testid="message"
        data-message-id={m.id}
        data-seq={local ? undefined : m.seq}
        data-status={m.status ?? 'stored'}
        aria-label={`${author}, ${clockTime(m.createdAt)}`}
        // Keyboard: Tab reaches a message (its actions show while it has focus),
        // ↑/↓ move between messages, Escape goes back to the composer.
        tabIndex={local ? undefined : 0}
        onKeyDown={local ? undefined : onArticleKey}
      >
        <div className="msg-gutter">
          {grouped ? (
            <time className="msg-hover-time" dateTime={m.createdAt} title={absoluteTime(m.createdAt)}>
              {clockTime(m.createdAt)}
            </time>
          ) : (
            <Avatar user={m.user ?? { id: m.userId, username: '?' }} />
          )}
        </div>
        <div className="msg-body">
          {!grouped && (
            <div className="msg-head">
              <span className="msg-author">{author}</span>
              <RelativeTime className="msg-time" iso={m.createdAt} />
            </div>
          )}
          {m.replyTo && !deleted && (
            <div className="reply-quote" data-testid="reply-quote">
              <Icon name="reply" size={14} />
              <span className="reply-author">@{m.replyTo.user.username}</span>
              <span className="reply-text">{plainText(m.replyTo.content, 120) || 'deleted message'}</span>
            </div>
          )}
          {deleted ? (
            <p className="msg-text msg-tombstone" data-testid="message-deleted">
              This message was deleted.
            </p>
          ) : (
            <div className="msg-text" data-testid="message-text">
              {body}
              {m.editedAt && (
                <span className="msg-edited" title={`Edited ${absoluteTime(m.editedAt)}`} data-testid="message-edited">
                  {' '}
                  (edited)
                </span>
              )}
            </div>
          )}
          {!deleted && m.fileUrl && <Attachment message={m} />}
          {m.status === 'pending' && <p className="msg-status">Sending…</p>}
          {m.status === 'failed' && (
            <p className="msg-status msg-status-failed" role="alert">
              Not sent{m.sendError ? ` — ${m.sendError}` : ''}.{' '}
              <button type="button" className="link-button" onClick={() => sending.retry(m.roomId, m.clientId!)}>
                Retry
              </button>{' '}
              ·{' '}
              <button type="button" className="link-button" onClick={() => sending.discard(m.roomId, m.clientId!)}>
                Discard
              </button>
            </p>
          )}
          {!deleted && !local && <Reactions message={m} me={me} onToggle={react} />}
        </div>
        {!deleted && !local && (
          <div className="msg-actions" role="toolbar" aria-label="Message actions">
            <button
              type="button"
              className="icon-button small"
              aria-label="Add reaction"
              title="Add reaction"
              onClick={(e) => setPicker(e.currentTarget.getBoundingClientRect())}
            >
              <Icon name="smile" size={16} />
            </button>
            <button type="button" className="icon-button small" aria-label="Reply" title="Reply" onClick={() => onReply(m)}>
              <Icon name="reply" size={16} />
            </button>
            {mine && m.type === 'text' && (
              <button type="button" className="icon-button small" aria-label="Edit" title="Edit" onClick={() => onEdit(m)}>
                <Icon name="edit" size={16} />
              </button>
            )}
            {(mine || canModerate) && (
              <button type="button" className="icon-button small danger" aria-label="Delete" title="Delete" onClick={() => onDelete(m)}>
                <Icon name="trash" size={16} />
              </button>
            )}
          </div>
        )}
      </article>
      {picker && (
        <EmojiPickerPopover
          anchor={picker}
          onPick={(e) => {
            setPicker(null);
            void react(e);
          }}
          onClose={() => setPicker(null)}
        />
      )}
    </div>
  );
});
