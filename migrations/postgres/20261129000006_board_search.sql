-- Trigram indexes for the board's search tables (see projections/board.rs). pg_trgm is a
-- trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
