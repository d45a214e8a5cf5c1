//! Shapes of real histories on PostgreSQL 15: the plans of `codegen/tests/fixtures/shapes/`
//! (pinned by `codegen/tests/shapes.rs`) run step by step (extensions created, updated and
//! dropped; foreign keys between comparable types and to unique indexes; derived index names that
//! make way for given ones), each step without drift, every down restores the step before.

use e2e::migrations::apply;
use model::Catalog;
use postgres::Client;

fn assert_no_drift(client: &mut Client, step: &str, replayed: &Catalog) {
    e2e::fixtures::assert_no_drift(client, "shapes", step, replayed);
}

fn extensions(client: &mut Client) -> Vec<(String, String)> {
    client
        .query(
            "SELECT extname::text, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1",
            &[],
        )
        .expect("extensions")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_plans_run_on_postgresql() {
    let steps = e2e::fixtures::evolve("shapes");
    assert_eq!(steps.len(), 3);
    let db = e2e::pg::cluster().create_database("shapes");
    let mut client = db.connect();

    for m in &steps[0].migrations {
        apply(&mut client, &m.id, &m.up);
    }
    assert_eq!(extensions(&mut client), pairs(&[("pg_trgm", "1.5")]));
    client
        .batch_execute(
            "INSERT INTO accounts VALUES (1, 'ann', 'eu', 'a1');
             INSERT INTO sessions (id, account_id, handle, region, code) VALUES (10, 1, 'ann', 'eu', 'a1');",
        )
        .expect("rows");
    let refused =
        client.batch_execute("INSERT INTO sessions (id, account_id, handle) VALUES (11, 1, 'bob')");
    assert!(refused.is_err(), "the unique index is the referenced key");
    assert_no_drift(&mut client, &steps[0].name, &steps[0].catalog);

    for m in &steps[1].migrations {
        apply(&mut client, &m.id, &m.up);
    }
    assert_eq!(
        extensions(&mut client),
        pairs(&[("pg_trgm", "1.6"), ("uuid-ossp", "1.1")])
    );
    assert_no_drift(&mut client, &steps[1].name, &steps[1].catalog);

    for m in &steps[2].migrations {
        apply(&mut client, &m.id, &m.up);
    }
    assert_eq!(extensions(&mut client), pairs(&[("pg_trgm", "1.6")]));
    assert_no_drift(&mut client, &steps[2].name, &steps[2].catalog);

    // Every down, newest first, restores the step before (an extension keeps its version).
    for step in steps.iter().rev() {
        for m in step.migrations.iter().rev() {
            apply(&mut client, &m.id, &m.down);
        }
    }
    assert_eq!(extensions(&mut client), Vec::new());
    for step in &steps {
        for m in &step.migrations {
            apply(&mut client, &m.id, &m.up);
        }
    }
    assert_no_drift(&mut client, &steps[2].name, &steps[2].catalog);
}
