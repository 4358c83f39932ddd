-- Room-scoped search lexemes (issue 10, docs/SEARCH.md "Indexes"). A search runs
-- over the searcher's rooms only; with the room as a lexeme of its own (0003),
-- the GIN scan merged every one of those rooms' postings (all their messages) on
-- each query: 15–40 ms at 1M messages before a word was looked at. Now each
-- token is indexed as `#<room>·<token>` (`·` never occurs in a token), at the
-- token's position, so a search ORs the scope's rooms per term (phrases and
-- prefixes as before) and reads only the postings of that word in those rooms.
--
-- The old column and its index go in this same migration: nodes of the previous
-- release find nothing (their queries name lexemes no longer indexed) from the
-- moment it runs until they are upgraded; everything else keeps working. Rewriting the column reads every
-- message once: about half a minute per million messages.

DROP INDEX messages_search;
ALTER TABLE messages DROP COLUMN search_tsv;
DROP FUNCTION natter_search_tsv(TEXT, BIGINT);

CREATE FUNCTION natter_search_scoped(t TEXT, room BIGINT) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT COALESCE(
        (SELECT string_agg('''#' || room || '·' || w || ''':' || LEAST(n, 16383), ' ')
         FROM unnest(string_to_array(t, ' ')) WITH ORDINALITY AS x (w, n)
         WHERE w <> '')::tsvector,
        ''::tsvector)
$$;

ALTER TABLE messages ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (natter_search_scoped(search_text, room_id)) STORED;
CREATE INDEX messages_search ON messages USING gin (search_tsv);

-- from:@user without words: the author's messages in the searcher's rooms, read
-- from one index (with only `messages_by_author`, PostgreSQL ANDed a bitmap of
-- all the author's messages with one of all the scope's: 20–40 ms at 1M).
CREATE INDEX messages_by_author_room ON messages (user_id, room_id, id);
