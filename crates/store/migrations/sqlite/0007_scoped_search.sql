-- Room-scoped search tokens (issue 10, docs/SEARCH.md "Indexes"). A search runs
-- over the searcher's rooms only; with the room as a separate token (0003), the
-- full-text engine merged every one of those rooms' postings (all their
-- messages) on each query, and bm25 counted them all again to weigh them:
-- 10–20 ms at 1M messages before a single word was looked at. Now each token is
-- indexed as `r<room>·<token>` (`·` never occurs in a token), so a search ORs
-- the scope's rooms per term and reads only the postings of that word in those
-- rooms. The plain tokens and the room token are no longer indexed.
--
-- `search_text` stays the one stored copy; the scoped form is computed from it
-- (a virtual column, nothing more on disk). The rebuild reads every message
-- once: about 3 s per million messages.

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
DROP TABLE messages_fts;
ALTER TABLE messages DROP COLUMN search_room;

ALTER TABLE messages ADD COLUMN search_scoped TEXT GENERATED ALWAYS AS (
    CASE WHEN search_text IS NULL OR search_text = '' THEN search_text
         ELSE 'r' || room_id || '·' || replace(search_text, ' ', ' r' || room_id || '·')
    END) VIRTUAL;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    search_scoped,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'ascii'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.search_text IS NOT NULL
BEGIN
    INSERT INTO messages_fts (rowid, search_scoped) VALUES (new.id, new.search_scoped);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, search_scoped)
        SELECT 'delete', old.id, old.search_scoped WHERE old.search_text IS NOT NULL;
    INSERT INTO messages_fts (rowid, search_scoped)
        SELECT new.id, new.search_scoped WHERE new.search_text IS NOT NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.search_text IS NOT NULL
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, search_scoped)
        VALUES ('delete', old.id, old.search_scoped);
END;

-- Rows still waiting for the start-up backfill (search_text NULL) are left out,
-- as the insert trigger leaves them out; the backfill's UPDATE indexes them.
INSERT INTO messages_fts (rowid, search_scoped)
    SELECT id, search_scoped FROM messages WHERE search_text IS NOT NULL;

-- from:@user without words: the author's messages in the searcher's rooms, read
-- from one index (with only `messages_by_author`, PostgreSQL ANDed a bitmap of
-- all the author's messages with one of all the scope's: 20–40 ms at 1M).
CREATE INDEX messages_by_author_room ON messages (user_id, room_id, id);
