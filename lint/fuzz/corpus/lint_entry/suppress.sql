-- lint:ignore-file uuid-primary-key -- legacy
CREATE TABLE s (id int PRIMARY KEY);
-- lint:ignore drop-column -- intended
ALTER TABLE s DROP COLUMN id;
-- lint:ignore nonexistent-rule
DROP TABLE s;