//! `model::locks` against PostgreSQL 15 itself: each statement of a representative set runs in a
//! transaction of its own on a throwaway database, and the relation locks its backend then
//! holds on the tables that existed before it (`pg_locks`, every mode a table holds combined
//! into the one mode that conflicts with the same modes) must equal what `model::locks`
//! computes from the replayed schema, table for table and mode for mode. The transaction is
//! rolled back, so every statement sees the same schema.
//!
//! Statements that cannot run in a transaction block (`CONCURRENTLY`, `VACUUM`) are covered by
//! the unit tests only.

use std::collections::BTreeMap;

use e2e::pg;
use model::Catalog;
use model::locks::{LockMode, statement_locks};
use model::replay::{Session, parse_script};

const SCHEMA: &str = "
CREATE TABLE cases (id bigint PRIMARY KEY, title text NOT NULL, note varchar(20));
CREATE UNIQUE INDEX cases_title_uidx ON cases (title);
CREATE TABLE files (id bigint PRIMARY KEY, case_id bigint REFERENCES cases (id), name text);
CREATE INDEX files_name_idx ON files (name);
CREATE TABLE notes (
    id bigint PRIMARY KEY,
    case_id bigint REFERENCES cases (id) ON DELETE CASCADE,
    file_id bigint,
    body text
);
ALTER TABLE notes ADD CONSTRAINT notes_file_id_fkey FOREIGN KEY (file_id) REFERENCES files (id) NOT VALID;
CREATE TABLE events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 (id bigint, at timestamptz NOT NULL);
CREATE SCHEMA audit;
CREATE TABLE audit.log (id bigint, at timestamptz);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER cases_touch BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW open_cases AS SELECT title FROM cases;
INSERT INTO cases VALUES (1, 'one', 'a'), (2, 'two', 'b');
INSERT INTO files VALUES (1, 1, 'f');
INSERT INTO notes VALUES (1, 1, 1, 'n'), (2, 2, NULL, 'm');
INSERT INTO events VALUES (1, '2024-05-01');
INSERT INTO audit.log VALUES (1, now());
";

