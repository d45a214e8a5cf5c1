-- codegen:no-transaction
CREATE INDEX CONCURRENTLY files_case_id_idx ON files (case_id);
-- INCLUDE columns are not key columns.
CREATE INDEX CONCURRENTLY files_case_uploaded_idx ON files (case_id) INCLUDE (uploaded_by);
