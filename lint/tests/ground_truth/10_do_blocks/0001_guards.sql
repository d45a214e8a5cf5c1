-- DDL that runs at migration time inside DO blocks, as tools and hand-written migrations do it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'job_state') THEN
        CREATE TYPE job_state AS ENUM ('queued', 'done');
    END IF;
END
$$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'job_state') THEN
        CREATE TYPE job_state AS ENUM ('never');
    ELSE
        ALTER TYPE job_state ADD VALUE IF NOT EXISTS 'failed';
    END IF;
END
$$;
DO $$
BEGIN
    CREATE TABLE IF NOT EXISTS jobs (id uuid PRIMARY KEY, state job_state NOT NULL, spec jsonb);
    EXECUTE 'CREATE TABLE job_runs (id uuid PRIMARY KEY, job_id uuid REFERENCES jobs, output jsonb)';
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'jobs' AND column_name = 'owner_id'
    ) THEN
        ALTER TABLE jobs ADD COLUMN owner_id uuid;
    END IF;
END
$$;
