-- Web Push (issue 11): each member's notification level per room, and the
-- browsers' push subscriptions. Same logical schema as ../postgres/0005_push.sql.

-- NULL = the default: 'all' in a DM, 'mentions' in a room (so changing the
-- default later needs no data migration).
ALTER TABLE members ADD COLUMN notify_level TEXT
    CHECK (notify_level IN ('all', 'mentions', 'none'));

-- One row per push endpoint (the push service's URL for one browser profile);
-- an endpoint registered again by another user moves to that user.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    -- base64url of the browser's P-256 public key (65 bytes) and auth secret (16 bytes)
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_endpoint_key ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
