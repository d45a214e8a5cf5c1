//! The history the crash-safety tests interrupt, the faults they inflict, and the gates that
//! stop the runner at a chosen point.

use std::process::Child;
use std::time::{Duration, Instant};

use e2e::pg::TestDb;
use postgres::Client;

use super::{Project, blocker, output_of_killed, wait};

/// 0001 creates the tables; 0002 runs outside a transaction, four statements, each of which a
/// test interrupts; 0003 is transactional, its second statement waits on `files` when a test
/// holds it.
pub const HISTORY: [(&str, &str); 3] = [
    (
        "CREATE TYPE case_status AS ENUM ('open', 'closed');
CREATE TABLE cases (id integer PRIMARY KEY, status case_status NOT NULL, note text);
CREATE TABLE files (id integer PRIMARY KEY, case_id integer NOT NULL REFERENCES cases (id));
INSERT INTO cases SELECT g, 'open', 'note ' || g FROM generate_series(1, 500) g;
INSERT INTO files SELECT g, g FROM generate_series(1, 500) g;
",
        "DROP TABLE files;\nDROP TABLE cases;\nDROP TYPE case_status;\n",
    ),
    (
        "-- codegen:no-transaction
ALTER TYPE case_status ADD VALUE IF NOT EXISTS 'archived';
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_status_idx ON cases (status);
ALTER TABLE cases ADD COLUMN IF NOT EXISTS summary text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_note_idx ON cases (note);
",
        "-- codegen:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS cases_note_idx;
ALTER TABLE cases DROP COLUMN IF EXISTS summary;
DROP INDEX CONCURRENTLY IF EXISTS cases_status_idx;
",
    ),
    (
        "ALTER TABLE cases ADD COLUMN closed_at timestamptz;
ALTER TABLE files ADD COLUMN checked boolean NOT NULL DEFAULT false;
",
        "ALTER TABLE files DROP COLUMN checked;\nALTER TABLE cases DROP COLUMN closed_at;\n",
    ),
];

/// How a test interrupts the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `pg_terminate_backend` on the runner's session: the server ends it, the runner exits.
    TerminateConnection,
    /// SIGKILL to the runner process: its session lives on until the server notices.
    KillRunner,
}

impl Fault {
    /// Interrupts `runner`, whose session is `pid`; returns what the runner printed.
    pub fn inflict(self, db: &TestDb, runner: Child, pid: i32) -> String {
        match self {
            Fault::TerminateConnection => {
                let terminated: bool = db
                    .connect()
                    .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                    .expect("terminate the runner's session")
                    .get(0);
                assert!(terminated, "the runner's session {pid} was gone already");
                let output = wait(runner, Duration::from_secs(60));
                let printed = super::super::text(&output);
                assert_eq!(output.status.code(), Some(2), "{printed}");
                printed
            }
            Fault::KillRunner => {
                let mut runner = runner;
                runner.kill().expect("SIGKILL the runner");
                output_of_killed(runner)
            }
        }
    }
}

/// Holds the runner right after the `statement`-th statement of a no-transaction script ran and
/// before its progress is recorded (a trigger on the progress table waits for an advisory lock
/// this gate holds).
pub struct Gate {
    client: Client,
}

const GATE_KEY: i64 = 4242;

pub fn gate_after_statement(db: &TestDb, statement: i32) -> Gate {
    let mut client = blocker(db, "test-gate");
    client
        .batch_execute(&format!(
            "SELECT pg_advisory_lock({GATE_KEY});
             CREATE FUNCTION codegen.test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.statements_done = {statement} THEN PERFORM pg_advisory_xact_lock({GATE_KEY}); END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER test_gate BEFORE UPDATE ON codegen.migration_progress
                 FOR EACH ROW EXECUTE FUNCTION codegen.test_gate();"
        ))
        .expect("install the gate");
    Gate { client }
}

impl Gate {
    /// Lets a waiting session through and removes the gate.
    pub fn open(mut self) {
        self.client
            .batch_execute(&format!(
                "SELECT pg_advisory_unlock({GATE_KEY});
                 DROP TRIGGER test_gate ON codegen.migration_progress;
                 DROP FUNCTION codegen.test_gate();"
            ))
            .expect("open the gate");
    }
}

/// Waits until a session runs a statement starting with `prefix` and waits for a lock; returns
/// its pid.
pub fn await_runner_waiting(db: &TestDb, prefix: &str) -> i32 {
    let mut client = db.connect();
    let started = Instant::now();
    loop {
        let row = client
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()
                    AND starts_with(query, $1) AND wait_event_type = 'Lock'",
                &[&prefix],
            )
            .expect("read pg_stat_activity");
        if let Some(row) = row {
            return row.get(0);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let sessions: Vec<String> = client
                .query(
                    "SELECT format('%s %s %s/%s: %s', pid, state, wait_event_type, wait_event, left(query, 80))
                       FROM pg_stat_activity WHERE datname = current_database()",
                    &[],
                )
                .expect("read pg_stat_activity")
                .iter()
                .map(|r| r.get(0))
                .collect();
            panic!(
                "no session ran `{prefix}...` waiting for a lock within 60s; sessions:\n{}",
                sessions.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What an applied history leaves: enum labels, indexes (with validity), columns, rows, the
/// runner's records, as sorted lines.
pub fn final_state(db: &TestDb) -> String {
    db.connect()
        .query_one(
            "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
                SELECT 'enum ' || t.typname || ': ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid GROUP BY t.typname
                UNION ALL
                SELECT 'index ' || CASE WHEN i.indisvalid THEN 'valid ' ELSE 'INVALID ' END || pg_get_indexdef(i.indexrelid)
                  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE c.relnamespace = 'public'::regnamespace
                UNION ALL
                SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type
                  FROM information_schema.columns WHERE table_schema = 'public'
                UNION ALL
                SELECT 'rows cases ' || count(*) FROM cases
                UNION ALL
                SELECT 'migration ' || id FROM codegen.migrations
                UNION ALL
                SELECT 'progress ' || id || ' ' || direction FROM codegen.migration_progress
            ) s(x)",
            &[],
        )
        .expect("read the final state")
        .get(0)
}

/// The state an uninterrupted run of [`HISTORY`] reaches.
pub fn reference_state(name: &str) -> String {
    let project = Project::new(name, &HISTORY);
    project.upgrade_ok(&[]);
    final_state(&project.db)
}
