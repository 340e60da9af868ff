-- Readers' checkpoints become transaction snapshots (see src/store/checkpoint.rs), stored as
-- text beside the highest seq read. An old checkpoint (tx, seq) had read exactly the events
-- with (tx_id, seq) <= (tx, seq): every transaction below tx had ended when it was read, so
-- that is the snapshot "tx:tx:" seen, plus a page toward "tx+1:tx+1:" read up to seq. The
-- conversion is exact: no projection starts over, no event is applied twice, no webhook is
-- sent again.
ALTER TABLE projection_versions
    ADD COLUMN checkpoint_snapshot TEXT NOT NULL DEFAULT '',
    ADD COLUMN rebuild_snapshot TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN checkpoint_snapshot TEXT NOT NULL DEFAULT '';

UPDATE projection_versions
SET checkpoint_snapshot = format('%s:%s: toward %s:%s: after %s',
        checkpoint_tx, checkpoint_tx, checkpoint_tx + 1, checkpoint_tx + 1, checkpoint_seq)
WHERE checkpoint_tx > 0;
UPDATE projection_versions
SET rebuild_snapshot = format('%s:%s: toward %s:%s: after %s',
        rebuild_tx, rebuild_tx, rebuild_tx + 1, rebuild_tx + 1, rebuild_seq)
WHERE rebuild_tx > 0;
UPDATE subscriptions
SET checkpoint_snapshot = format('%s:%s: toward %s:%s: after %s',
        checkpoint_tx, checkpoint_tx, checkpoint_tx + 1, checkpoint_tx + 1, checkpoint_seq)
WHERE checkpoint_tx > 0;

ALTER TABLE projection_versions DROP COLUMN checkpoint_tx, DROP COLUMN rebuild_tx;
ALTER TABLE subscriptions DROP COLUMN checkpoint_tx;
