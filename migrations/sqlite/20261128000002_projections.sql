-- Projection versions, their checkpoints and rebuilds; the audit trail of operator actions; the
-- nodes that run projections. Written in the portable subset the projection code uses.
CREATE TABLE projection_versions (
    name                TEXT NOT NULL,
    version             BIGINT NOT NULL,
    state               TEXT NOT NULL,
    physical_table      TEXT NOT NULL,
    checkpoint_tx       BIGINT NOT NULL DEFAULT 0,
    checkpoint_seq      BIGINT NOT NULL DEFAULT 0,
    events_applied      BIGINT NOT NULL DEFAULT 0,
    last_event_at       TEXT,
    rate_per_sec        DOUBLE PRECISION NOT NULL DEFAULT 0,
    rebuild_table       TEXT,
    rebuild_tx          BIGINT NOT NULL DEFAULT 0,
    rebuild_seq         BIGINT NOT NULL DEFAULT 0,
    rebuild_done        BIGINT NOT NULL DEFAULT 0,
    rebuild_total       BIGINT NOT NULL DEFAULT 0,
    rebuild_started_at  TEXT,
    error               TEXT,
    error_seq           BIGINT,
    error_stream        TEXT,
    error_event_type    TEXT,
    failed_at           TEXT,
    owner_node          TEXT,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE projection_audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    name     TEXT NOT NULL,
    version  BIGINT NOT NULL,
    detail   TEXT NOT NULL
);

CREATE TABLE nodes (
    name          TEXT PRIMARY KEY,
    capabilities  TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);
