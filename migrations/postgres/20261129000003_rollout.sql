-- The guided rollout: per-projection settings, recorded comparisons of a candidate with the
-- live version (and who acknowledged differences), events skipped by an admin, and alerts
-- (an automatic rollback) that stay until someone acknowledges them. Portable types.
CREATE TABLE projection_settings (
    name                      TEXT PRIMARY KEY,
    auto_rollback             BIGINT NOT NULL DEFAULT 1,
    max_lag_events            BIGINT NOT NULL DEFAULT 0,
    comparison_valid_minutes  BIGINT NOT NULL DEFAULT 15,
    updated_at                TEXT,
    updated_by                TEXT
);

CREATE TABLE projection_comparisons (
    id                 BIGSERIAL PRIMARY KEY,
    name               TEXT NOT NULL,
    live_version       BIGINT NOT NULL,
    candidate_version  BIGINT NOT NULL,
    at                 TEXT NOT NULL,
    identical          BIGINT NOT NULL,
    differing          BIGINT NOT NULL,
    only_live          BIGINT NOT NULL,
    only_candidate     BIGINT NOT NULL,
    acknowledged_by    TEXT,
    acknowledged_at    TEXT
);
CREATE INDEX projection_comparisons_latest ON projection_comparisons (name, candidate_version, id);

CREATE TABLE skipped_events (
    name             TEXT NOT NULL,
    version          BIGINT NOT NULL,
    seq              BIGINT NOT NULL,
    stream_id        TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    error            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    skipped_by       TEXT NOT NULL,
    skipped_at       TEXT NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  TEXT,
    PRIMARY KEY (name, version, seq)
);

CREATE TABLE projection_alerts (
    id               BIGSERIAL PRIMARY KEY,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    detail           TEXT NOT NULL,
    at               TEXT NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  TEXT
);
