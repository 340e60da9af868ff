-- Readers' checkpoints become transaction snapshots on PostgreSQL (see src/store/checkpoint.rs).
-- On SQLite one writer commits at a time, the seq alone is the checkpoint and the snapshot
-- text stays empty; the transaction column (always 0 here) goes.
ALTER TABLE projection_versions ADD COLUMN checkpoint_snapshot TEXT NOT NULL DEFAULT '';
ALTER TABLE projection_versions ADD COLUMN rebuild_snapshot TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN checkpoint_snapshot TEXT NOT NULL DEFAULT '';
ALTER TABLE projection_versions DROP COLUMN checkpoint_tx;
ALTER TABLE projection_versions DROP COLUMN rebuild_tx;
ALTER TABLE subscriptions DROP COLUMN checkpoint_tx;
