-- One name of several is unknown: the others are still dropped.
DROP TABLE IF EXISTS nope, c;
ALTER TABLE b RENAME TO b2;
ALTER TABLE b2 RENAME COLUMN a_id TO parent_id;
CREATE INDEX ON b2 (parent_id, (data ->> 'kind'));
ALTER INDEX b_pkey RENAME TO b2_pkey;
CREATE TABLE e (id int PRIMARY KEY, b2_id int, CONSTRAINT e_b2 CHECK (b2_id > 0));
ALTER TABLE e ADD FOREIGN KEY (b2_id) REFERENCES b2 (id);
