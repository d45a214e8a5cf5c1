//! Functions with SQL-standard bodies (`RETURN ...`, `BEGIN ATOMIC ... END`) in a replayed
//! catalog: the plan writes them as such (no dollar quotes, which would make the body a string
//! PostgreSQL runs as `LANGUAGE sql` text), its replay gives the same catalog back, and a changed
//! body is replaced.

use codegen::migration::{PlanOptions, plan};
use model::{Catalog, RenameHints};

const SOURCE: &str = r#"
CREATE FUNCTION next_slot(n integer) RETURNS integer LANGUAGE sql RETURN n * 2 + 1;
CREATE FUNCTION stamp_of(v text) RETURNS timestamptz IMMUTABLE LANGUAGE sql
BEGIN ATOMIC
    SELECT v::timestamp AT TIME ZONE 'UTC';
END;
CREATE TABLE runs (
    id      uuid PRIMARY KEY,
    doc     text NOT NULL,
    slot    integer NOT NULL DEFAULT next_slot(3),
    started timestamptz GENERATED ALWAYS AS (stamp_of(doc)) STORED
);
"#;

fn replayed(sql: &str) -> Catalog {
    let mut catalog = Catalog::default();
    model::replay::replay_script(&mut catalog, sql).unwrap_or_else(|e| panic!("{e:?}"));
    catalog
}

#[test]
fn sql_standard_bodies_are_generated_as_written_and_replay_equal() {
    let source = replayed(SOURCE);
    assert!(source.functions.iter().all(|f| f.sql_standard_body));
    let migration = codegen::migration::initial(&source);
    assert!(
        migration.up.contains(
            "CREATE FUNCTION next_slot(n integer) RETURNS integer\n    LANGUAGE sql\n    RETURN n * 2 + 1;"
        ),
        "{}",
        migration.up
    );
    assert!(
        migration.up.contains(
            "    LANGUAGE sql\n    BEGIN ATOMIC SELECT v::timestamp AT TIME ZONE 'UTC'; END;"
        ),
        "{}",
        migration.up
    );
    assert!(!migration.up.contains("$$RETURN"), "{}", migration.up);
    let rebuilt = replayed(&migration.up);
    assert_eq!(
        rebuilt.normalized(),
        source.normalized(),
        "{}",
        migration.up
    );
}

#[test]
fn a_changed_sql_standard_body_is_replaced() {
    let source = replayed(SOURCE);
    let changed = replayed(&SOURCE.replace("n * 2 + 1", "n * 2 + 5"));
    let options = PlanOptions {
        name: Some("change".to_string()),
        first_number: 2,
        allow_destructive: false,
    };
    let migrations = plan(&source, &changed, &RenameHints::default(), &options)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let up: String = migrations.iter().map(|m| m.up.as_str()).collect();
    assert!(
        up.contains("CREATE OR REPLACE FUNCTION next_slot(n integer) RETURNS integer\n    LANGUAGE sql\n    RETURN n * 2 + 5;"),
        "{up}"
    );
}
