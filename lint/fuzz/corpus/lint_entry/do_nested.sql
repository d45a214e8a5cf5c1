DO $outer$
BEGIN
  BEGIN
    CREATE TYPE kind AS ENUM ('a');
  EXCEPTION WHEN duplicate_object THEN
    NULL;
  END;
  DECLARE n int;
  BEGIN
    SELECT count(*) INTO n FROM pg_class;
    PERFORM 1;
  EXCEPTION WHEN others THEN RAISE NOTICE '%', SQLERRM;
  END;
END $outer$;