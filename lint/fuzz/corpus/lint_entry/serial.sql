CREATE TABLE t (id serial PRIMARY KEY, n bigserial, s smallserial);
ALTER TABLE t ALTER COLUMN n DROP DEFAULT;
DROP SEQUENCE t_n_seq;