//! Table-driven: a statement against a small schema, and the locks it takes as
//! `table MODE work` lines.

use expect_test::{Expect, expect};

use super::*;
use crate::replay::Session;

const SCHEMA: &str = "
CREATE TABLE cases (id bigint PRIMARY KEY, title text, note varchar(20));
CREATE TABLE files (id bigint PRIMARY KEY, case_id bigint REFERENCES cases (id), name text);
CREATE TABLE notes (id bigint PRIMARY KEY, case_id bigint REFERENCES cases (id) ON DELETE CASCADE);
CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX files_name_idx ON files (name);
CREATE SCHEMA audit;
CREATE TABLE audit.log (id bigint);
";

fn locks_of(sql: &str) -> String {
    let mut catalog = Catalog::default();
    let mut session = Session::lenient(vec!["public".to_string()]);
    for st in parse_script(SCHEMA).expect("schema parses") {
        session
            .apply(&mut catalog, &st.node)
            .expect("schema applies");
    }
    let statements = parse_script(sql).expect("statement parses");
    let [st] = statements.as_slice() else {
        panic!("one statement: {sql}");
    };
    statement_locks(&st.node, &catalog, &session)
        .iter()
        .map(|l| format!("{} {} {:?}\n", l.table.display(), l.mode, l.work))
        .collect()
}

fn check(sql: &str, expect: Expect) {
    expect.assert_eq(&locks_of(sql));
}

/// Statements that take the same locks, `expect`.
fn check_each(sqls: &[&str], expect: Expect) {
    let first = locks_of(sqls[0]);
    for sql in &sqls[1..] {
        assert_eq!(locks_of(sql), first, "{sql} locks other than {}", sqls[0]);
    }
    expect.assert_eq(&first);
}

