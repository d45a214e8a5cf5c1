//! Schemas besides `public`, identity and generated columns through the migration planner: each
//! step of `tests/fixtures/schemas/` is planned from the replayed previous ones (every plan
//! verifies itself by replay: up reaches the target, down restores the start), and the SQL is
//! pinned. `tests/tests/schemas_identity.rs` (crate `e2e`) runs the same plans on PostgreSQL 15.

use codegen::migration::{Migration, PlanError, PlanOptions, plan};
use model::Catalog;
use model::replay::replay_script;

use e2e::fixtures::{Step, fixture_steps};

fn steps() -> Vec<(String, String)> {
    fixture_steps("schemas")
}

fn evolve() -> Vec<(String, Vec<Migration>)> {
    e2e::fixtures::evolve("schemas")
        .into_iter()
        .map(
            |Step {
                 name, migrations, ..
             }| (name, migrations),
        )
        .collect()
}

#[test]
fn each_step_snapshot() {
    let steps = evolve();
    assert_eq!(steps.len(), 3);
    for (name, migrations) in steps {
        insta::assert_snapshot!(name, e2e::fixtures::migrations_text(&migrations));
    }
}

#[test]
fn new_identity_and_generated_columns_on_existing_tables_need_consent() {
    let steps = steps();
    let (first, _) = model::load_schema_with_renames("a", &steps[0].1).expect("first");
    let (second, hints) = model::load_schema_with_renames("b", &steps[1].1).expect("second");
    let mut state = Catalog::default();
    for m in plan(&Catalog::default(), &first, &hints, &PlanOptions::default()).expect("initial") {
        replay_script(&mut state, &m.up).expect("replays");
    }
    match plan(&state, &second, &hints, &PlanOptions::default()) {
        Err(PlanError::Destructive(why)) => {
            assert_eq!(
                why,
                [
                    "adds `storage.buckets.position`, an identity column: PostgreSQL numbers every existing row, rewriting the table and its indexes under an ACCESS EXCLUSIVE lock",
                    "adds `storage.objects.kilobytes`, a stored generated column: PostgreSQL computes it for every existing row, rewriting the table and its indexes under an ACCESS EXCLUSIVE lock",
                ]
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_changed_generation_expression_recreates_the_column_and_what_depends_on_it() {
    let before = model::load_schema(
        "a",
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: integer\n      b: { type: integer, generated: \"a * 2\", unique: true }\n      c: { type: integer, nullable: true }\n    checks:\n      b_positive: \"b > 0\"\n    indexes:\n      - { columns: [a, b] }\n",
    )
    .expect("before");
    let after = model::load_schema(
        "b",
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: integer\n      b: { type: integer, generated: \"a * 3\", unique: true }\n      c: { type: integer, nullable: true, generated: \"a + 1\" }\n    checks:\n      b_positive: \"b > 0\"\n    indexes:\n      - { columns: [a, b] }\n",
    )
    .expect("after");
    match plan(
        &before,
        &after,
        &Default::default(),
        &PlanOptions::default(),
    ) {
        Err(PlanError::Destructive(why)) => assert_eq!(
            why,
            [
                "recomputes generated column `t.b` with its new expression, rewriting the table under an ACCESS EXCLUSIVE lock",
                "replaces every value of `t.c` by its generation expression, rewriting the table under an ACCESS EXCLUSIVE lock",
            ]
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let options = PlanOptions {
        allow_destructive: true,
        ..PlanOptions::default()
    };
    // Verified by replay: the unique constraint, the check and the index come back.
    let planned = plan(&before, &after, &Default::default(), &options).expect("plans");
    insta::assert_snapshot!("recreated_generated_columns", planned[0].up);
    // The same expression however written is no change.
    let same = model::load_schema(
        "c",
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: integer\n      b: { type: integer, generated: \"(a*2)\", unique: true }\n      c: { type: integer, nullable: true }\n    checks:\n      b_positive: \"b > 0\"\n    indexes:\n      - { columns: [a, b] }\n",
    )
    .expect("same");
    assert_eq!(
        plan(&before, &same, &Default::default(), &PlanOptions::default()),
        Ok(Vec::new())
    );
}
