//! Shapes of real histories through the migration planner: each step of `tests/fixtures/shapes/`
//! (extensions created, updated and dropped; foreign keys between comparable types and to unique
//! indexes; derived index names that make way for given ones) is planned from the replayed
//! previous ones and the SQL pinned. `tests/tests/shapes.rs` (crate `e2e`) runs the same plans
//! on PostgreSQL 15.

use e2e::fixtures::{Step, evolve};

#[test]
fn each_step_snapshot() {
    let steps = evolve("shapes");
    assert_eq!(steps.len(), 3);
    for Step {
        name, migrations, ..
    } in steps
    {
        insta::assert_snapshot!(name, e2e::fixtures::migrations_text(&migrations));
    }
}

#[test]
fn an_extension_dropped_needs_consent() {
    let steps = e2e::fixtures::fixture_steps("shapes");
    let before = model::load_schema("a", &steps[1].1).expect("loads");
    let after = model::load_schema("b", &steps[2].1).expect("loads");
    match codegen::migration::plan(
        &before,
        &after,
        &Default::default(),
        &codegen::migration::PlanOptions::default(),
    ) {
        Err(codegen::migration::PlanError::Destructive(why)) => assert_eq!(
            why,
            [
                "drops extension `uuid-ossp` with whatever it holds (the migration fails while anything else uses it)"
            ]
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
