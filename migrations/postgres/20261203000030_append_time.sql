-- When an event came into this store, where that differs from when it was recorded: an
-- imported or seeded event keeps its original `recorded_at`, so a projection's lag counted
-- from it would read as the event's age ("29d behind" right after a backfill). NULL, as for
-- every event appended by a command, means "appended when recorded": the append path writes
-- nothing more, and events from before this migration read as before.
ALTER TABLE events ADD COLUMN appended_at TIMESTAMPTZ;