#[test]
fn alter_table_subcommands() {
    check(
        "ALTER TABLE cases ADD COLUMN due date",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ADD COLUMN token uuid DEFAULT gen_random_uuid()",
        expect![[r#"
            cases ACCESS EXCLUSIVE Rewrite
        "#]],
    );
    check(
        "ALTER TABLE cases ADD COLUMN n serial",
        expect![[r#"
            cases ACCESS EXCLUSIVE Rewrite
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN title SET NOT NULL",
        expect![[r#"
            cases ACCESS EXCLUSIVE Scan
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN title SET DEFAULT 'x'",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN title SET STATISTICS 500",
        expect![[r#"
            cases SHARE UPDATE EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN title SET (n_distinct = 100)",
        expect![[r#"
            cases SHARE UPDATE EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases SET (fillfactor = 70)",
        expect![[r#"
            cases SHARE UPDATE EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ADD CONSTRAINT title_len CHECK (length(title) < 100)",
        expect![[r#"
            cases ACCESS EXCLUSIVE Scan
        "#]],
    );
    check(
        "ALTER TABLE cases ADD CONSTRAINT title_len CHECK (length(title) < 100) NOT VALID",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ADD CONSTRAINT cases_title_key UNIQUE (title)",
        expect![[r#"
            cases ACCESS EXCLUSIVE IndexBuild
        "#]],
    );
    check(
        "ALTER TABLE files ADD CONSTRAINT files_name_key UNIQUE USING INDEX files_name_idx",
        expect![[r#"
            files ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE notes DISABLE TRIGGER ALL",
        expect![[r#"
            notes SHARE ROW EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases OWNER TO someone",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN note TYPE varchar(40)",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN note TYPE varchar(10)",
        expect![[r#"
            cases ACCESS EXCLUSIVE Scan
        "#]],
    );
    check(
        "ALTER TABLE cases ALTER COLUMN title TYPE integer USING title::integer",
        expect![[r#"
            cases ACCESS EXCLUSIVE Rewrite
        "#]],
    );
    // The strongest subcommand wins.
    check(
        "ALTER TABLE cases ALTER COLUMN title SET STATISTICS 10, ADD COLUMN x int",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
}

#[test]
fn foreign_keys_lock_both_tables() {
    check(
        "ALTER TABLE files ADD CONSTRAINT f FOREIGN KEY (case_id) REFERENCES cases (id)",
        expect![[r#"
            files SHARE ROW EXCLUSIVE Scan
            cases SHARE ROW EXCLUSIVE Scan
        "#]],
    );
    check(
        "ALTER TABLE files ADD CONSTRAINT f FOREIGN KEY (case_id) REFERENCES cases (id) NOT VALID",
        expect![[r#"
            files SHARE ROW EXCLUSIVE Catalog
            cases SHARE ROW EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE files VALIDATE CONSTRAINT files_case_id_fkey",
        expect![[r#"
            files SHARE UPDATE EXCLUSIVE Scan
            cases ROW SHARE Scan
        "#]],
    );
    check(
        "ALTER TABLE files DROP CONSTRAINT files_case_id_fkey",
        expect![[r#"
            files ACCESS EXCLUSIVE Catalog
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE files DROP COLUMN case_id",
        expect![[r#"
            files ACCESS EXCLUSIVE Catalog
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE audit.log ADD COLUMN case_id bigint REFERENCES cases (id)",
        expect![[r#"
            audit.log ACCESS EXCLUSIVE Scan
            cases SHARE ROW EXCLUSIVE Scan
        "#]],
    );
    check(
        "CREATE TABLE comments (id bigint, case_id bigint REFERENCES cases (id))",
        expect![[r#"
            cases SHARE ROW EXCLUSIVE Catalog
        "#]],
    );
}

#[test]
fn indexes() {
    check(
        "CREATE INDEX ON cases (title)",
        expect![[r#"
            cases SHARE IndexBuild
        "#]],
    );
    check(
        "CREATE INDEX CONCURRENTLY ON cases (title)",
        expect![[r#"
            cases SHARE UPDATE EXCLUSIVE IndexBuild
        "#]],
    );
    check(
        "CREATE INDEX ON events (at)",
        expect![[r#"
            events SHARE IndexBuild
            events_2024 SHARE IndexBuild
        "#]],
    );
    check(
        "DROP INDEX files_name_idx",
        expect![[r#"
            files ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "DROP INDEX CONCURRENTLY files_name_idx",
        expect![[r#"
            files SHARE UPDATE EXCLUSIVE Catalog
        "#]],
    );
    check(
        "REINDEX TABLE cases",
        expect![[r#"
            cases SHARE IndexBuild
        "#]],
    );
    check(
        "REINDEX INDEX CONCURRENTLY files_name_idx",
        expect![[r#"
            files SHARE UPDATE EXCLUSIVE IndexBuild
        "#]],
    );
}

#[test]
fn drops_renames_and_truncate() {
    check(
        "DROP TABLE files",
        expect![[r#"
            files ACCESS EXCLUSIVE Catalog
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    // A cascade reaches the tables whose foreign keys point at `cases`, dropped or emptied alike.
    check_each(
        &["DROP TABLE cases CASCADE", "TRUNCATE cases CASCADE"],
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
            files ACCESS EXCLUSIVE Catalog
            notes ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "DROP TABLE events",
        expect![[r#"
            events ACCESS EXCLUSIVE Catalog
            events_2024 ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases RENAME TO matters",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE cases RENAME COLUMN title TO subject",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER INDEX files_name_idx RENAME TO files_by_name",
        expect![""],
    );
    check(
        "TRUNCATE files, notes",
        expect![[r#"
            files ACCESS EXCLUSIVE Catalog
            notes ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "ALTER TABLE audit.log SET SCHEMA public",
        expect![[r#"
            audit.log ACCESS EXCLUSIVE Catalog
        "#]],
    );
}

#[test]
fn maintenance_triggers_comments_and_grants() {
    check(
        "VACUUM cases",
        expect![[r#"
            cases SHARE UPDATE EXCLUSIVE Scan
        "#]],
    );
    check(
        "VACUUM FULL cases",
        expect![[r#"
            cases ACCESS EXCLUSIVE Rewrite
        "#]],
    );
    check(
        "ANALYZE files",
        expect![[r#"
            files SHARE UPDATE EXCLUSIVE Scan
        "#]],
    );
    check(
        "CLUSTER cases USING cases_pkey",
        expect![[r#"
            cases ACCESS EXCLUSIVE Rewrite
        "#]],
    );
    check(
        "CREATE TRIGGER t BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION f()",
        expect![[r#"
            cases SHARE ROW EXCLUSIVE Catalog
        "#]],
    );
    check(
        "DROP TRIGGER t ON cases",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
    check(
        "COMMENT ON TABLE cases IS 'x'",
        expect![[r#"
            cases SHARE UPDATE EXCLUSIVE Catalog
        "#]],
    );
    check(
        "COMMENT ON COLUMN audit.log.id IS 'x'",
        expect![[r#"
            audit.log SHARE UPDATE EXCLUSIVE Catalog
        "#]],
    );
    check("GRANT SELECT ON cases TO someone", expect![""]);
    check(
        "LOCK TABLE cases IN SHARE MODE",
        expect![[r#"
            cases SHARE Catalog
        "#]],
    );
    check(
        "CREATE POLICY p ON cases USING (true)",
        expect![[r#"
            cases ACCESS EXCLUSIVE Catalog
        "#]],
    );
}

#[test]
fn dml_and_queries() {
    check(
        "SELECT * FROM cases JOIN files ON files.case_id = cases.id",
        expect![[r#"
            cases ACCESS SHARE Rows
            files ACCESS SHARE Rows
        "#]],
    );
    check(
        "WITH c AS (SELECT id FROM cases) SELECT * FROM c",
        expect![[r#"
            cases ACCESS SHARE Rows
        "#]],
    );
    check(
        "SELECT * FROM cases FOR UPDATE",
        expect![[r#"
            cases ROW SHARE Rows
        "#]],
    );
    check(
        "INSERT INTO files (id, case_id) VALUES (1, 1)",
        expect![[r#"
            files ROW EXCLUSIVE Rows
            cases ROW SHARE Rows
        "#]],
    );
    check(
        "UPDATE files SET name = 'x'",
        expect![[r#"
            files ROW EXCLUSIVE Rows
        "#]],
    );
    check(
        "DELETE FROM cases WHERE id = 1",
        expect![[r#"
            cases ROW EXCLUSIVE Rows
            files ROW SHARE Rows
            notes ROW EXCLUSIVE Rows
        "#]],
    );
    check(
        "CREATE VIEW v AS SELECT * FROM cases",
        expect![[r#"
            cases ACCESS SHARE Rows
        "#]],
    );
    check("SET lock_timeout = '1s'", expect![""]);
}

#[test]
fn modes_conflicts_and_blocks() {
    use LockMode::*;
    assert_eq!(AccessShare.blocks(), Blocks::Nothing);
    assert_eq!(RowExclusive.blocks(), Blocks::Nothing);
    assert_eq!(ShareUpdateExclusive.blocks(), Blocks::Nothing);
    assert_eq!(Share.blocks(), Blocks::Writes);
    assert_eq!(ShareRowExclusive.blocks(), Blocks::Writes);
    assert_eq!(Exclusive.blocks(), Blocks::Writes);
    assert_eq!(AccessExclusive.blocks(), Blocks::ReadsAndWrites);
    assert_eq!(Share.combine(ShareUpdateExclusive), ShareRowExclusive);
    assert_eq!(AccessShare.combine(ShareRowExclusive), ShareRowExclusive);
    assert_eq!(RowShare.combine(RowExclusive), RowExclusive);
    for a in LockMode::ALL {
        assert_eq!(LockMode::from_pg_locks_name(a.pg_locks_name()), Some(a));
        for b in LockMode::ALL {
            assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} {b}");
        }
    }
    assert!(!Share.conflicts_with(Share));
    assert!(ShareUpdateExclusive.conflicts_with(ShareUpdateExclusive));
}

#[test]
fn a_script_statement_by_statement() {
    let before = Catalog::default();
    let script = "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (a_id int REFERENCES a);\nALTER TABLE a ADD COLUMN x int;";
    let result = script_locks(&before, &["public".to_string()], script).expect("parses");
    let shown: Vec<String> = result
        .iter()
        .map(|s| {
            let locks: Vec<String> = s.locks.iter().map(ToString::to_string).collect();
            format!("{:?} {}", s.span, locks.join("; "))
        })
        .collect();
    expect![[r#"
        [
            "0..35 ",
            "37..75 SHARE ROW EXCLUSIVE on a (blocks writes)",
            "77..107 ACCESS EXCLUSIVE on a (blocks reads and writes)",
        ]
    "#]]
    .assert_debug_eq(&shown);
    assert_eq!(
        &script[result[2].span.clone()],
        "ALTER TABLE a ADD COLUMN x int"
    );
}
