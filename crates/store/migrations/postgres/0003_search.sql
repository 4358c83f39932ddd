-- Message search (issue 10, docs/SEARCH.md). The server folds and cuts each
-- message into index tokens (natter_core::search::index_text: lower case, no
-- accents, words split at punctuation, CJK as pairs of characters) and stores
-- them in `search_text`, in the same statement that stores the message; the
-- generated `search_tsv` and its GIN index follow in the same transaction.
--
-- Rows stored before this migration have search_text NULL: the server fills
-- them in batches when it starts (logging its progress), since the tokens are
-- computed in Rust, not SQL. No extension is needed.

ALTER TABLE messages ADD COLUMN search_text TEXT;
ALTER TABLE messages ADD COLUMN has_link BOOLEAN NOT NULL DEFAULT FALSE;

-- The tokens, in order, as a tsvector literal: no text-search parser or
-- dictionary in between (their rules depend on the server's locale), so the
-- lexemes are exactly the tokens SQLite indexes. Tokens hold only letters,
-- digits, marks and CJK characters: nothing to escape inside the quotes.
-- Plus the room as the lexeme `#<id>` (no token holds `#`), so a search ANDs the
-- searcher's rooms into the query and the GIN index narrows to them before any row
-- is read.
CREATE FUNCTION natter_search_tsv(t TEXT, room BIGINT) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT COALESCE(
        (SELECT string_agg('''' || w || ''':' || LEAST(n, 16383), ' ')
         FROM unnest(string_to_array(t, ' ')) WITH ORDINALITY AS x (w, n)
         WHERE w <> '')::tsvector,
        ''::tsvector) || ('''#' || room || '''')::tsvector
$$;

ALTER TABLE messages ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (natter_search_tsv(search_text, room_id)) STORED;
CREATE INDEX messages_search ON messages USING gin (search_tsv);

-- What the start-up backfill still has to do (empty once it is done).
CREATE INDEX messages_unindexed ON messages (id) WHERE search_text IS NULL;
-- has:link and from: without words.
CREATE INDEX messages_links ON messages (room_id, id) WHERE has_link;
CREATE INDEX messages_by_author ON messages (user_id, id);
