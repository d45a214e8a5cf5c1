DO $do$
BEGIN
    IF to_regclass('job_runs_job_id_idx') IS NULL THEN
        CREATE INDEX job_runs_job_id_idx ON job_runs (job_id);
    END IF;
    EXECUTE format('CREATE INDEX %I ON %I USING gin (%I)', 'jobs_spec_idx', 'jobs', 'spec');
    BEGIN
        ALTER TABLE jobs ADD CONSTRAINT jobs_owner_fk FOREIGN KEY (owner_id) REFERENCES jobs (id);
    EXCEPTION WHEN duplicate_object THEN
        NULL;
    END;
    IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'job_runs_output_idx') THEN
        EXECUTE 'CREATE INDEX job_runs_output_idx ON job_runs USING gin (output)';
    END IF;
END
$do$;
