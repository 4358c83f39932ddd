-- Files (issue 12): where an upload's bytes are (storage_key, written before
-- the row), its ETag (sha-256 of the bytes), the message that sent it
-- (NULL: unsent, visible to its uploader only, swept after 24 h) and
-- removed_at (its bytes are being removed: visible to nobody).
ALTER TABLE uploads ADD COLUMN message_id INTEGER REFERENCES messages (id);
ALTER TABLE uploads ADD COLUMN storage_key TEXT;
ALTER TABLE uploads ADD COLUMN etag TEXT;
ALTER TABLE uploads ADD COLUMN removed_at TEXT;
-- Uploads sent before this migration: linked to the first message that sent them.
UPDATE uploads SET message_id = (
    SELECT m.id FROM messages m
    WHERE m.file_url = '/api/files/' || uploads.id
    ORDER BY m.id LIMIT 1
);
CREATE INDEX uploads_message ON uploads (message_id);
CREATE INDEX uploads_user_created ON uploads (user_id, created_at);
CREATE INDEX uploads_unsent_created ON uploads (created_at) WHERE message_id IS NULL;
CREATE INDEX uploads_removed ON uploads (removed_at) WHERE removed_at IS NOT NULL;
