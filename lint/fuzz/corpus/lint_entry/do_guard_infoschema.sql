CREATE TABLE w (id int);
DO $$ BEGIN
IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'w' AND column_name = 'x') THEN
  ALTER TABLE w ADD COLUMN x jsonb;
END IF;
IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'old') THEN
  DROP TABLE old;
END IF;
END $$;