const STATEMENTS: &[&str] = &[
    // ALTER TABLE, subcommand by subcommand.
    "ALTER TABLE cases ADD COLUMN due date",
    "ALTER TABLE cases ADD COLUMN token uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE cases ADD COLUMN n bigserial",
    "ALTER TABLE cases ALTER COLUMN note SET NOT NULL",
    "ALTER TABLE cases ALTER COLUMN note DROP NOT NULL",
    "ALTER TABLE cases ALTER COLUMN note SET DEFAULT 'x'",
    "ALTER TABLE cases ALTER COLUMN note DROP DEFAULT",
    "ALTER TABLE cases ALTER COLUMN note SET STATISTICS 500",
    "ALTER TABLE cases ALTER COLUMN note SET (n_distinct = 100)",
    "ALTER TABLE cases ALTER COLUMN note SET STORAGE EXTERNAL",
    "ALTER TABLE cases ALTER COLUMN note SET COMPRESSION pglz",
    "ALTER TABLE cases ALTER COLUMN note TYPE varchar(40)",
    "ALTER TABLE cases ALTER COLUMN note TYPE varchar(10)",
    "ALTER TABLE cases ALTER COLUMN note TYPE integer USING length(note)",
    "ALTER TABLE cases SET (fillfactor = 70)",
    "ALTER TABLE cases RESET (fillfactor)",
    "ALTER TABLE cases SET (autovacuum_enabled = false)",
    "ALTER TABLE cases ADD CONSTRAINT title_len CHECK (length(title) < 100)",
    "ALTER TABLE cases ADD CONSTRAINT title_len CHECK (length(title) < 100) NOT VALID",
    "ALTER TABLE cases ADD CONSTRAINT cases_note_key UNIQUE (note)",
    "ALTER TABLE cases ADD CONSTRAINT cases_title_key UNIQUE USING INDEX cases_title_uidx",
    "ALTER TABLE cases DISABLE TRIGGER ALL",
    "ALTER TABLE cases ENABLE TRIGGER cases_touch",
    "ALTER TABLE cases OWNER TO locks_role",
    "ALTER TABLE cases ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE cases REPLICA IDENTITY FULL",
    "ALTER TABLE cases CLUSTER ON cases_pkey",
    "ALTER TABLE cases SET WITHOUT CLUSTER",
    "ALTER TABLE cases ALTER COLUMN note SET STATISTICS 10, ADD COLUMN x int",
    "ALTER TABLE files ADD CONSTRAINT f FOREIGN KEY (case_id) REFERENCES cases (id)",
    "ALTER TABLE files ADD CONSTRAINT f FOREIGN KEY (case_id) REFERENCES cases (id) NOT VALID",
    "ALTER TABLE notes VALIDATE CONSTRAINT notes_file_id_fkey",
    "ALTER TABLE files DROP CONSTRAINT files_case_id_fkey",
    "ALTER TABLE files DROP COLUMN case_id",
    "ALTER TABLE files DROP COLUMN name",
    "ALTER TABLE files ALTER COLUMN case_id TYPE integer",
    "ALTER TABLE audit.log ADD COLUMN case_id bigint REFERENCES cases (id)",
    "ALTER TABLE events ADD COLUMN kind text",
    "ALTER TABLE events ALTER COLUMN id SET NOT NULL",
    "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "ALTER TABLE events DETACH PARTITION events_2024",
    "ALTER TABLE events ALTER COLUMN id SET STATISTICS 10",
    "ALTER TABLE ONLY events ALTER COLUMN id SET STATISTICS 10",
    "ALTER TABLE events OWNER TO locks_role",
    "ALTER TABLE cases ALTER COLUMN note SET DATA TYPE text",
    "ALTER TABLE cases ALTER COLUMN id TYPE integer",
    "ALTER TABLE cases ADD COLUMN g bigint GENERATED ALWAYS AS (id * 2) STORED",
    "ALTER TABLE cases ADD COLUMN ident integer GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE audit.log SET UNLOGGED",
    "ALTER TABLE notes DROP CONSTRAINT notes_file_id_fkey",
    "ALTER TABLE cases DROP CONSTRAINT cases_pkey CASCADE",
    // Other DDL.
    "CREATE TABLE comments (id bigint, case_id bigint REFERENCES cases (id))",
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "CREATE TABLE cases_copy (LIKE cases INCLUDING ALL)",
    "CREATE TABLE audit.log_2 () INHERITS (audit.log)",
    "CREATE TABLE case_titles AS SELECT title FROM cases",
    "CREATE VIEW titles AS SELECT title FROM cases",
    "CREATE INDEX ON cases (note)",
    "CREATE UNIQUE INDEX ON files (name)",
    "CREATE INDEX ON events (at)",
    "DROP INDEX files_name_idx",
    "DROP TABLE notes",
    "DROP TABLE files CASCADE",
    "DROP TABLE cases CASCADE",
    "DROP TABLE events",
    "DROP TABLE audit.log, notes",
    "ALTER TABLE cases RENAME TO matters",
    "ALTER TABLE cases RENAME COLUMN note TO remark",
    "ALTER TABLE files RENAME CONSTRAINT files_case_id_fkey TO files_case_fkey",
    "ALTER INDEX files_name_idx RENAME TO files_by_name",
    "ALTER TABLE audit.log SET SCHEMA public",
    "TRUNCATE notes",
    "TRUNCATE cases CASCADE",
    "TRUNCATE events",
    "REINDEX TABLE cases",
    "REINDEX INDEX files_name_idx",
    "ANALYZE files",
    "CLUSTER cases USING cases_pkey",
    "CREATE TRIGGER t BEFORE UPDATE ON files FOR EACH ROW EXECUTE FUNCTION touch()",
    "DROP TRIGGER cases_touch ON cases",
    "ALTER TRIGGER cases_touch ON cases RENAME TO cases_touched",
    "COMMENT ON TABLE cases IS 'x'",
    "COMMENT ON COLUMN audit.log.id IS 'x'",
    "COMMENT ON CONSTRAINT files_case_id_fkey ON files IS 'x'",
    "COMMENT ON INDEX files_name_idx IS 'x'",
    "COMMENT ON TRIGGER cases_touch ON cases IS 'x'",
    "GRANT SELECT ON cases TO locks_role",
    "REVOKE SELECT ON cases FROM locks_role",
    "LOCK TABLE cases IN SHARE MODE",
    "LOCK TABLE events IN ROW EXCLUSIVE MODE",
    "CREATE POLICY p ON cases USING (true)",
    // Queries and DML.
    "SELECT * FROM cases JOIN files ON files.case_id = cases.id",
    "WITH c AS (SELECT id FROM cases) SELECT * FROM c",
    "SELECT * FROM cases FOR UPDATE",
    "INSERT INTO files (id, case_id, name) VALUES (10, 1, 'x')",
    "UPDATE files SET name = 'y'",
    "DELETE FROM cases WHERE id = 2",
    "UPDATE audit.log SET at = now() WHERE id IN (SELECT id FROM cases)",
    "SELECT * FROM events",
    "DELETE FROM events",
    "INSERT INTO notes (id, body) SELECT id + 10, title FROM cases",
];

