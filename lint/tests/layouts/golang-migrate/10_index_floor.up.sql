-- Alone in its file: golang-migrate sends it as a query of one statement, outside any
-- transaction block. It needs migration 2's column: 10 runs after 2, not between 1 and 2.
CREATE INDEX CONCURRENTLY rooms_floor_idx ON rooms (floor);
