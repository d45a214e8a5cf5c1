//! `serial` columns on PostgreSQL 15: the plans of `codegen/tests/fixtures/serial/` (pinned by
//! `codegen/tests/serial.rs`) run step by step on a database holding rows, each step leaves no
//! drift between the fixture, the replayed migrations and the live database, the database is
//! introspected back into a `schema.yaml` that writes those columns as `serial` and loads into
//! the same catalog, and every down restores the step before.

use e2e::migrations::apply;
use model::Catalog;
use postgres::Client;

fn one_i64(client: &mut Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// The fixture, the replayed migrations and the live database describe one schema, and the
/// live database written as `schema.yaml` declares its serial columns as such, leaves nothing
/// out and loads back into the same catalog.
fn assert_one_schema(client: &mut Client, step: &str, replayed: &Catalog) {
    let text = e2e::fixtures::fixture_steps("serial")
        .into_iter()
        .find(|(name, _)| name == step)
        .expect("the step's fixture")
        .1;
    let yaml = model::load_schema(step, &text).unwrap_or_else(|e| panic!("{e}"));
    let schemas = introspect::Schemas::Existing(vec!["public".into(), "billing".into()]);
    let live = introspect::introspect_schemas(client, &schemas).expect("introspect");
    assert_eq!(live.notes, Vec::<String>::new(), "{step}");
    let comparable = model::compare::comparable;
    assert_eq!(comparable(&live.catalog), comparable(&yaml), "{step}");
    assert_eq!(comparable(&live.catalog), comparable(replayed), "{step}");

    let written = model::yaml::write::to_schema_yaml(&live.catalog, "the test database");
    let left_out: Vec<&str> = written.left_out.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(left_out, Vec::<&str>::new(), "{step}");
    assert_eq!(
        written.round_trip,
        Ok(Vec::new()),
        "{step}:\n{}",
        written.text
    );
    let serial_columns = written.text.matches("type: \"serial\"").count()
        + written.text.matches("type: \"bigserial\"").count()
        + written.text.matches("type: \"smallserial\"").count();
    assert_eq!(
        serial_columns,
        yaml.sequences.len(),
        "{step}: every serial column is written as one:\n{}",
        written.text
    );
}

#[test]
fn serial_columns_are_created_renamed_converted_and_dropped_on_postgresql() {
    let steps = e2e::fixtures::evolve("serial");
    assert_eq!(steps.len(), 3);
    let db = e2e::pg::cluster().create_database("serial_columns");
    let mut client = db.connect();

    // 00: the sequences exist, are owned by their columns and number new rows.
    for m in &steps[0].migrations {
        apply(&mut client, &m.id, &m.up);
    }
    client
        .batch_execute(
            "INSERT INTO tickets (legacy_no, title) VALUES (41, 'a'), (42, 'b');
             INSERT INTO billing.invoices (ticket_id) VALUES (1), (2);",
        )
        .expect("rows");
    assert_eq!(one_i64(&mut client, "SELECT max(id) FROM tickets"), 2);
    assert_eq!(
        one_i64(&mut client, "SELECT max(line)::int8 FROM billing.invoices"),
        2
    );
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
             WHERE s.relkind = 'S' AND d.deptype = 'a'"
        ),
        4,
        "each of the four sequences is owned by its column"
    );
    assert_one_schema(&mut client, &steps[0].name, &steps[0].catalog);

    // 01: renamed sequences keep counting; legacy_no continues after the largest value.
    for m in &steps[1].migrations {
        apply(&mut client, &m.id, &m.up);
    }
    client
        .batch_execute(
            "INSERT INTO issues (title) VALUES ('c');
             INSERT INTO billing.invoices (ticket_id) VALUES (3);",
        )
        .expect("rows after the change");
    assert_eq!(
        one_i64(&mut client, "SELECT id FROM issues WHERE title = 'c'"),
        3,
        "the renamed sequence continues"
    );
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT legacy_no::int8 FROM issues WHERE title = 'c'"
        ),
        43,
        "the new sequence starts past the rows"
    );
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT \"position\"::int8 FROM billing.invoices WHERE ticket_id = 3"
        ),
        3
    );
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relname = 'tickets_number_seq'"
        ),
        0,
        "the sequence of a column that is serial no more is gone"
    );
    assert_one_schema(&mut client, &steps[1].name, &steps[1].catalog);

    // 02: a new serial table; the dropped table and column take their sequences along.
    for m in &steps[2].migrations {
        apply(&mut client, &m.id, &m.up);
    }
    client
        .batch_execute("INSERT INTO comments (issue_id, body) VALUES (1, 'x')")
        .expect("a comment");
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relkind = 'S'"
        ),
        2,
        "issues_id_seq and comments_id_seq"
    );
    assert_one_schema(&mut client, &steps[2].name, &steps[2].catalog);

    // Every down, newest first, restores the step before; then everything applies again.
    for step in steps.iter().rev() {
        for m in step.migrations.iter().rev() {
            apply(&mut client, &m.id, &m.down);
        }
    }
    assert_eq!(
        one_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relkind = 'S'"
        ),
        0
    );
    for step in &steps {
        for m in &step.migrations {
            apply(&mut client, &m.id, &m.up);
        }
    }
}
