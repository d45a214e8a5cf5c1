CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    parameters jsonb NOT NULL DEFAULT '{}',
    result jsonb,
    log jsonb,
    trace jsonb,
    notes json,
    tags text[]
);
CREATE INDEX jobs_parameters_gin_idx ON jobs USING gin (parameters jsonb_path_ops);
-- A btree on a jsonb column is not a GIN index.
CREATE INDEX jobs_result_idx ON jobs (result);
-- A partial GIN index has the column as a key column.
CREATE INDEX jobs_log_gin_idx ON jobs USING gin (log) WHERE log IS NOT NULL;
CREATE INDEX jobs_tags_gin_idx ON jobs USING gin (tags);
