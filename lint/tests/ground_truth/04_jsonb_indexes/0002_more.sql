-- codegen:no-transaction
CREATE INDEX CONCURRENTLY jobs_result_gin_idx ON jobs USING gin (result);
DROP INDEX CONCURRENTLY jobs_log_gin_idx;
ALTER TABLE jobs RENAME COLUMN trace TO debug_trace;
CREATE TABLE "Job Runs" (id uuid PRIMARY KEY, "Output" jsonb, extra jsonb);
CREATE INDEX ON "Job Runs" USING gin ("Output");
