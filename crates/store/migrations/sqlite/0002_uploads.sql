-- Files uploaded into rooms. The bytes live in the file store (a local folder by
-- default) under the upload's id; this row says who may see them and what they are.
CREATE TABLE uploads (
    id            INTEGER PRIMARY KEY,
    room_id       INTEGER NOT NULL REFERENCES rooms (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    width         INTEGER,
    height        INTEGER,
    has_thumbnail BOOLEAN NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX uploads_room ON uploads (room_id);
