-- codegen:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS chairs_clinic_id_idx;
