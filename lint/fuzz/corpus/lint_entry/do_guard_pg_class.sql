DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'job_s' AND n.nspname = 'public') THEN
    CREATE INDEX job_s ON job (s);
  ELSE
    DROP INDEX job_s;
  END IF;
END
$$ LANGUAGE plpgsql;