/// Every user table: oid -> name as the model displays it.
fn tables(client: &mut postgres::Client) -> BTreeMap<u32, String> {
    client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|r| {
            let schema: String = r.get(1);
            let name: String = r.get(2);
            (
                r.get::<_, u32>(0),
                model::display_name(&schema, &name).into_owned(),
            )
        })
        .collect()
}

#[test]
fn model_locks_equal_pg_locks() {
    let db = pg::cluster().create_database("locks");
    let mut client = db.connect();
    client
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE locks_role; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .expect("role");
    client.batch_execute(SCHEMA).expect("schema");
    let existing = tables(&mut client);

    let mut catalog = Catalog::default();
    let mut session = Session::lenient(vec!["public".to_string()]);
    for st in parse_script(SCHEMA).expect("schema parses") {
        session
            .apply(&mut catalog, &st.node)
            .expect("schema replays");
    }

    let mut mismatches = Vec::new();
    let mut locking = 0;
    for sql in STATEMENTS {
        let statements = parse_script(sql).expect("parses");
        let expected: BTreeMap<String, LockMode> =
            statement_locks(&statements[0].node, &catalog, &session)
                .into_iter()
                .map(|l| (l.table.display().into_owned(), l.mode))
                .collect();

        let mut tx = client.transaction().expect("begin");
        if let Err(e) = tx.batch_execute(sql) {
            let e = e
                .as_db_error()
                .map_or(e.to_string(), |d| d.message().to_string());
            mismatches.push(format!("{sql}\n  fails: {e}"));
            continue;
        }
        let rows = tx
            .query(
                "SELECT relation, mode FROM pg_locks
                 WHERE locktype = 'relation' AND pid = pg_backend_pid()
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .expect("pg_locks");
        tx.rollback().expect("rollback");
        let mut actual: BTreeMap<String, LockMode> = BTreeMap::new();
        for row in rows {
            let oid: u32 = row.get(0);
            let mode: String = row.get(1);
            let Some(table) = existing.get(&oid) else {
                continue;
            };
            let mode = LockMode::from_pg_locks_name(&mode)
                .unwrap_or_else(|| panic!("unknown mode {mode}"));
            actual
                .entry(table.clone())
                .and_modify(|m| *m = m.combine(mode))
                .or_insert(mode);
        }
        locking += usize::from(!actual.is_empty());
        if expected != actual {
            mismatches.push(format!(
                "{sql}\n  model:     {expected:?}\n  pg_locks:  {actual:?}"
            ));
        }
    }
    eprintln!(
        "{} statements compared with pg_locks ({locking} lock existing tables), {} differ",
        STATEMENTS.len(),
        mismatches.len()
    );
    // The comparison is not vacuous: nearly every statement locks a table that existed.
    assert!(locking + 5 >= STATEMENTS.len(), "{locking}");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
