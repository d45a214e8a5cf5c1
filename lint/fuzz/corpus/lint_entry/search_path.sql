CREATE SCHEMA s1;
SET search_path TO s1, public;
CREATE TABLE t (id int);
SET LOCAL search_path = public;
CREATE TABLE t (id int);
RESET search_path;
SELECT pg_catalog.set_config('search_path', 's1', false);
ALTER TABLE t ADD COLUMN j jsonb;