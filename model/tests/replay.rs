//! The replay, as data: SQL in, the catalog it builds (and what a lenient session notes) out.
//! Each case is SQL of the kinds real migration histories write.
//!
//! Run `UPDATE_EXPECT=1 cargo test -p model --test replay` to refresh the expectations after an
//! intended change, then review the diff.

use std::fmt::Write as _;

use expect_test::{Expect, expect};
use model::Catalog;
use model::compare::{describe_foreign_key, describe_identity, describe_index, describe_sequence};
use model::replay::{Session, parse_script};

/// Replays `sql` in a lenient session (as the linter does) with `search_path` `public` and
/// renders the catalog and the notes.
fn check(sql: &str, expected: Expect) {
    check_with(&["public"], sql, expected);
}

fn check_with(search_path: &[&str], sql: &str, expected: Expect) {
    let mut catalog = Catalog::default();
    let mut session = Session::lenient(search_path.iter().map(|s| s.to_string()).collect());
    let mut out = String::new();
    for statement in parse_script(sql).expect("the case parses") {
        let result = session.apply(&mut catalog, &statement.node);
        let first_line = statement.text.lines().next().unwrap_or_default();
        if let Err(e) = result {
            let _ = writeln!(out, "error at `{first_line}`: {}", e.message);
        }
        for note in session.take_notes() {
            let line = note
                .at
                .map(|a| format!(" (body line {})", a.line))
                .unwrap_or_default();
            let _ = writeln!(out, "note at `{first_line}`{line}: {}", note.message);
        }
    }
    out.push_str(&render(&catalog));
    expected.assert_eq(&out);
}

/// The catalog as short lines: what each case is about, nothing that does not change.
fn render(c: &Catalog) -> String {
    let mut out = String::new();
    for s in &c.schemas {
        let _ = writeln!(out, "schema {}", s.name);
    }
    for e in &c.extensions {
        let _ = writeln!(out, "extension {} in {}", e.name, e.schema);
    }
    for e in &c.enums {
        let _ = writeln!(
            out,
            "enum {} ({})",
            e.qualified_name().display(),
            e.values.join(", ")
        );
    }
    for d in &c.domains {
        let nn = if d.nullable { "" } else { " NOT NULL" };
        let default = d
            .default
            .as_ref()
            .map(|x| format!(" DEFAULT {x}"))
            .unwrap_or_default();
        let checks: Vec<String> = d
            .checks
            .iter()
            .map(|k| format!(" CHECK {}", k.name))
            .collect();
        let _ = writeln!(
            out,
            "domain {} {}{nn}{default}{}",
            d.qualified_name().display(),
            d.base,
            checks.join("")
        );
    }
    for t in &c.composite_types {
        let attributes: Vec<String> = t
            .attributes
            .iter()
            .map(|a| format!("{} {}", a.name, a.data_type))
            .collect();
        let _ = writeln!(
            out,
            "type {}.{} ({})",
            t.schema,
            t.name,
            attributes.join(", ")
        );
    }
    for s in &c.sequences {
        let _ = writeln!(
            out,
            "sequence {} {}",
            s.qualified_name().display(),
            describe_sequence(s)
        );
    }
    for f in &c.functions {
        let body = if f.sql_standard_body {
            format!(" {}", f.body)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "function {}{} returns {}{body}",
            f.qualified_name().display(),
            f.signature_types(),
            f.returns
        );
    }
    for t in &c.tables {
        let mut head = format!("table {}", t.display_name());
        if let Some(p) = &t.partition_by {
            let _ = write!(
                head,
                " partition by {} ({})",
                p.strategy.as_sql(),
                p.keys.join(", ")
            );
        }
        if let Some(p) = &t.partition_of {
            let _ = write!(head, " partition of {} {}", p.parent.display(), p.bound);
        }
        if !t.inherits.is_empty() {
            let parents: Vec<String> = t
                .inherits
                .iter()
                .map(|p| p.display().into_owned())
                .collect();
            let _ = write!(head, " inherits {}", parents.join(", "));
        }
        let _ = writeln!(out, "{head}");
        for col in &t.columns {
            let mut line = format!("  {} {}", col.name, col.data_type);
            if !col.nullable {
                line.push_str(" NOT NULL");
            }
            if let Some(d) = &col.default {
                let _ = write!(line, " DEFAULT {d}");
            }
            if let Some(i) = &col.identity {
                let _ = write!(line, " {}", describe_identity(i));
            }
            if let Some(g) = &col.generated {
                let _ = write!(line, " GENERATED ({g})");
            }
            let _ = writeln!(out, "{line}");
        }
        if let Some(pk) = &t.primary_key {
            let _ = writeln!(out, "  pk {} ({})", pk.name, pk.columns.join(", "));
        }
        for u in &t.uniques {
            let _ = writeln!(out, "  unique {} ({})", u.name, u.columns.join(", "));
        }
        for k in &t.checks {
            let _ = writeln!(out, "  check {} ({})", k.name, k.expression);
        }
        for fk in &t.foreign_keys {
            let _ = writeln!(out, "  fk {} {}", fk.name, describe_foreign_key(fk));
        }
        for ix in &t.indexes {
            let _ = writeln!(out, "  index {} {}", ix.name, describe_index(ix));
        }
        for tr in &t.triggers {
            let _ = writeln!(out, "  trigger {} -> {}", tr.name, tr.function.display());
        }
    }
    for v in &c.views {
        let columns: Vec<String> = v
            .columns
            .iter()
            .map(|col| format!("{} {}", col.name, col.data_type))
            .collect();
        let kind = if v.materialized {
            "materialized view"
        } else {
            "view"
        };
        let _ = writeln!(
            out,
            "{kind} {} ({})",
            v.qualified_name().display(),
            columns.join(", ")
        );
        for ix in &v.indexes {
            let _ = writeln!(out, "  index {} {}", ix.name, describe_index(ix));
        }
    }
    out
}

