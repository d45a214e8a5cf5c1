-- Diesel runs this one in a transaction: the CONCURRENTLY below fails at deploy time.
ALTER TABLE patients ADD COLUMN referred_by text;
CREATE INDEX CONCURRENTLY patients_referred_by_idx ON patients (referred_by);
