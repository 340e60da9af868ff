-- The write model's snapshot moves into the stream row: the append's one row update is then
-- both the version check and the snapshot write, instead of an update plus an upsert of a
-- second table (issue 19, point 7). `snapshot_version` is NULL while a stream has none.
ALTER TABLE streams
    ADD COLUMN snapshot_version bigint CHECK (snapshot_version >= 1),
    ADD COLUMN snapshot jsonb;
UPDATE streams s SET snapshot_version = sn.version, snapshot = sn.state
FROM snapshots sn WHERE sn.stream_id = s.id;
DROP TABLE snapshots;
