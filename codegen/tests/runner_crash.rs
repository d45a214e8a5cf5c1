//! Crash safety of `codegen db upgrade` when the server itself crashes (`pg_ctl stop -m
//! immediate`) inside a `CREATE INDEX CONCURRENTLY` and between a statement and its progress
//! record: after the restart `codegen db check` names what is left, and the next upgrade ends in
//! the state an uninterrupted run reaches. One test only: it restarts this process's cluster.

mod common;

use std::time::Duration;

use common::runner::faults::{
    HISTORY, await_runner_waiting, final_state, gate_after_statement, reference_state,
};
use common::runner::{Project, blocker, wait};
use common::text;
use e2e::pg;

#[test]
fn a_server_crash_mid_migration_is_recovered_by_the_next_run() {
    let reference = reference_state("crash-reference");

    // Inside CREATE INDEX CONCURRENTLY (statement 2): an INVALID index survives the crash.
    let project = Project::new("crash-cic", &HISTORY[..1]);
    project.upgrade_ok(&[]);
    project.add(&HISTORY);
    let mut writer = blocker(&project.db, "writer");
    writer
        .batch_execute("BEGIN; UPDATE cases SET note = note WHERE id = 1;")
        .expect("writer starts");
    let runner = project.spawn(&["db", "upgrade"]);
    await_runner_waiting(&project.db, "CREATE INDEX CONCURRENTLY");
    pg::cluster().crash_and_restart();
    let output = wait(runner, Duration::from_secs(60));
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(2), "{printed}");
    assert!(printed.contains("was lost"), "{printed}");
    drop(writer);
    let check = project.run(&["db", "check"]);
    let report = text(&check);
    assert_eq!(check.status.code(), Some(1), "{report}");
    assert!(
        report.contains("index public.cases_status_idx on public.cases is INVALID")
            && report.contains("interrupted after 1 of its 4 statements"),
        "{report}"
    );
    project.upgrade_ok(&[]);
    assert_eq!(
        final_state(&project.db),
        reference,
        "after a crash inside CIC"
    );

    // After statement 3 ran, before its progress was recorded: it runs again on resume.
    let project = Project::new("crash-after", &HISTORY[..1]);
    project.upgrade_ok(&[]);
    project.add(&HISTORY);
    let gate = gate_after_statement(&project.db, 3);
    let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "60s"]);
    await_runner_waiting(&project.db, "UPDATE codegen.migration_progress");
    pg::cluster().crash_and_restart();
    let output = wait(runner, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    drop(gate); // its session died with the server; the trigger it installed is still there
    project
        .db
        .connect()
        .batch_execute(
            "DROP TRIGGER test_gate ON codegen.migration_progress; DROP FUNCTION codegen.test_gate();",
        )
        .expect("remove the gate");
    let check = project.run(&["db", "check"]);
    assert!(
        text(&check).contains("interrupted after 2 of its 4 statements"),
        "{}",
        text(&check)
    );
    project.upgrade_ok(&[]);
    assert_eq!(
        final_state(&project.db),
        reference,
        "after a crash after statement 3"
    );
    let check = project.run(&["db", "check"]);
    assert!(check.status.success(), "{}", text(&check));
}
