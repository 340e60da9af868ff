-- Write-model snapshots: a stream's folded state as of `version`, written in the append's own
-- transaction (store/sqlite.rs). A reader folds any newer events on top.
CREATE TABLE snapshots (
    stream_id  TEXT    PRIMARY KEY REFERENCES streams (id),
    version    INTEGER NOT NULL CHECK (version >= 1),
    state      TEXT    NOT NULL
);
