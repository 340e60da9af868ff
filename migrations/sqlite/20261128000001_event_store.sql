-- Event store (SQLite): writers are serialized with BEGIN IMMEDIATE, so `seq` order is commit
-- order and a reader of the whole log can simply follow `seq`.
CREATE TABLE streams (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 0),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    archived    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL REFERENCES streams (id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    data            TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);
