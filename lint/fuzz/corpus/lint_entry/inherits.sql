CREATE TABLE base (id int PRIMARY KEY, meta jsonb);
CREATE TABLE child (extra text) INHERITS (base);
ALTER TABLE child NO INHERIT base;
ALTER TABLE child INHERIT base;
ALTER TABLE base ADD COLUMN c int;
DROP TABLE base CASCADE;