-- The backstop for cutover: at most one live version per projection.
CREATE UNIQUE INDEX projection_versions_one_live ON projection_versions (name) WHERE state = 'live';
