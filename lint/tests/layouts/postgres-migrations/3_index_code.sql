-- postgres-migrations disable-transaction
CREATE INDEX CONCURRENTLY treatments_code_idx ON treatments (code);
