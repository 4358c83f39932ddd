-- Hardening (issue 14): revocable sessions, and room-log rows that can be found
-- by message so a delete or an edit rewrites what `sync` returns.

-- One row per signed-in session; its id is the `sid` claim of the session's
-- token. A token whose row is gone (logout, password change, "sign out
-- everywhere") is refused. Rows past `expires_at` are pruned.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at BIGINT NOT NULL -- unix seconds
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The message a logged event is about (NULL for events about no message).
ALTER TABLE room_events ADD COLUMN message_id BIGINT;
UPDATE room_events SET message_id = (data->>'id')::BIGINT
 WHERE event IN ('message:new', 'message:updated');
UPDATE room_events SET message_id = (data->>'messageId')::BIGINT
 WHERE event IN ('message:deleted', 'message:reactions');
CREATE INDEX room_events_message ON room_events (message_id) WHERE message_id IS NOT NULL;

-- What the log already holds of deleted and edited messages: the current text
-- only (a tombstone's is ""), and no file of a deleted message.
UPDATE room_events e
   SET data = jsonb_set(e.data, '{content}', to_jsonb(m.content))
  FROM messages m
 WHERE m.id = e.message_id AND e.event IN ('message:new', 'message:updated')
   AND (m.deleted_at IS NOT NULL OR m.edited_at IS NOT NULL);
UPDATE room_events e
   SET data = (e.data || '{"fileUrl": null, "reactions": [], "mentions": []}'::jsonb) - 'attachment'
  FROM messages m
 WHERE m.id = e.message_id AND e.event IN ('message:new', 'message:updated')
   AND m.deleted_at IS NOT NULL;
-- Replies quote their parent as it is now.
UPDATE room_events e
   SET data = jsonb_set(e.data, '{replyTo,content}', to_jsonb(p.content))
  FROM messages r JOIN messages p ON p.id = r.reply_to_id
 WHERE r.id = e.message_id AND e.event IN ('message:new', 'message:updated')
   AND jsonb_typeof(e.data->'replyTo') = 'object'
   AND (p.deleted_at IS NOT NULL OR p.edited_at IS NOT NULL);
