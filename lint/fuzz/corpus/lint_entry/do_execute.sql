DO $$
DECLARE v text := 'tenant_a'; r record;
BEGIN
  EXECUTE 'CREATE TABLE e1 (id int)';
  EXECUTE 'CREATE SCHEMA ' || v;
  EXECUTE format('CREATE TABLE %I.t (id int, j jsonb)', v);
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v, current_user);
  FOR r IN SELECT tablename FROM pg_tables LOOP
    EXECUTE 'ALTER TABLE ' || quote_ident(r.tablename) || ' OWNER TO app';
  END LOOP;
END $$;