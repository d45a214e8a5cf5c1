-- codegen:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS chairs_clinic_id_idx ON chairs (clinic_id);