#[test]
fn serial_expands_into_an_owned_sequence_and_a_default() {
    check(
        "CREATE TABLE t (id serial PRIMARY KEY, big bigserial, small smallserial);
         CREATE TABLE w_id_seq (x int);
         CREATE TABLE w (id serial);
         CREATE TABLE u (id serial);
         CREATE TABLE v (id int);
         CREATE TABLE v_id_seq (x int);
         ALTER TABLE v ADD COLUMN n serial;
         DROP TABLE u;",
        expect![[r#"
            sequence t_id_seq integer OWNED BY t.id
            sequence t_big_seq bigint OWNED BY t.big
            sequence t_small_seq smallint OWNED BY t.small
            sequence w_id_seq1 integer OWNED BY w.id
            sequence v_n_seq integer OWNED BY v.n
            table t
              id integer NOT NULL DEFAULT nextval('t_id_seq'::regclass)
              big bigint NOT NULL DEFAULT nextval('t_big_seq'::regclass)
              small smallint NOT NULL DEFAULT nextval('t_small_seq'::regclass)
              pk t_pkey (id)
            table w_id_seq
              x integer
            table w
              id integer NOT NULL DEFAULT nextval('w_id_seq1'::regclass)
            table v
              id integer
              n integer NOT NULL DEFAULT nextval('v_n_seq'::regclass)
            table v_id_seq
              x integer
        "#]],
    );
}

#[test]
fn identity_and_generated_columns() {
    check(
        "CREATE TABLE t (
             id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             n int GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 5 CYCLE),
             a numeric, b numeric,
             total numeric GENERATED ALWAYS AS (a + b) STORED
         );
         ALTER TABLE t ALTER COLUMN n SET INCREMENT BY 2 SET NO CYCLE;
         ALTER TABLE t ALTER COLUMN id SET GENERATED BY DEFAULT;
         ALTER TABLE t ADD COLUMN m int NOT NULL;
         ALTER TABLE t ALTER COLUMN m ADD GENERATED ALWAYS AS IDENTITY;
         ALTER TABLE t ALTER COLUMN n DROP IDENTITY;
         ALTER TABLE t ALTER COLUMN n DROP IDENTITY IF EXISTS;
         ALTER TABLE t ALTER COLUMN total DROP EXPRESSION;",
        expect![[r#"
            table t
              id bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY
              n integer NOT NULL
              a numeric
              b numeric
              total numeric
              m integer NOT NULL GENERATED ALWAYS AS IDENTITY
              pk t_pkey (id)
        "#]],
    );
}

#[test]
fn sequences_with_options_and_owners() {
    check(
        "CREATE SEQUENCE s AS integer START 100 INCREMENT BY 10 MINVALUE 5 NO MAXVALUE CACHE 20 CYCLE;
         CREATE TABLE t (id int DEFAULT nextval('s'));
         ALTER SEQUENCE s OWNED BY t.id;
         ALTER SEQUENCE s RESTART WITH 7 NO CYCLE;
         CREATE SEQUENCE IF NOT EXISTS s;
         ALTER SEQUENCE s RENAME TO s2;
         SELECT setval('s2', 42, false);
         CREATE SEQUENCE gone;
         DROP SEQUENCE gone, s_missing;
         CREATE TABLE o (id int);
         CREATE SEQUENCE o_seq OWNED BY o.id;
         ALTER TABLE o DROP COLUMN id;",
        expect![[r#"
            note at `DROP SEQUENCE gone, s_missing`: sequence "s_missing" does not exist
            sequence s2 integer START WITH 100 INCREMENT BY 10 MINVALUE 5 CACHE 20 OWNED BY t.id
            table t
              id integer DEFAULT nextval('s2')
            table o
        "#]],
    );
}

#[test]
fn schemas_qualified_names_and_search_path() {
    check(
        "CREATE SCHEMA storage;
         CREATE TABLE storage.buckets (id text PRIMARY KEY);
         CREATE TABLE \"storage\".\"objects\" (id uuid PRIMARY KEY, bucket_id text REFERENCES storage.buckets);
         CREATE TABLE buckets (id int PRIMARY KEY);
         SET search_path TO storage, public;
         CREATE TABLE uploads (id text PRIMARY KEY, bucket_id text REFERENCES buckets);
         CREATE INDEX ON objects (bucket_id);
         SET search_path = public;
         CREATE TABLE refs (o uuid REFERENCES storage.objects, b int REFERENCES buckets);
         SELECT pg_catalog.set_config('search_path', 'storage', false);
         ALTER TABLE uploads ADD COLUMN note text;
         RESET search_path;
         CREATE SCHEMA billing CREATE TABLE plans (id int PRIMARY KEY) CREATE TABLE subs (plan_id int REFERENCES plans);
         ALTER TABLE storage.uploads SET SCHEMA billing;
         ALTER SCHEMA billing RENAME TO money;",
        expect![[r#"
            schema storage
            schema money
            table storage.buckets
              id text NOT NULL
              pk buckets_pkey (id)
            table storage.objects
              id uuid NOT NULL
              bucket_id text
              pk objects_pkey (id)
              fk objects_bucket_id_fkey (bucket_id) REFERENCES storage.buckets (id)
              index objects_bucket_id_idx btree (bucket_id)
            table buckets
              id integer NOT NULL
              pk buckets_pkey (id)
            table money.uploads
              id text NOT NULL
              bucket_id text
              note text
              pk uploads_pkey (id)
              fk uploads_bucket_id_fkey (bucket_id) REFERENCES storage.buckets (id)
            table refs
              o uuid
              b integer
              fk refs_o_fkey (o) REFERENCES storage.objects (id)
              fk refs_b_fkey (b) REFERENCES buckets (id)
            table money.plans
              id integer NOT NULL
              pk plans_pkey (id)
            table money.subs
              plan_id integer
              fk subs_plan_id_fkey (plan_id) REFERENCES money.plans (id)
        "#]],
    );
}

#[test]
fn a_runner_search_path_places_unqualified_names() {
    check_with(
        &["app", "public"],
        "CREATE TABLE items (id int PRIMARY KEY);
         CREATE TABLE public.tags (id int PRIMARY KEY, item_id int REFERENCES items);",
        expect![[r#"
            table app.items
              id integer NOT NULL
              pk items_pkey (id)
            table tags
              id integer NOT NULL
              item_id integer
              pk tags_pkey (id)
              fk tags_item_id_fkey (item_id) REFERENCES app.items (id)
        "#]],
    );
}

#[test]
fn derived_relations_take_their_columns_from_the_query() {
    check(
        "CREATE TABLE events (id uuid PRIMARY KEY, kind text, payload jsonb, at timestamptz);
         CREATE TABLE copy AS SELECT id, payload AS body, at::date AS day, 1 AS one, 'x' AS label, now(), count(*) FROM events GROUP BY id;
         SELECT e.*, 2.5 AS score INTO TEMP scratch FROM events e;
         CREATE VIEW v (event, what) AS SELECT id, kind FROM events;
         CREATE MATERIALIZED VIEW mv AS SELECT kind, payload -> 'a' AS a, payload ->> 'b' AS b FROM events WITH NO DATA;
         CREATE UNIQUE INDEX ON mv (kind);
         CREATE OR REPLACE VIEW v AS SELECT id, kind, at FROM events;
         CREATE TABLE t2 AS WITH x AS (SELECT id FROM events) SELECT * FROM x;
         DROP TABLE scratch;",
        expect![[r#"
            table events
              id uuid NOT NULL
              kind text
              payload jsonb
              at timestamptz
              pk events_pkey (id)
            table copy
              id uuid
              body jsonb
              day date
              one integer
              label text
              now timestamptz
              count bigint
            table t2
              id uuid
            view v (id uuid, kind text, at timestamptz)
            materialized view mv (kind text, a jsonb, b text)
              index mv_kind_idx unique btree (kind)
        "#]],
    );
}

#[test]
fn dropping_a_table_with_cascade_drops_the_views_that_read_it() {
    check(
        "CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
         CREATE VIEW va AS SELECT id FROM a;
         CREATE VIEW vva AS SELECT * FROM va;
         CREATE VIEW vb AS SELECT id FROM b;
         DROP TABLE a CASCADE;",
        expect![[r#"
            table b
              id integer NOT NULL
              a_id integer
              pk b_pkey (id)
            view vb (id integer)
        "#]],
    );
}

#[test]
fn partitions_and_inheritance() {
    check(
        "CREATE TABLE m (tenant bigint NOT NULL, at timestamptz NOT NULL, r jsonb, PRIMARY KEY (tenant, at)) PARTITION BY RANGE (at);
         CREATE TABLE m1 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
         CREATE TABLE l (id int, k int) PARTITION BY LIST (k);
         CREATE TABLE l1 PARTITION OF l FOR VALUES IN (1, 2);
         CREATE TABLE ld (id int, k int);
         ALTER TABLE l ATTACH PARTITION ld DEFAULT;
         CREATE TABLE h (id int) PARTITION BY HASH (id);
         CREATE TABLE h0 PARTITION OF h FOR VALUES WITH (MODULUS 2, REMAINDER 0);
         ALTER TABLE l ADD COLUMN extra jsonb;
         ALTER TABLE l DETACH PARTITION l1;
         CREATE TABLE base (id int PRIMARY KEY, a text, CHECK (id > 0));
         CREATE TABLE child (b text) INHERITS (base);
         ALTER TABLE base ADD COLUMN c int;
         ALTER TABLE ONLY base ADD COLUMN d int;
         CREATE TABLE lk (LIKE base INCLUDING ALL, e int);
         DROP TABLE h;",
        expect![[r#"
            table m partition by RANGE (at)
              tenant bigint NOT NULL
              at timestamptz NOT NULL
              r jsonb
              pk m_pkey (tenant, at)
            table m1 partition of m FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')
              tenant bigint NOT NULL
              at timestamptz NOT NULL
              r jsonb
            table l partition by LIST (k)
              id integer
              k integer
              extra jsonb
            table l1
              id integer
              k integer
              extra jsonb
            table ld partition of l DEFAULT
              id integer
              k integer
              extra jsonb
            table base
              id integer NOT NULL
              a text
              c integer
              d integer
              pk base_pkey (id)
              check base_id_check (id > 0)
            table child inherits base
              id integer NOT NULL
              a text
              b text
              c integer
              check base_id_check (id > 0)
            table lk
              id integer NOT NULL
              a text
              c integer
              d integer
              e integer
              pk lk_pkey (id)
              check base_id_check (id > 0)
        "#]],
    );
}

#[test]
fn domains_composite_enum_and_extension_types() {
    check(
        "CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
         CREATE EXTENSION hstore;
         CREATE DOMAIN doc AS jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(VALUE) = 'object');
         CREATE DOMAIN email AS citext;
         CREATE TYPE addr AS (street text, city text);
         CREATE TYPE mood AS ENUM ('ok');
         CREATE SCHEMA ext;
         CREATE TYPE ext.level AS ENUM ('low', 'high');
         CREATE TABLE p (a doc, b email, c addr, d mood[], e hstore, f tstzrange, g ext.level, h public.citext, i ext.unknown_type, j geometry(Point, 4326), k \"char\");
         ALTER TYPE addr ADD ATTRIBUTE zip text;
         ALTER TYPE addr RENAME ATTRIBUTE city TO town;
         ALTER DOMAIN doc DROP NOT NULL;
         ALTER DOMAIN doc ADD CONSTRAINT small CHECK (length(VALUE::text) < 100);
         ALTER TYPE mood RENAME TO feeling;
         ALTER TYPE ext.level ADD VALUE 'mid' BEFORE 'high';
         DROP TYPE addr CASCADE;",
        expect![[r#"
            schema ext
            extension citext in public
            extension hstore in public
            enum feeling (ok)
            enum ext.level (low, mid, high)
            domain doc jsonb DEFAULT '{}' CHECK doc_check CHECK small
            domain email citext
            table p
              a doc
              b email
              d feeling[]
              e hstore
              f tstzrange
              g ext.level
              h citext
              i ext.unknown_type
              j geometry(point,4326)
              k "char"
        "#]],
    );
}

#[test]
fn do_blocks_replay_the_sql_they_run() {
    check(
        "DO $$
         BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'state') THEN
                 CREATE TYPE state AS ENUM ('a');
             END IF;
             IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'state') THEN
                 CREATE TYPE never AS ENUM ('x');
             ELSIF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'nope') THEN
                 CREATE TYPE never2 AS ENUM ('x');
             ELSE
                 ALTER TYPE state ADD VALUE 'b';
             END IF;
             CREATE TABLE jobs (id int PRIMARY KEY, s state);
             EXECUTE 'CREATE TABLE runs (id int PRIMARY KEY, job int REFERENCES jobs)';
             EXECUTE 'CREATE INDEX ' || 'runs_job_idx ON runs (job)';
             EXECUTE format('ALTER TABLE %I ADD COLUMN %I jsonb', 'jobs', 'spec');
             IF NOT EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'spec') THEN
                 ALTER TABLE jobs ADD COLUMN never_added int;
             END IF;
             IF to_regclass('jobs_spec_idx') IS NULL THEN
                 CREATE INDEX jobs_spec_idx ON jobs USING gin (spec);
             END IF;
             BEGIN
                 CREATE TABLE undone (id int);
                 CREATE TABLE jobs (id int);
             EXCEPTION WHEN duplicate_table THEN NULL;
             END;
             BEGIN
                 CREATE TABLE kept (id int);
             EXCEPTION WHEN others THEN NULL;
             END;
             EXECUTE 'GRANT SELECT ON jobs TO ' || quote_ident(current_user);
             EXECUTE format('CREATE TABLE %I (id int)', some_variable);
             EXECUTE dynamic_sql;
             FOR i IN 1..3 LOOP
                 PERFORM 1;
             END LOOP;
         END
         $$;
         DO LANGUAGE plpgsql $body$ BEGIN RAISE NOTICE 'nothing'; END $body$;",
        expect![[r#"
            note at `DO $$` (body line 33): EXECUTE of SQL computed at run time is not replayed: format('CREATE TABLE %I (id int)', some_variable)
            note at `DO $$` (body line 34): EXECUTE of SQL computed at run time is not replayed: dynamic_sql
            enum state (a, b)
            table jobs
              id integer NOT NULL
              s state
              spec jsonb
              pk jobs_pkey (id)
              index jobs_spec_idx gin (spec)
            table runs
              id integer NOT NULL
              job integer
              pk runs_pkey (id)
              fk runs_job_fkey (job) REFERENCES jobs (id)
              index runs_job_idx btree (job)
            table kept
              id integer
        "#]],
    );
}

#[test]
fn unnamed_objects_get_postgresqls_names() {
    check(
        "CREATE TABLE t (a int, b int, c text, CHECK (a > 0), CHECK (a > b), UNIQUE (a, b), FOREIGN KEY (b) REFERENCES t (a));
         CREATE INDEX ON t (a);
         CREATE INDEX ON t (a) WHERE b > 0;
         CREATE INDEX ON t (lower(c));
         CREATE INDEX ON t ((a + b), lower(c), upper(c)) INCLUDE (b);
         CREATE UNIQUE INDEX ON t (b);
         ALTER TABLE t ADD PRIMARY KEY (a);
         ALTER TABLE t ADD CHECK (c <> '');
         ALTER TABLE t ADD UNIQUE (c);
         CREATE TABLE appointment_reminder_delivery_attempts_2026 (appointment_reminder_delivery_channel_id int);
         CREATE INDEX ON appointment_reminder_delivery_attempts_2026 (appointment_reminder_delivery_channel_id);",
        expect![[r#"
            table t
              a integer NOT NULL
              b integer
              c text
              pk t_pkey (a)
              unique t_a_b_key (a, b)
              unique t_c_key (c)
              check t_a_check (a > 0)
              check t_check (a > b)
              check t_c_check (c <> '')
              fk t_b_fkey (b) REFERENCES t (a)
              index t_a_idx btree (a)
              index t_a_idx1 btree (a) WHERE b > 0
              index t_lower_idx btree ((lower(c)))
              index t_expr_lower_upper_b_idx btree ((a + b), (lower(c)), (upper(c))) INCLUDE (b)
              index t_b_idx unique btree (b)
            table appointment_reminder_delivery_attempts_2026
              appointment_reminder_delivery_channel_id integer
              index appointment_reminder_delivery_appointment_reminder_delivery_idx btree (appointment_reminder_delivery_channel_id)
        "#]],
    );
}

#[test]
fn a_statement_applies_to_the_objects_it_can() {
    check(
        "CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
         CREATE TABLE c (id int PRIMARY KEY);
         DROP TABLE unknown_one, b, c;
         CREATE TABLE d (x int REFERENCES not_created (id), y int REFERENCES a);
         ALTER TABLE d ADD COLUMN z int, ALTER COLUMN missing SET NOT NULL, ADD COLUMN w int;
         ALTER TABLE nowhere ADD COLUMN q int;
         CREATE TABLE a (id int);
         CREATE INDEX ON d (nope);",
        expect![[r#"
            note at `DROP TABLE unknown_one, b, c`: table "unknown_one" does not exist
            note at `CREATE TABLE d (x int REFERENCES not_created (id), y int REFERENCES a)`: relation "not_created" does not exist; the foreign key is kept
            note at `ALTER TABLE d ADD COLUMN z int, ALTER COLUMN missing SET NOT NULL, ADD COLUMN w int`: column "missing" of relation "d" does not exist
            error at `ALTER TABLE nowhere ADD COLUMN q int`: relation "nowhere" does not exist
            note at `CREATE TABLE a (id int)`: relation "a" already exists; the earlier one is replaced by this one
            note at `CREATE INDEX ON d (nope)`: column "nope" of relation "d" does not exist
            table d
              x integer
              y integer
              z integer
              w integer
              fk d_x_fkey (x) REFERENCES not_created (id)
              fk d_y_fkey (y) REFERENCES a (id)
              index d_nope_idx btree (nope)
            table a
              id integer
        "#]],
    );
}

#[test]
fn renames_follow_every_reference() {
    check(
        "CREATE TABLE a (id int PRIMARY KEY, code text UNIQUE);
         CREATE TABLE b (id serial PRIMARY KEY, a_id int REFERENCES a, CHECK (a_id > 0));
         CREATE INDEX b_a_idx ON b (a_id);
         CREATE INDEX b_expr_idx ON b ((a_id + 1));
         ALTER TABLE a RENAME TO a2;
         ALTER TABLE a2 RENAME COLUMN id TO key;
         ALTER TABLE b RENAME COLUMN a_id TO parent;
         ALTER INDEX b_a_idx RENAME TO b_parent_idx;
         ALTER INDEX a_code_key RENAME TO a2_code_key;
         ALTER TABLE b RENAME CONSTRAINT b_a_id_fkey TO b_parent_fkey;
         ALTER SEQUENCE b_id_seq RENAME TO b_key_seq;
         CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
         CREATE FUNCTION f(x text) RETURNS int LANGUAGE sql AS 'SELECT 1';
         ALTER FUNCTION f(text) RENAME TO g;
         DROP FUNCTION f;",
        expect![[r#"
            sequence b_key_seq integer OWNED BY b.id
            function g(text) returns integer
            table a2
              key integer NOT NULL
              code text
              pk a_pkey (key)
              unique a2_code_key (code)
            table b
              id integer NOT NULL DEFAULT nextval('b_key_seq'::regclass)
              parent integer
              pk b_pkey (id)
              check b_a_id_check (parent > 0)
              fk b_parent_fkey (parent) REFERENCES a2 (key)
              index b_parent_idx btree (parent)
              index b_expr_idx btree ((parent + 1))
        "#]],
    );
}

#[test]
fn sql_standard_bodies_and_index_key_collations() {
    check(
        "CREATE FUNCTION twice(n int) RETURNS int IMMUTABLE LANGUAGE sql RETURN n*2;
         CREATE FUNCTION label_of(v text) RETURNS text LANGUAGE sql
         BEGIN ATOMIC
             SELECT upper(v);
             SELECT lower(v);
         END;
         CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql RETURN n + n;
         CREATE OR REPLACE FUNCTION twice(n int) RETURNS int LANGUAGE sql RETURN n + n;
         CREATE TABLE words (
             id   int PRIMARY KEY,
             word text NOT NULL,
             n    int GENERATED ALWAYS AS (twice(id)) STORED
         );
         CREATE INDEX words_word_c_idx ON words (word COLLATE \"C\" text_pattern_ops DESC, id);
         CREATE INDEX words_word_default_idx ON words (word COLLATE \"default\");",
        expect![[r#"
            error at `CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql RETURN n + n`: function "twice" already exists with the same argument types
            function twice(integer) returns integer RETURN n + n
            function label_of(text) returns text BEGIN ATOMIC SELECT upper(v); SELECT lower(v); END
            table words
              id integer NOT NULL
              word text NOT NULL
              n integer GENERATED (twice(id))
              pk words_pkey (id)
              index words_word_c_idx btree (word COLLATE "C" text_pattern_ops DESC, id)
              index words_word_default_idx btree (word)
        "#]],
    );
}
