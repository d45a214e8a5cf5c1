-- migrate:up
ALTER TABLE appointments ADD COLUMN room text;
ALTER TABLE appointments ADD COLUMN confirmed boolean NOT NULL;

-- migrate:down
-- Dropping the column would be flagged if this section were linted.
ALTER TABLE appointments DROP COLUMN room;
ALTER TABLE appointments DROP COLUMN confirmed;
