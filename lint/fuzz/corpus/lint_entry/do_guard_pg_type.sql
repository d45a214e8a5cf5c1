DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'status') THEN
    CREATE TYPE status AS ENUM ('new', 'done');
  END IF;
END $$;
CREATE TABLE job (id int PRIMARY KEY, s status);