-- Two statements sent as one query: PostgreSQL runs them in one implicit transaction block.
ALTER TABLE rooms ADD COLUMN wing text;
CREATE INDEX CONCURRENTLY rooms_label_idx ON rooms (label);
