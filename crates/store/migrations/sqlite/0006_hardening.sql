-- Hardening (issue 14): revocable sessions, and room-log rows that can be found
-- by message so a delete or an edit rewrites what `sync` returns.

-- One row per signed-in session; its id is the `sid` claim of the session's
-- token. A token whose row is gone (logout, password change, "sign out
-- everywhere") is refused. Rows past `expires_at` are pruned.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL -- unix seconds
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The message a logged event is about (NULL for events about no message).
ALTER TABLE room_events ADD COLUMN message_id INTEGER;
UPDATE room_events SET message_id = CAST(json_extract(data, '$.id') AS INTEGER)
 WHERE event IN ('message:new', 'message:updated');
UPDATE room_events SET message_id = CAST(json_extract(data, '$.messageId') AS INTEGER)
 WHERE event IN ('message:deleted', 'message:reactions');
CREATE INDEX room_events_message ON room_events (message_id) WHERE message_id IS NOT NULL;

-- What the log already holds of deleted and edited messages: the current text
-- only (a tombstone's is ""), and no file of a deleted message.
UPDATE room_events
   SET data = json_set(data, '$.content',
                       (SELECT m.content FROM messages m WHERE m.id = room_events.message_id))
 WHERE event IN ('message:new', 'message:updated')
   AND EXISTS (SELECT 1 FROM messages m WHERE m.id = room_events.message_id
               AND (m.deleted_at IS NOT NULL OR m.edited_at IS NOT NULL));
UPDATE room_events
   SET data = json_remove(json_set(data, '$.fileUrl', json('null'), '$.reactions', json('[]'),
                                   '$.mentions', json('[]')), '$.attachment')
 WHERE event IN ('message:new', 'message:updated')
   AND EXISTS (SELECT 1 FROM messages m WHERE m.id = room_events.message_id
               AND m.deleted_at IS NOT NULL);
-- Replies quote their parent as it is now.
UPDATE room_events
   SET data = json_set(data, '$.replyTo.content',
                       (SELECT p.content FROM messages r JOIN messages p ON p.id = r.reply_to_id
                         WHERE r.id = room_events.message_id))
 WHERE event IN ('message:new', 'message:updated')
   AND json_type(data, '$.replyTo') = 'object'
   AND EXISTS (SELECT 1 FROM messages r JOIN messages p ON p.id = r.reply_to_id
                WHERE r.id = room_events.message_id
                  AND (p.deleted_at IS NOT NULL OR p.edited_at IS NOT NULL));
