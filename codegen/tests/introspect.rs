//! `codegen introspect` round trips on a real PostgreSQL 15: database -> introspect -> schema.yaml
//! -> load -> first migration -> a second database -> introspect gives the same catalog, for the
//! project's seven tables and for a schema using what they do not (composite keys, a cycle,
//! partial, covering, hash, BRIN and jsonb_path_ops GIN indexes, opclasses, enum arrays).

mod common;

use std::path::Path;
use std::process::Output;

use model::compare::compare;
use model::{Catalog, DataType};
use postgres::Client;

use common::text;
use e2e::schema::repo_root;

fn apply(client: &mut Client, sql: &str) {
    let mut tx = client.transaction().expect("begin");
    if let Err(e) = tx.batch_execute(sql) {
        panic!("SQL failed: {e:?}\n{sql}");
    }
    tx.commit().expect("commit");
}

/// `codegen` run in `dir`, without `DATABASE_URL`.
fn codegen(dir: &Path, args: &[&str]) -> Output {
    common::codegen(dir, args, None)
}

/// Builds the database from `yaml` the way `codegen` would (first migration of the loaded
/// catalog) and introspects it.
fn rebuild(hint: &str, yaml: &str) -> Catalog {
    let loaded =
        model::load_schema("introspected.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let migration = codegen::migration::initial(&loaded);
    let db = e2e::pg::cluster().create_database(hint);
    let mut client = db.connect();
    apply(&mut client, &migration.up);
    introspect::introspect(&mut client, "public").expect("introspect the rebuilt database")
}

#[test]
fn the_seven_tables_round_trip_through_the_cli() {
    let db = e2e::pg::cluster().create_database("introspect_seven");
    e2e::migrations::apply_all(&mut db.connect());
    let first = introspect::introspect(&mut db.connect(), "public").expect("introspect");

    let dir = std::env::temp_dir().join(format!("codegen-introspect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let output = codegen(
        &dir,
        &[
            "introspect",
            "--database-url",
            &db.url(),
            "--out",
            "schema.yaml",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    // Nothing to warn about: the database is exactly what schema.yaml describes.
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "wrote schema.yaml",
        "{}",
        text(&output)
    );
    let yaml = std::fs::read_to_string(dir.join("schema.yaml")).expect("written");
    for flag in ["timestamps: true", "soft_delete: true"] {
        assert!(yaml.contains(flag), "{yaml}");
    }
    assert!(yaml.contains("name: \"jobs_queue_idx\""), "{yaml}");

    // The file loads, describes what the project's schema.yaml describes, and builds a database
    // that introspects into the first one's catalog exactly.
    let loaded = model::load_schema("schema.yaml", &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let project = std::fs::read_to_string(repo_root().join("schema.yaml")).expect("schema.yaml");
    let project = model::load_schema("schema.yaml", &project).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(compare(&project, &loaded), Vec::new());
    assert_eq!(compare(&first, &loaded), Vec::new());
    let second = rebuild("introspect_seven_again", &yaml);
    assert_eq!(compare(&first, &second), Vec::new());
    assert_eq!(first.normalized(), second.normalized());

    // Without --out the file goes to standard output, byte for byte the same.
    let stdout = codegen(&dir, &["introspect", "--database-url", &db.url()]);
    assert!(stdout.status.success(), "{}", text(&stdout));
    assert_eq!(String::from_utf8_lossy(&stdout.stdout), yaml);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the seven tables do not exercise. Written as plain SQL, not by codegen.
const CUSTOM_SCHEMA: &str = r##"
CREATE TYPE shape AS ENUM ('circle', 'square', 'it''s "odd": #1');
CREATE TYPE urgency AS ENUM ('low', 'high');
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TABLE regions (
    country         text NOT NULL,
    code            text NOT NULL,
    name            text NOT NULL,
    parent_country  text,
    parent_code     text,
    capital_city_id uuid,
    deleted_at      timestamptz,
    CONSTRAINT regions_pkey PRIMARY KEY (country, code)
);
CREATE TABLE cities (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    country      text NOT NULL,
    region_code  text NOT NULL,
    name         varchar(120) NOT NULL,
    population   bigint NOT NULL DEFAULT 0 CHECK (population >= 0),
    shapes       shape[] NOT NULL DEFAULT '{}',
    urgency      urgency NOT NULL DEFAULT 'low',
    attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
    geometry     jsonb,
    founded      date,
    rating       numeric(3,1),
    twin_city_id uuid REFERENCES cities (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cities_rating_range_check CHECK (rating BETWEEN 0 AND 10),
    CONSTRAINT cities_region_fkey FOREIGN KEY (country, region_code)
        REFERENCES regions (country, code) ON UPDATE CASCADE ON DELETE RESTRICT,
    CONSTRAINT cities_country_name_key UNIQUE (country, name)
);
-- A composite self-reference and a cycle between the two tables.
ALTER TABLE regions ADD CONSTRAINT regions_parent_fkey FOREIGN KEY (parent_country, parent_code)
    REFERENCES regions (country, code);
ALTER TABLE regions ADD CONSTRAINT regions_capital_city_id_fkey FOREIGN KEY (capital_city_id)
    REFERENCES cities (id) ON DELETE SET NULL;
CREATE INDEX regions_parent_idx ON regions (parent_country, parent_code);
CREATE INDEX regions_capital_city_id_idx ON regions (capital_city_id);
CREATE INDEX cities_twin_city_id_idx ON cities (twin_city_id);
CREATE INDEX cities_region_idx ON cities (country, region_code);
CREATE INDEX cities_attributes_idx ON cities USING gin (attributes jsonb_path_ops);
CREATE INDEX cities_geometry_idx ON cities USING gin (geometry);
CREATE INDEX cities_shapes_idx ON cities USING gin (shapes);
CREATE INDEX cities_big_idx ON cities (population DESC) INCLUDE (name)
    WHERE population > 1000000 AND urgency IN ('high');
CREATE UNIQUE INDEX cities_founded_name_uidx ON cities (country, name) WHERE founded IS NOT NULL;
CREATE INDEX cities_name_pattern_idx ON cities (name varchar_pattern_ops);
CREATE INDEX cities_founded_idx ON cities USING brin (founded);
CREATE INDEX cities_name_hash_idx ON cities USING hash (name);
CREATE TRIGGER cities_set_updated_at BEFORE UPDATE ON cities
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TABLE regions IS 'Administrative regions: "quoted", #hash. [soft_delete]';
COMMENT ON COLUMN regions.deleted_at IS 'When the row was soft-deleted; NULL while it is live.';
COMMENT ON COLUMN cities.name IS E'Official name.\nSecond line. [pii]';
COMMENT ON COLUMN cities.founded IS '[phi]';
COMMENT ON COLUMN cities.created_at IS 'When the row was created.';
COMMENT ON COLUMN cities.updated_at IS 'When the row was last changed; kept current by a trigger.';
"##;

#[test]
fn a_schema_with_composite_keys_a_cycle_and_every_index_kind_round_trips() {
    let db = e2e::pg::cluster().create_database("introspect_custom");
    let mut client = db.connect();
    apply(&mut client, CUSTOM_SCHEMA);
    let introspection =
        introspect::introspect_with_notes(&mut client, "public").expect("introspect");
    assert_eq!(introspection.notes, Vec::<String>::new());
    let first = introspection.catalog;

    let cities = first.table("cities").expect("cities");
    let index = |name: &str| {
        cities
            .indexes
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", cities.indexes))
    };
    assert_eq!(
        index("cities_attributes_idx").keys[0].opclass.as_deref(),
        Some("jsonb_path_ops")
    );
    assert_eq!(index("cities_geometry_idx").keys[0].opclass, None);
    assert_eq!(index("cities_shapes_idx").keys[0].opclass, None);
    assert_eq!(index("cities_name_hash_idx").keys[0].opclass, None);
    assert_eq!(index("cities_founded_idx").keys[0].opclass, None);
    assert_eq!(
        index("cities_name_pattern_idx").keys[0].opclass.as_deref(),
        Some("varchar_pattern_ops")
    );
    let big = index("cities_big_idx");
    assert!(big.keys[0].descending);
    assert_eq!(big.include, ["name"]);
    assert!(index("cities_founded_name_uidx").unique);
    // The unique constraint's index is the constraint's, not an index of its own.
    assert!(
        cities
            .indexes
            .iter()
            .all(|i| i.name != "cities_country_name_key")
    );
    assert_eq!(cities.uniques.len(), 1);
    let region_fk = cities
        .foreign_keys
        .iter()
        .find(|f| f.name == "cities_region_fkey")
        .expect("composite fk");
    assert_eq!(region_fk.columns, ["country", "region_code"]);
    assert_eq!(region_fk.ref_columns, ["country", "code"]);
    assert_eq!(region_fk.on_update, model::FkAction::Cascade);
    assert_eq!(region_fk.on_delete, model::FkAction::Restrict);
    let name = cities.column("name").expect("name");
    assert!(name.sensitivity.pii && !name.sensitivity.phi);
    assert_eq!(
        name.comment.as_deref(),
        Some("Official name.\nSecond line.")
    );
    assert!(first.table("regions").expect("regions").flags.soft_delete);

    let written = model::yaml::write::to_schema_yaml(&first, "a test database");
    assert_eq!(written.warnings, Vec::<String>::new(), "{}", written.text);
    assert_eq!(written.round_trip, Ok(Vec::new()), "{}", written.text);
    for expected in [
        "timestamps: true",
        "soft_delete: true",
        "primary_key: [\"country\", \"code\"]",
        "\"attributes jsonb_path_ops\"",
        "using: \"brin\"",
        "include: [\"name\"]",
        "references: \"cities\", on_delete: \"set null\"",
        "urgency: { type: \"urgency\", default: \"low\" }",
    ] {
        assert!(
            written.text.contains(expected),
            "{expected}\n{}",
            written.text
        );
    }
    let second = rebuild("introspect_custom_again", &written.text);
    assert_eq!(compare(&first, &second), Vec::new());
    assert_eq!(first.normalized(), second.normalized());
}

/// What the catalog models, in SQL of every kind it models: schemas, an extension, enums, domains
/// and composite types, sequences (owned by a serial column and free-standing), identity and
/// generated columns, foreign keys and triggers across schemas, partial and expression indexes,
/// a partitioned table with partitions, inheritance, functions with OUT, VARIADIC, defaulted and
/// unnamed arguments, views and a materialized view with an index.
const MODELLED: &str = r#"CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA storage;
COMMENT ON SCHEMA storage IS 'Uploaded objects';
CREATE TYPE storage.state AS ENUM ('pending', 'stored');
CREATE DOMAIN storage.document AS jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(VALUE) = 'object');
CREATE DOMAIN short_text AS varchar(20) CHECK (length(VALUE) > 0);
CREATE TYPE money_amount AS (currency char(3), cents bigint);
CREATE SEQUENCE invoice_numbers AS integer START WITH 1000 INCREMENT BY 5 CACHE 10;
CREATE SEQUENCE plain_numbers;
CREATE TABLE users (
    id serial PRIMARY KEY,
    name short_text NOT NULL,
    balance money_amount,
    tags text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE storage.buckets (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10) PRIMARY KEY,
    owner_id integer NOT NULL REFERENCES users (id),
    name text NOT NULL UNIQUE,
    meta storage.document
);
CREATE TABLE storage.objects (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    bucket_id bigint NOT NULL REFERENCES storage.buckets (id) ON DELETE CASCADE,
    state storage.state NOT NULL DEFAULT 'pending',
    size bigint NOT NULL,
    blocks bigint GENERATED ALWAYS AS ((size + 4095) / 4096) STORED,
    location point
);
ALTER TABLE users ADD COLUMN avatar_id bigint REFERENCES storage.objects (id);
CREATE INDEX objects_pending_idx ON storage.objects (bucket_id) WHERE state = 'pending';
CREATE INDEX ON storage.objects ((size / 1024));
CREATE INDEX ON users (lower(name::text));
CREATE INDEX users_name_trgm_idx ON users USING gin ((name::text) gin_trgm_ops);
CREATE TABLE events (
    id bigint NOT NULL,
    at date NOT NULL,
    kind text,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
CREATE INDEX ON events (kind);
CREATE TABLE labels (id integer PRIMARY KEY, body text CHECK (body <> ''));
CREATE TABLE special_labels (colour text) INHERITS (labels);
CREATE FUNCTION storage.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION storage.touch();
CREATE FUNCTION split_total(total numeric, parts integer DEFAULT 2, OUT share numeric, OUT rest numeric) RETURNS record LANGUAGE sql AS 'SELECT total / parts, total % parts';
CREATE FUNCTION concat_all(VARIADIC items text[]) RETURNS text LANGUAGE sql AS 'SELECT array_to_string(items, '','')';
CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 * 2';
CREATE FUNCTION pairs() RETURNS TABLE (a integer, b text) LANGUAGE sql AS 'SELECT 1, ''x''';
CREATE FUNCTION numbers() RETURNS SETOF integer LANGUAGE sql AS 'SELECT 1';
CREATE VIEW active_users AS SELECT id, name FROM users WHERE avatar_id IS NOT NULL;
CREATE MATERIALIZED VIEW bucket_sizes AS SELECT bucket_id, sum(size) AS total FROM storage.objects GROUP BY bucket_id;
CREATE UNIQUE INDEX bucket_sizes_bucket_idx ON bucket_sizes (bucket_id);
COMMENT ON VIEW active_users IS 'Users with an avatar.';
"#;

#[test]
fn a_database_introspects_into_the_catalog_its_sql_replays_into() {
    let db = e2e::pg::cluster().create_database("introspect_modelled");
    let mut client = db.connect();
    apply(&mut client, MODELLED);
    let live = introspect::introspect_schemas(&mut client, &introspect::Schemas::all())
        .expect("introspect");
    assert_eq!(live.notes, Vec::<String>::new());
    let live = live.catalog;
    // Leniently, as the linter replays histories: a strict replay refuses the `point` column.
    let mut replayed = Catalog::default();
    let mut session = model::replay::Session::lenient(vec!["public".to_string()]);
    for statement in model::replay::parse_script(MODELLED).expect("parses") {
        session
            .apply(&mut replayed, &statement.node)
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", statement.pos));
    }
    assert_eq!(session.take_notes(), Vec::new());
    // A view's query comes back from `pg_get_viewdef` with every column qualified, and the type
    // of an aggregate is PostgreSQL's to know: the replay cannot say them as the server does.
    let differences: Vec<String> = compare(&replayed, &live)
        .iter()
        .map(|d| d.describe("replay", "database"))
        .collect();
    assert_eq!(
        differences,
        [
            "view active_users: query differs: replay has `SELECT id, name FROM users WHERE avatar_id IS NOT NULL`, database has `SELECT users.id, users.name FROM users WHERE users.avatar_id IS NOT NULL`",
            "view bucket_sizes: columns differs: replay has `bucket_id bigint, total unknown`, database has `bucket_id bigint, total numeric`",
            "view bucket_sizes: query differs: replay has `SELECT bucket_id, sum(size) AS total FROM storage.objects GROUP BY bucket_id`, database has `SELECT objects.bucket_id, sum(objects.size) AS total FROM storage.objects GROUP BY objects.bucket_id`",
        ]
    );
    // Beyond what `compare` reports, the whole catalogs are equal but for the views (expressions
    // in their comparable form: PostgreSQL prints casts it added).
    let mut without_views = (
        model::compare::comparable(&replayed),
        model::compare::comparable(&live),
    );
    without_views.0.views.clear();
    without_views.1.views.clear();
    assert_eq!(without_views.0, without_views.1);

    let objects = live
        .table_in("storage", "objects")
        .expect("storage.objects");
    let id = objects.column("id").expect("id");
    assert!(id.identity.as_ref().is_some_and(|i| !i.always));
    assert_eq!(
        objects
            .column("blocks")
            .and_then(|c| c.generated.as_deref()),
        Some("(size + 4095) / 4096")
    );
    assert_eq!(
        objects.column("location").map(|c| &c.data_type),
        Some(&DataType::Other("point".into()))
    );
    let buckets = live.table_in("storage", "buckets").expect("buckets");
    assert_eq!(
        buckets.column("id").and_then(|c| c.identity.clone()),
        Some(model::Identity {
            always: true,
            options: model::SequenceOptions {
                start: Some(100),
                increment: Some(10),
                ..Default::default()
            }
        })
    );
    assert_eq!(
        buckets.column("meta").map(|c| c.data_type.is_jsonb()),
        Some(true),
        "a domain over jsonb is jsonb"
    );
    let serial = live
        .sequence_named(&model::QualifiedName::public("users_id_seq"))
        .expect("the serial column's sequence");
    assert_eq!(
        serial
            .owned_by
            .as_ref()
            .map(|o| (o.table.name.as_str(), o.column.as_str())),
        Some(("users", "id"))
    );
    assert_eq!(
        live.table("users")
            .and_then(|t| t.triggers.first())
            .map(|t| t.function.clone()),
        Some(model::QualifiedName::new("storage", "touch"))
    );
    let rest = live.table("events_rest").expect("events_rest");
    assert_eq!(
        rest.partition_of.as_ref().map(|p| p.bound.as_str()),
        Some("DEFAULT")
    );
    assert!(rest.indexes.is_empty() && rest.primary_key.is_none());
    let split = live.function("split_total").expect("split_total");
    let modes: Vec<(model::ArgumentMode, Option<&str>)> = split
        .arguments
        .iter()
        .map(|a| (a.mode, a.default.as_deref()))
        .collect();
    assert_eq!(
        modes,
        [
            (model::ArgumentMode::In, None),
            (model::ArgumentMode::In, Some("2")),
            (model::ArgumentMode::Out, None),
            (model::ArgumentMode::Out, None),
        ]
    );

    // One schema alone, as `introspect(client, "public")` has always read it.
    let public = introspect::introspect(&mut client, "public").expect("public");
    assert!(public.schemas.is_empty());
    assert!(public.tables.iter().all(|t| t.schema == "public"));
    assert_eq!(
        public
            .table("users")
            .map(|t| t.foreign_keys[0].ref_table.clone()),
        Some(model::QualifiedName::new("storage", "objects")),
        "a foreign key into a schema not read still names its table"
    );
    let error = introspect::introspect(&mut client, "nosuch").expect_err("no such schema");
    assert_eq!(
        error.to_string(),
        "the database has no schema named `nosuch`"
    );
}

#[test]
fn what_the_catalog_does_not_model_is_noted() {
    let db = e2e::pg::cluster().create_database("introspect_notes");
    let mut client = db.connect();
    apply(
        &mut client,
        r#"CREATE TABLE t (id uuid PRIMARY KEY, name text COLLATE "C" NOT NULL, during tsrange);
         CREATE INDEX t_name_idx ON t (name DESC NULLS LAST);
         CREATE TYPE floats AS RANGE (subtype = float8);
         CREATE FUNCTION one() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
         CREATE AGGREGATE total (integer) (sfunc = int4pl, stype = integer);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW WHEN (OLD.name <> NEW.name) EXECUTE FUNCTION touch();
         CREATE TRIGGER t_quiet BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         ALTER TABLE t DISABLE TRIGGER t_quiet;
         ALTER TABLE t ADD CONSTRAINT t_no_overlap EXCLUDE USING gist (during WITH &&);
         CREATE TABLE u (id uuid PRIMARY KEY, t_id uuid REFERENCES t DEFERRABLE INITIALLY DEFERRED);
         CREATE FOREIGN DATA WRAPPER nowhere;
         CREATE SERVER far FOREIGN DATA WRAPPER nowhere;
         CREATE FOREIGN TABLE remote (id integer) SERVER far;"#,
    );
    let introspection = introspect::introspect_schemas(&mut client, &introspect::Schemas::all())
        .expect("introspect");
    assert_eq!(
        introspection.notes,
        [
            "column `t.name`: column collations are not modelled",
            "constraint `t.t_no_overlap`: the operators of exclusion constraints are not modelled; read as its index (`EXCLUDE USING gist (during WITH &&)`)",
            "constraint `u.u_t_id_fkey`: deferrable constraints are not modelled (`FOREIGN KEY (t_id) REFERENCES t(id) DEFERRABLE INITIALLY DEFERRED`)",
            "foreign table `remote` is not modelled",
            "function `total(integer)`: aggregates and window functions are not modelled",
            "index `t.t_name_idx`: NULLS FIRST/LAST ordering is not modelled; read without it",
            "range type `floats` is not modelled; columns of it are read as a named type",
            "trigger `t.t_quiet`: the trigger is disabled; read as enabled (not modelled)",
            "trigger `t.t_touch`: trigger arguments, column lists and WHEN conditions are not modelled; left out (`CREATE TRIGGER t_touch BEFORE UPDATE ON public.t FOR EACH ROW WHEN ((old.name <> new.name)) EXECUTE FUNCTION touch()`)",
        ]
    );
    // A SQL-standard body is read, as PostgreSQL prints it back.
    let one = introspection
        .catalog
        .functions
        .iter()
        .find(|f| f.name == "one")
        .expect("one()");
    assert!(one.sql_standard_body);
    assert_eq!(one.body, "BEGIN ATOMIC SELECT 1; END");
    let t = introspection.catalog.table("t").expect("t");
    assert_eq!(
        t.column("during").map(|c| &c.data_type),
        Some(&DataType::Other("tsrange".into()))
    );
    let exclusion = t
        .indexes
        .iter()
        .find(|i| i.name == "t_no_overlap")
        .expect("the exclusion constraint's index");
    assert_eq!(exclusion.method, model::IndexMethod::Gist);
    assert!(!exclusion.unique);
    let triggers: Vec<&str> = t.triggers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(triggers, ["t_quiet"]);
}
