-- Natter's schema on SQLite. Same logical schema as ../postgres/0001_init.sql:
-- times are RFC 3339 TEXT, booleans 0/1, event payloads JSON TEXT.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    username      TEXT NOT NULL,
    name          TEXT NOT NULL,
    avatar        TEXT,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
-- Unique ignoring case; the index names carry the field name, which is how
-- a unique violation is reported as "username is taken" / "email is taken".
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE rooms (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    is_private    BOOLEAN NOT NULL,
    is_direct     BOOLEAN NOT NULL,
    -- "minId:maxId" for the one DM room of a pair; NULL for other rooms.
    dm_key        TEXT UNIQUE,
    created_by    INTEGER NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    -- The room's latest eventSeq: every change takes last_seq + 1.
    last_seq      INTEGER NOT NULL DEFAULT 0,
    -- Microseconds since the epoch of the latest message (room-list order).
    last_activity INTEGER NOT NULL
);

CREATE TABLE members (
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'moderator', 'member')),
    joined_at     TEXT NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    seq         INTEGER NOT NULL,
    content     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('text', 'image', 'file')),
    file_url    TEXT,
    reply_to_id INTEGER REFERENCES messages (id),
    client_id   TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    edited_at   TEXT,
    deleted_at  TEXT,
    -- Also the index of history pages and unread counts.
    UNIQUE (room_id, seq)
);
CREATE UNIQUE INDEX messages_client_id_key ON messages (room_id, user_id, client_id)
    WHERE client_id IS NOT NULL;

CREATE TABLE message_mentions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    room_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The message's seq, copied so mention counts need no join to find it.
    seq        INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_by_user ON message_mentions (user_id, room_id, seq);

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    -- The eventSeq of the toggle that added it: orders users as they reacted.
    seq        INTEGER NOT NULL,
    -- Since when this emoji has been held on the message without a break
    -- (the seq of its first holder then): orders the emojis, so an emoji
    -- keeps its place while anyone holds it.
    emoji_seq  INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

-- The log `sync` replays: one row per room change, with the live payload.
CREATE TABLE room_events (
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    event_seq  INTEGER NOT NULL,
    event      TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (room_id, event_seq)
);
