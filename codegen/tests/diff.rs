//! The incremental path: a schema evolves through every kind of change (fixtures in
//! `tests/fixtures/evolution/`), and each step becomes the next migrations. Every plan checks
//! itself by replay (up reaches the next state, down restores the previous one); these tests pin
//! the SQL and the refusals.

use codegen::migration::{Migration, PlanError, PlanOptions, plan};
use model::replay::replay_script;
use model::{Catalog, RenameHints};

use e2e::fixtures::{Step, fixture_steps};

fn steps() -> Vec<(String, String)> {
    fixture_steps("evolution")
}

fn load(name: &str, yaml: &str) -> (Catalog, RenameHints) {
    model::load_schema_with_renames(name, yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// Plans every step from the replayed previous ones, as `codegen` does.
fn evolve() -> Vec<(String, Vec<Migration>)> {
    e2e::fixtures::evolve("evolution")
        .into_iter()
        .map(
            |Step {
                 name, migrations, ..
             }| {
                assert!(!migrations.is_empty(), "{name} changes nothing");
                (name, migrations)
            },
        )
        .collect()
}

#[test]
fn each_step_snapshot() {
    for (name, migrations) in evolve() {
        insta::assert_snapshot!(name, e2e::fixtures::migrations_text(&migrations));
    }
}

#[test]
fn planning_is_deterministic() {
    assert_eq!(evolve(), evolve());
}

#[test]
fn enum_values_are_committed_before_use_and_indexes_built_concurrently() {
    let all = evolve();
    let step = |n: &str| {
        &all.iter()
            .find(|(name, _)| name.starts_with(n))
            .expect("step")
            .1
    };
    let enums = step("03");
    assert_eq!(enums.len(), 1);
    assert!(
        enums[0]
            .up
            .contains("ALTER TYPE status ADD VALUE 'pending' BEFORE 'closed';"),
        "{}",
        enums[0].up
    );
    assert!(
        enums[0]
            .up
            .contains("ALTER TYPE status ADD VALUE 'refunded' AFTER 'closed';"),
        "{}",
        enums[0].up
    );
    let defaults = step("05");
    // The default moves to a label added by an earlier, committed migration: no unsafe use.
    assert!(defaults.iter().all(|m| !m.up.contains("ADD VALUE")));
    let indexes = step("06");
    let ids: Vec<&str> = indexes.iter().map(|m| m.id.as_str()).collect();
    assert!(
        ids.last().is_some_and(|id| id.ends_with("_indexes")),
        "{ids:?}"
    );
    let concurrent = indexes.last().expect("indexes");
    assert!(!concurrent.transactional);
    assert!(concurrent.up.starts_with(migrate::NO_TRANSACTION_MARKER));
    assert!(
        concurrent
            .up
            .contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_shipped_at_idx"),
        "{}",
        concurrent.up
    );
    let main = &indexes[0];
    assert!(
        main.up
            .contains("NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_handled_by_fkey;"),
        "{}",
        main.up
    );
}

#[test]
fn renames_come_only_from_hints_and_keep_the_data() {
    let all = evolve();
    let renames = &all
        .iter()
        .find(|(name, _)| name.starts_with("07"))
        .expect("step")
        .1;
    let up = &renames[0].up;
    assert!(up.contains("ALTER TABLE invoices RENAME TO bills;"), "{up}");
    assert!(
        up.contains("ALTER TABLE orders RENAME COLUMN note TO remark;"),
        "{up}"
    );
    assert!(
        !up.contains("DROP"),
        "a rename must not drop anything:\n{up}"
    );

    // Without the hint the same edit is a drop plus an add: refused as destructive.
    let (before, _) = load("06", &steps()[6].1);
    let (after, _) = load("07", &steps()[7].1);
    let options = PlanOptions {
        first_number: 1,
        ..Default::default()
    };
    match plan(&before, &after, &RenameHints::default(), &options) {
        Err(PlanError::Destructive(why)) => {
            assert!(
                why.iter().any(|w| w.contains("drops table `invoices`")),
                "{why:?}"
            );
            assert!(
                why.iter().any(|w| w.contains("drops column `orders.note`")),
                "{why:?}"
            );
        }
        other => panic!("expected a destructive refusal, got {other:?}"),
    }
}

#[test]
fn hints_that_cannot_be_honoured_are_errors() {
    let (before, _) = load("06", &steps()[6].1);
    let (after, _) = load("07", &steps()[7].1);
    let bad = RenameHints {
        tables: vec![("nosuch".into(), "bills".into())],
        columns: vec![],
    };
    match plan(&before, &after, &bad, &PlanOptions::default()) {
        Err(PlanError::Refused(why)) => assert!(why[0].contains("no table `nosuch`"), "{why:?}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn destructive_changes_are_listed_and_refused_by_default() {
    let all = steps();
    let mut state = Catalog::default();
    for (name, yaml) in &all[..9] {
        let (target, hints) = load(name, yaml);
        for m in plan(
            &state,
            &target,
            &hints,
            &PlanOptions {
                allow_destructive: true,
                ..Default::default()
            },
        )
        .expect("plan")
        {
            replay_script(&mut state, &m.up).expect("replay");
        }
    }
    let (last, hints) = load(&all[9].0, &all[9].1);
    let err = plan(&state, &last, &hints, &PlanOptions::default()).expect_err("destructive");
    let text = err.to_string();
    for expected in [
        "drops table `bills`",
        "drops column `orders.shipped_at`",
        "`customers.email` from `text` to `varchar(320)`",
        "--allow-destructive",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn a_new_not_null_column_without_default_is_refused() {
    let (before, _) = load("00", &steps()[0].1);
    let edited = steps()[0].1.replace(
        "score: { type: integer, default: \"0\" }",
        "score: { type: integer, default: \"0\" }\n      level: integer",
    );
    let (after, _) = load("edit", &edited);
    match plan(
        &before,
        &after,
        &RenameHints::default(),
        &PlanOptions::default(),
    ) {
        Err(PlanError::Refused(why)) => assert!(
            why[0].contains("`customers.level` is NOT NULL without a default"),
            "{why:?}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
