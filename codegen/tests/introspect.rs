//! `codegen introspect` round trips on a real PostgreSQL 15: database -> introspect -> schema.yaml
//! -> load -> first migration -> a second database -> introspect gives the same catalog, for the
//! project's seven tables and for a schema using what they do not (composite keys, a cycle,
//! partial, covering, hash, BRIN and jsonb_path_ops GIN indexes, opclasses, enum arrays).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use model::Catalog;
use model::compare::compare;
use postgres::Client;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn apply(client: &mut Client, sql: &str) {
    let mut tx = client.transaction().expect("begin");
    if let Err(e) = tx.batch_execute(sql) {
        panic!("SQL failed: {e:?}\n{sql}");
    }
    tx.commit().expect("commit");
}

fn codegen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codegen"))
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run codegen")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
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
    let project = std::fs::read_to_string(repo().join("schema.yaml")).expect("schema.yaml");
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

    let written = introspect::yaml::to_schema_yaml(&first, "a test database");
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

#[test]
fn what_the_catalog_does_not_model_is_noted_or_refused() {
    let db = e2e::pg::cluster().create_database("introspect_notes");
    let mut client = db.connect();
    apply(
        &mut client,
        "CREATE TABLE t (id uuid PRIMARY KEY, name text NOT NULL, n integer GENERATED ALWAYS AS IDENTITY);
         CREATE INDEX t_lower_name_idx ON t (lower(name));
         CREATE VIEW v AS SELECT id FROM t;
         CREATE SEQUENCE s;
         CREATE FUNCTION add(a integer, b integer) RETURNS integer LANGUAGE sql AS 'SELECT a + b';
         CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 * 2';
         CREATE FUNCTION one() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END; $$;
         CREATE TRIGGER t_touch AFTER INSERT ON public.t FOR EACH STATEMENT EXECUTE FUNCTION touch();
         CREATE SCHEMA other;
         CREATE TABLE other.hidden (id integer PRIMARY KEY);",
    );
    let introspection =
        introspect::introspect_with_notes(&mut client, "public").expect("introspect");
    assert_eq!(
        introspection.notes,
        [
            "column `t.n`: identity columns are not modelled; read without the identity",
            "function `one()`: SQL-standard function bodies are not modelled",
            "function `twice(integer)`: functions with OUT, VARIADIC, unnamed or defaulted arguments are not modelled",
            "index `t.t_lower_name_idx`: expression indexes are not modelled; left out (`CREATE INDEX t_lower_name_idx ON public.t USING btree (lower(name))`)",
            "sequence `s` is not modelled",
            "view `v` is not modelled",
        ]
    );
    let catalog = introspection.catalog;
    let names: Vec<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t"]);
    assert!(catalog.tables[0].indexes.is_empty());
    let functions: Vec<String> = catalog
        .functions
        .iter()
        .map(|f| {
            format!(
                "{}{} -> {} {:?}",
                f.name,
                f.signature_types(),
                f.returns,
                f.execute
            )
        })
        .collect();
    assert_eq!(
        functions,
        [
            "add(integer, integer) -> int4 [\"public\"]",
            "touch() -> trigger [\"public\"]"
        ],
        "named arguments and the default EXECUTE for PUBLIC are read"
    );
    let trigger = &catalog.tables[0].triggers[0];
    assert!(!trigger.for_each_row, "statement-level triggers are read");

    // Another schema is read on its own.
    let other = introspect::introspect(&mut client, "other").expect("other schema");
    let names: Vec<&str> = other.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["hidden"]);

    // A column type the catalog has no DataType for is an error naming the column.
    apply(&mut client, "ALTER TABLE t ADD COLUMN location point");
    let error = introspect::introspect(&mut client, "public").expect_err("point is not modelled");
    assert_eq!(
        error.to_string(),
        "column `t.location`: its type `point` is not modelled"
    );
}
