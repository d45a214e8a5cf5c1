//! Schemas besides `public`, identity and generated columns on PostgreSQL 15: the plans of
//! `codegen/tests/fixtures/schemas/` (pinned by `codegen/tests/schemas_identity.rs`) run step by
//! step on a database holding rows, every down restores the step before, and the identities keep
//! numbering past the values the table already holds.

use codegen::migration::Migration;
use e2e::migrations::apply;
use model::Catalog;
use postgres::Client;

/// Each step of the fixtures with its migrations, planned from the replayed previous steps, and
/// the catalog the migrations replay into after it.
fn steps() -> Vec<(String, Vec<Migration>, Catalog)> {
    e2e::fixtures::evolve("schemas")
        .into_iter()
        .map(|step| (step.name, step.migrations, step.catalog))
        .collect()
}

/// The three states drift detection compares agree after a step: the fixture loaded, the
/// migrations replayed, and the database they built, introspected (`public` and the schemas the
/// fixture declares).
fn assert_no_drift(client: &mut Client, step: &str, replayed: &Catalog) {
    let live = e2e::fixtures::assert_no_drift(client, "schemas", step, replayed);
    let comparable = model::compare::comparable;
    assert_eq!(comparable(&live), comparable(replayed), "{step}");
}

fn one_i64(client: &mut Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[test]
fn the_plans_run_on_postgresql_with_rows_in_the_tables() {
    let steps = steps();
    assert_eq!(steps.len(), 3);
    let db = e2e::pg::cluster().create_database("schemas_identity");
    let mut client = db.connect();

    // 00: schemas, an identity primary key, a generated column, identity options.
    for m in &steps[0].1 {
        apply(&mut client, &m.id, &m.up);
    }
    client
        .batch_execute(
            "INSERT INTO users (id, consented) VALUES ('00000000-0000-0000-0000-000000000001', true);
             INSERT INTO storage.buckets (name, owner_id)
                 VALUES ('scans', '00000000-0000-0000-0000-000000000001');
             INSERT INTO storage.objects (bucket_id, size) VALUES (1, 5000), (1, 10000);",
        )
        .expect("rows");
    assert_eq!(
        one_i64(&mut client, "SELECT sum(blocks)::int8 FROM storage.objects"),
        2 + 3,
        "blocks is computed"
    );
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT max(serial_no)::int8 FROM storage.objects"
        ),
        1010,
        "start 1000, increment 10"
    );
    let refused = client.batch_execute("INSERT INTO storage.buckets (id, name, owner_id) VALUES (7, 'x', '00000000-0000-0000-0000-000000000001')");
    assert!(refused.is_err(), "GENERATED ALWAYS refuses explicit values");
    // The compliance guards of tables outside public work there.
    client
        .batch_execute("INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-000000000003')")
        .expect("a user without consent");
    let refused = client.batch_execute(
        "INSERT INTO storage.buckets (name, owner_id) VALUES ('y', '00000000-0000-0000-0000-000000000003')",
    );
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| format!("{e:?}").contains("needs consent")),
        "storage.buckets requires consent: {refused:?}"
    );
    client
        .batch_execute(
            "INSERT INTO archive.old_objects (id) VALUES ('00000000-0000-0000-0000-00000000000a')",
        )
        .expect("append");
    let refused = client.batch_execute("DELETE FROM archive.old_objects");
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| format!("{e:?}").contains("append-only")),
        "archive.old_objects is append-only: {refused:?}"
    );
    assert_no_drift(&mut client, &steps[0].0, &steps[0].2);

    // 01: identity options and mode changed in place, a column becomes an identity, new identity
    // and generated columns filled for the existing rows.
    for m in &steps[1].1 {
        apply(&mut client, &m.id, &m.up);
    }
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT sum(kilobytes)::int8 FROM storage.objects"
        ),
        4 + 9
    );
    assert_eq!(
        one_i64(&mut client, "SELECT position::int8 FROM storage.buckets"),
        1
    );
    client
        .batch_execute("INSERT INTO storage.objects (bucket_id, size) VALUES (1, 1)")
        .expect("insert");
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT max(serial_no)::int8 FROM storage.objects"
        ),
        1020,
        "SET START WITH keeps the sequence where it was"
    );
    client
        .batch_execute("INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-000000000002')")
        .expect("insert");
    assert_eq!(
        one_i64(&mut client, "SELECT max(legacy_no)::int8 FROM users"),
        1
    );
    assert_no_drift(&mut client, &steps[1].0, &steps[1].2);

    // 02: identity options back to the defaults (dropped and added again, moved past the rows),
    // identities dropped, a generated column made plain, a schema dropped.
    for m in &steps[2].1 {
        apply(&mut client, &m.id, &m.up);
    }
    client
        .batch_execute("INSERT INTO storage.objects (bucket_id, size) VALUES (1, 2)")
        .expect("insert");
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT max(serial_no)::int8 FROM storage.objects"
        ),
        1021,
        "the new sequence continues after the largest value"
    );
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'archive'"
        ),
        0
    );
    assert_no_drift(&mut client, &steps[2].0, &steps[2].2);

    // Every down, newest first, restores the step before; then everything applies again.
    for (_, migrations, _) in steps.iter().rev() {
        for m in migrations.iter().rev() {
            apply(&mut client, &m.id, &m.down);
        }
    }
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('storage', 'archive')"
        ),
        0
    );
    for (_, migrations, _) in &steps {
        for m in migrations {
            apply(&mut client, &m.id, &m.up);
        }
    }
}

#[test]
fn the_runner_resets_the_schemas_the_migrations_create() {
    let mut files = Vec::new();
    for (_, migrations, _) in steps() {
        for m in migrations {
            let number = u32::try_from(files.len() + 1).expect("few");
            files.push(migrate::history::MigrationFile {
                number,
                id: m.id,
                up: m.up,
                down: m.down,
            });
        }
    }
    let db = e2e::pg::cluster().create_database("schemas_reset");
    let mut runner = migrate::runner::Runner::connect(&db.url(), files.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(runner.upgrade().expect("upgrade").len(), files.len());
    // `archive` was created by the first step and dropped by the last; `storage` stays.
    assert_eq!(runner.reset().expect("reset").len(), files.len());
    let mut client = db.connect();
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('storage', 'archive')"
        ),
        1
    );
}
