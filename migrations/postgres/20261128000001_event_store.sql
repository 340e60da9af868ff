-- Event store: one row per stream (its version is the optimistic-concurrency token) and one row
-- per event. `tx_id` lets readers of the whole log skip nothing: see store/postgres.rs.
CREATE TABLE streams (
    id          uuid PRIMARY KEY,
    kind        text        NOT NULL,
    version     bigint      NOT NULL CHECK (version >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived    boolean     NOT NULL DEFAULT false
);

CREATE TABLE events (
    seq             bigserial   PRIMARY KEY,
    id              uuid        NOT NULL UNIQUE,
    stream_id       uuid        NOT NULL REFERENCES streams (id),
    version         bigint      NOT NULL CHECK (version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- The backstop of optimistic concurrency: two events can never share a stream version.
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
);

CREATE INDEX events_tx_seq ON events (tx_id, seq);
