-- Each projection version's lag and rate, sampled every few seconds by the node running it, for
-- the operators' charts. A ring: the sampler deletes rows older than an hour as it adds new ones.
-- The portable subset (TEXT, BIGINT, DOUBLE PRECISION; times as fixed-width UTC text), the same on
-- both backends.
CREATE TABLE projection_samples (
    name            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    at              TEXT NOT NULL,
    lag_events      BIGINT NOT NULL,
    events_per_sec  DOUBLE PRECISION NOT NULL
);

-- Every read and every prune is one version's rows in time order.
CREATE INDEX projection_samples_version_at ON projection_samples (name, version, at);
