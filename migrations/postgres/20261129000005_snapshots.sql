-- Write-model snapshots: a stream's folded state as of `version`, written in the same statement
-- as the append that produced it (store/postgres.rs), so it is never ahead of the stream. A
-- reader folds any newer events on top, so an append that wrote no snapshot only costs a longer
-- tail.
CREATE TABLE snapshots (
    stream_id  uuid   PRIMARY KEY REFERENCES streams (id),
    version    bigint NOT NULL CHECK (version >= 1),
    state      jsonb  NOT NULL
);
