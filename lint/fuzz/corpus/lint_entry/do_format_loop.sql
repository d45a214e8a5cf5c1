DO LANGUAGE plpgsql $$
DECLARE t text; s text := 'public';
BEGIN
  FOREACH t IN ARRAY ARRAY['a', 'b'] LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I (id uuid PRIMARY KEY, doc jsonb)', s, t);
    EXECUTE format('CREATE INDEX ON %s USING gin (doc)', quote_ident(t));
  END LOOP;
  EXECUTE 'DROP TABLE ' || 'a';
  IF current_setting('server_version_num')::int >= 110000 THEN
    EXECUTE 'SET search_path = ' || s;
  END IF;
END $$;