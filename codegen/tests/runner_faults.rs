//! Crash safety of `codegen db upgrade`: the runner killed (`kill -9`) or its connection
//! terminated at every statement of a no-transaction migration (after the statement, before its
//! progress is recorded; and inside a `CREATE INDEX CONCURRENTLY`, which leaves an INVALID index),
//! and inside a transactional one. After each fault `codegen db check` names what is left, and
//! the next `codegen db upgrade` ends in exactly the state an uninterrupted run reaches. The
//! server-crash case lives in `runner_crash.rs` (it restarts the cluster).

mod common;

use std::time::Duration;

use common::runner::faults::{
    Fault, HISTORY, await_runner_waiting, final_state, gate_after_statement, reference_state,
};
use common::runner::{Project, blocker};
use common::text;

#[test]
fn a_fault_after_any_statement_of_a_no_transaction_migration_is_resumed() {
    let reference = reference_state("faults-reference");
    for statement in 1..=4 {
        for fault in [Fault::TerminateConnection, Fault::KillRunner] {
            let project = Project::new(
                &format!("faults-after-{statement}-{fault:?}"),
                &HISTORY[..1],
            );
            project.upgrade_ok(&[]);
            project.add(&HISTORY);
            let gate = gate_after_statement(&project.db, statement);
            // A long lock timeout, so the runner waits at the gate rather than giving up on it.
            let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "60s"]);
            let pid = await_runner_waiting(&project.db, "UPDATE codegen.migration_progress");
            let printed = fault.inflict(&project.db, runner, pid);
            gate.open();
            let check = project.run(&["db", "check"]);
            if fault == Fault::TerminateConnection {
                assert_eq!(check.status.code(), Some(1), "{}", text(&check));
                assert!(
                    text(&check).contains(&format!(
                        "0002_step.up.sql was interrupted after {} of its 4 statements",
                        statement - 1
                    )),
                    "{}",
                    text(&check)
                );
                assert!(
                    printed.contains("the connection to") && printed.contains("was lost"),
                    "{printed}"
                );
            }
            let output = project.upgrade_ok(&[]);
            assert_eq!(
                final_state(&project.db),
                reference,
                "after {fault:?} after statement {statement}:\n{}",
                text(&output)
            );
            let check = project.run(&["db", "check"]);
            assert!(check.status.success(), "{}", text(&check));
        }
    }
}

#[test]
fn a_fault_inside_create_index_concurrently_leaves_an_invalid_index_that_is_rebuilt() {
    let reference = reference_state("faults-cic-reference");
    for (statement, index) in [(2, "cases_status_idx"), (4, "cases_note_idx")] {
        for fault in [Fault::TerminateConnection, Fault::KillRunner] {
            let project = Project::new(&format!("faults-cic-{statement}-{fault:?}"), &HISTORY[..1]);
            project.upgrade_ok(&[]);
            project.add(&HISTORY);
            // Hold the runner before the statement, then open a write transaction on `cases`:
            // CREATE INDEX CONCURRENTLY enters the index in the catalog (INVALID) and waits for
            // that transaction to end.
            let gate = gate_after_statement(&project.db, statement - 1);
            let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "60s"]);
            await_runner_waiting(&project.db, "UPDATE codegen.migration_progress");
            let mut writer = blocker(&project.db, "writer");
            writer
                .batch_execute("BEGIN; UPDATE cases SET note = note WHERE id = 1;")
                .expect("writer starts");
            gate.open();
            let pid = await_runner_waiting(&project.db, "CREATE INDEX CONCURRENTLY");
            let printed = fault.inflict(&project.db, runner, pid);
            if fault == Fault::TerminateConnection {
                let check = project.run(&["db", "check"]);
                let report = text(&check);
                assert_eq!(check.status.code(), Some(1), "{report}");
                assert!(
                    report.contains(&format!("index public.{index} on public.cases is INVALID"))
                        && report.contains(&format!(
                            "interrupted after {} of its 4 statements",
                            statement - 1
                        )),
                    "{report}\n{printed}"
                );
            }
            writer.batch_execute("COMMIT").expect("writer ends");
            let output = project.upgrade_ok(&[]);
            if fault == Fault::TerminateConnection {
                assert!(
                    text(&output).contains(&format!(
                        "index public.{index} is INVALID, left by an interrupted CREATE INDEX CONCURRENTLY: dropping it to build it again"
                    )),
                    "{}",
                    text(&output)
                );
            }
            assert_eq!(
                final_state(&project.db),
                reference,
                "after {fault:?} inside statement {statement}:\n{}",
                text(&output)
            );
        }
    }
}

#[test]
fn a_fault_inside_a_transactional_migration_applies_nothing_of_it() {
    let reference = reference_state("faults-tx-reference");
    for fault in [Fault::TerminateConnection, Fault::KillRunner] {
        let project = Project::new(&format!("faults-tx-{fault:?}"), &HISTORY[..2]);
        project.upgrade_ok(&[]);
        project.add(&HISTORY);
        // The migration's first statement succeeds; its second waits for `files`.
        let mut reader = blocker(&project.db, "reader");
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM files;")
            .expect("reader starts");
        let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "60s"]);
        let pid = await_runner_waiting(&project.db, "ALTER TABLE cases ADD COLUMN closed_at");
        fault.inflict(&project.db, runner, pid);
        reader.batch_execute("COMMIT").expect("reader ends");
        // A killed runner's backend may still finish its wait; give it time to roll back.
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            !common::runner::column_exists(&project.db, "cases", "closed_at"),
            "{fault:?}: half of a transactional migration is applied"
        );
        assert_eq!(
            common::runner::recorded(&project.db),
            ["0001_step", "0002_step"]
        );
        project.upgrade_ok(&[]);
        assert_eq!(final_state(&project.db), reference, "after {fault:?}");
    }
}

#[test]
fn a_migration_edited_after_a_partial_apply_is_refused_with_what_to_do() {
    let project = Project::new("faults-edited", &HISTORY[..1]);
    project.upgrade_ok(&[]);
    project.add(&HISTORY);
    let gate = gate_after_statement(&project.db, 2);
    let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "60s"]);
    let pid = await_runner_waiting(&project.db, "UPDATE codegen.migration_progress");
    Fault::TerminateConnection.inflict(&project.db, runner, pid);
    gate.open();
    let mut edited = HISTORY;
    edited[1].0 = "-- codegen:no-transaction\nALTER TYPE case_status ADD VALUE IF NOT EXISTS 'archived';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS cases_status_idx ON cases (status, id);\n";
    project.add(&edited);
    let output = project.run(&["db", "upgrade"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains(
            "0002_step.up.sql was edited after an interrupted run applied 1 of its 4 statements"
        ) && all.contains("Restore the file as it was")
            && all.contains("DELETE FROM codegen.migration_progress WHERE number = 2"),
        "{all}"
    );
    project.add(&HISTORY);
    project.upgrade_ok(&[]);
}
