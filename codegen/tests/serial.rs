//! `serial` columns through the migration planner: each step of `tests/fixtures/serial/` is
//! planned from the replayed previous ones (every plan verifies itself by replay: up reaches the
//! target, down restores the start), and the SQL is pinned. `tests/tests/serial.rs` (crate
//! `e2e`) runs the same plans on PostgreSQL 15.

use codegen::migration::{PlanError, PlanOptions, plan};
use model::Catalog;
use model::replay::replay_script;

#[test]
fn each_step_snapshot() {
    let steps = e2e::fixtures::evolve("serial");
    assert_eq!(steps.len(), 3);
    for step in steps {
        insta::assert_snapshot!(step.name, e2e::fixtures::migrations_text(&step.migrations));
    }
}

#[test]
fn a_serial_column_is_what_postgresql_makes_of_one() {
    let yaml = model::load_schema(
        "t",
        "tables:\n  orders:\n    columns:\n      id: { type: bigserial, primary_key: true }\n      number: { type: serial4 }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut replayed = Catalog::default();
    replay_script(
        &mut replayed,
        "CREATE TABLE orders (id bigserial, number serial NOT NULL, CONSTRAINT orders_pkey PRIMARY KEY (id));",
    )
    .expect("replays");
    assert_eq!(
        model::compare::comparable(&yaml),
        model::compare::comparable(&replayed)
    );
    let names: Vec<String> = yaml.sequences.iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, ["orders_id_seq", "orders_number_seq"]);
}

#[test]
fn a_serial_column_refuses_a_default_nullability_or_identity_of_its_own() {
    let text = "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: { type: serial, default: \"1\" }\n      b: { type: bigserial, nullable: true }\n      c: { type: serial, identity: always }\n      d: { type: serial, generated: \"1\" }\n";
    let err = model::load_schema("t.yaml", text)
        .expect_err("refused")
        .to_string();
    for expected in [
        "t.yaml:5:",
        "serial column `a` cannot have a `default`",
        "t.yaml:6:",
        "serial column `b` cannot be nullable",
        "t.yaml:7:",
        "column `c` cannot be both serial and an identity",
        "t.yaml:8:",
        "serial column `d` cannot be generated",
    ] {
        assert!(err.contains(expected), "{expected:?} in:\n{err}");
    }
}

#[test]
fn a_new_serial_column_on_an_existing_table_needs_consent() {
    let before = model::load_schema(
        "a",
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
    )
    .expect("a");
    let (after, hints) = model::load_schema_with_renames(
        "b",
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      n: { type: bigserial }\n",
    )
    .expect("b");
    let mut state = Catalog::default();
    for m in plan(
        &Catalog::default(),
        &before,
        &hints,
        &PlanOptions::default(),
    )
    .expect("initial")
    {
        replay_script(&mut state, &m.up).expect("replays");
    }
    match plan(&state, &after, &hints, &PlanOptions::default()) {
        Err(PlanError::Destructive(why)) => assert_eq!(
            why,
            [
                "adds `t.n`, a serial column: PostgreSQL numbers every existing row, rewriting the table and its indexes under an ACCESS EXCLUSIVE lock"
            ]
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let allowed = PlanOptions {
        allow_destructive: true,
        ..PlanOptions::default()
    };
    let migrations = plan(&state, &after, &hints, &allowed).expect("with consent");
    assert!(
        migrations[0]
            .up
            .contains("ALTER TABLE t ADD COLUMN n bigserial;"),
        "{}",
        migrations[0].up
    );
}
