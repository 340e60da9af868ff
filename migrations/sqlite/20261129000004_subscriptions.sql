-- Webhook subscriptions: a consumer of the event log whose effect leaves the database. Each
-- subscription keeps its own checkpoint (projection rebuilds and cutovers never move it), and
-- writes one delivery row per matching event in the same transaction as its checkpoint (the
-- outbox); a sender then delivers the rows. Portable types, times as fixed-width UTC text.
CREATE TABLE subscriptions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL UNIQUE,
    target_url       TEXT NOT NULL,
    -- Comma-separated event type names; empty means every shipment event.
    event_types      TEXT NOT NULL,
    -- Case-insensitive text the shipment's origin or destination must contain; empty: any.
    place_filter     TEXT NOT NULL,
    secret           TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('active', 'paused')),
    max_attempts     BIGINT NOT NULL,
    checkpoint_tx    BIGINT NOT NULL DEFAULT 0,
    checkpoint_seq   BIGINT NOT NULL DEFAULT 0,
    owner            TEXT,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Stable across retries: receivers deduplicate on it.
    delivery_id        TEXT NOT NULL UNIQUE,
    subscription_id    BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    event_id           TEXT NOT NULL,
    event_seq          BIGINT NOT NULL,
    -- Deliveries of one stream go out in id order: the next waits for the one before it.
    stream_id          TEXT NOT NULL,
    event_type         TEXT NOT NULL,
    body               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'discarded')),
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    TEXT NOT NULL,
    last_status_code   BIGINT,
    last_error         TEXT,
    response_excerpt   TEXT,
    last_attempt_at    TEXT,
    created_at         TEXT NOT NULL,
    finished_at        TEXT
);
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (subscription_id, status, id);
CREATE INDEX webhook_deliveries_by_stream ON webhook_deliveries (subscription_id, stream_id, status, id);

CREATE TABLE subscription_audit (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL,
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    subscription     TEXT NOT NULL,
    detail           TEXT NOT NULL
);
CREATE INDEX subscription_audit_by_name ON subscription_audit (subscription, id);
