-- Sign-in: users, their sessions, and failed sign-ins for throttling. The portable subset (TEXT,
-- BIGINT; times as fixed-width RFC 3339 UTC text), the same on both backends.
CREATE TABLE users (
    name                 TEXT PRIMARY KEY,
    display_name         TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('dispatcher', 'admin')),
    password_hash        TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    password_changed_at  TEXT NOT NULL,
    disabled_at          TEXT
);

-- Only a SHA-256 hash of each session token is stored: a copy of this table signs no one in.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL REFERENCES users (name),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);

CREATE INDEX sessions_user_name ON sessions (user_name);
-- For removing sessions past their absolute expiry.
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Keyed by 'name:<lowercased name>' and 'addr:<ip>'.
CREATE TABLE login_failures (
    key              TEXT PRIMARY KEY,
    failures         BIGINT NOT NULL,
    first_failed_at  TEXT NOT NULL,
    last_failed_at   TEXT NOT NULL,
    locked_until     TEXT
);

-- For forgetting counters nobody has failed on for a while.
CREATE INDEX login_failures_last_failed_at ON login_failures (last_failed_at);
