-- Message search (issue 10, docs/SEARCH.md). The server folds and cuts each
-- message into index tokens (natter_core::search::index_text: lower case, no
-- accents, words split at punctuation, CJK as pairs of characters) and stores
-- them in `search_text`, in the same statement that stores the message; the
-- triggers below keep the FTS5 index in the same transaction.
--
-- Rows stored before this migration have search_text NULL: the server fills
-- them in batches when it starts (logging its progress), since the tokens are
-- computed in Rust, not SQL.

ALTER TABLE messages ADD COLUMN search_text TEXT;
ALTER TABLE messages ADD COLUMN has_link BOOLEAN NOT NULL DEFAULT 0;
-- The room as a token of its own FTS column: a search ANDs the searcher's rooms
-- into the full-text query, so the index narrows to their rooms before any row
-- is read (never matched by words: they are limited to `search_text`).
ALTER TABLE messages ADD COLUMN search_room TEXT GENERATED ALWAYS AS ('r' || room_id) VIRTUAL;

-- The tokens are already folded and separated by spaces, so the `ascii`
-- tokenizer (split at ASCII non-alphanumerics, keep every non-ASCII
-- character) indexes exactly them; unicode61's folding would add nothing.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    search_text,
    search_room,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'ascii'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.search_text IS NOT NULL
BEGIN
    INSERT INTO messages_fts (rowid, search_text, search_room)
        VALUES (new.id, new.search_text, new.search_room);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, search_text, search_room)
        SELECT 'delete', old.id, old.search_text, old.search_room WHERE old.search_text IS NOT NULL;
    INSERT INTO messages_fts (rowid, search_text, search_room)
        SELECT new.id, new.search_text, new.search_room WHERE new.search_text IS NOT NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.search_text IS NOT NULL
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, search_text, search_room)
        VALUES ('delete', old.id, old.search_text, old.search_room);
END;

-- What the start-up backfill still has to do (empty once it is done).
CREATE INDEX messages_unindexed ON messages (id) WHERE search_text IS NULL;
-- has:link and from: without words.
CREATE INDEX messages_links ON messages (room_id, id) WHERE has_link;
CREATE INDEX messages_by_author ON messages (user_id, id);
