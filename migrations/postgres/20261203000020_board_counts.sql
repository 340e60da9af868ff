-- Shipments per status on each board table (projections/board_counts.rs), kept by the
-- projection batch that changes them, in its transaction: the board's "N shipments" is read
-- here instead of counting the whole table on every request.
CREATE TABLE board_counts (
    board_table TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    shipments   BIGINT NOT NULL,
    -- Grows by one whenever a shipment enters or leaves this status. While it is unchanged,
    -- the set of shipments in the status is unchanged, so a count over them (a search's
    -- matches) remembered with it is still exact.
    changes     BIGINT NOT NULL,
    PRIMARY KEY (board_table, status)
);
