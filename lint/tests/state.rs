//! Schema-state tracking across statements and files: where findings appear, when they are
//! cleared, and how renames, qualified and quoted names and function bodies are followed.

mod common;

use common::{lint_text, rules_of, summary};
use lint::render::{Format, render};

#[test]
fn an_index_created_in_a_later_migration_clears_the_finding() {
    let report = lint_text(
        "CREATE TABLE cases (id uuid PRIMARY KEY);
CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid REFERENCES cases (id));
-- migration: 0002.sql
SELECT 1;
-- migration: 0003.sql
-- codegen:no-transaction
CREATE INDEX CONCURRENTLY files_case_id_idx ON files (case_id);",
    );
    assert_eq!(summary(&report), Vec::<String>::new());
    assert_eq!(report.statements, 4);
    // Without the last migration the finding stands, at the statement that made the FK.
    let report = lint_text(
        "CREATE TABLE cases (id uuid PRIMARY KEY);
CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid REFERENCES cases (id));",
    );
    assert_eq!(summary(&report), vec!["fk-needs-index test.sql:2:1"]);
}

#[test]
fn a_dropped_index_raises_the_finding_at_the_end_of_that_file() {
    let report = lint_text(
        "CREATE TABLE cases (id uuid PRIMARY KEY);
CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid REFERENCES cases (id), meta jsonb);
CREATE INDEX files_case_id_idx ON files (case_id);
CREATE INDEX files_meta_gin_idx ON files USING gin (meta);
-- migration: 0002.sql
-- codegen:no-transaction
DROP INDEX CONCURRENTLY files_case_id_idx;
DROP INDEX CONCURRENTLY public.files_meta_gin_idx;
SELECT 1;
",
    );
    assert_eq!(
        summary(&report),
        vec![
            "fk-needs-index test.sql#0002.sql:4:1",
            "jsonb-needs-gin test.sql#0002.sql:4:1"
        ]
    );
    let messages: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.finding.message.as_str())
        .collect();
    assert!(
        messages[0].ends_with("(since `DROP INDEX CONCURRENTLY files_case_id_idx` on line 2)"),
        "{messages:?}"
    );
    // Dropped and recreated in the same file: nothing to report.
    let report = lint_text(
        "CREATE TABLE cases (id uuid PRIMARY KEY);
CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid REFERENCES cases (id));
CREATE INDEX files_case_id_idx ON files (case_id);
-- migration: 0002.sql
-- codegen:no-transaction
DROP INDEX CONCURRENTLY files_case_id_idx;
CREATE INDEX CONCURRENTLY files_case_id_v2_idx ON files (case_id, id);",
    );
    assert_eq!(summary(&report), Vec::<String>::new());
}

/// Two tables, then a file that renames one and two of its columns.
const RENAMES: &str = "CREATE TABLE cases (id uuid PRIMARY KEY);
CREATE TABLE files (id uuid PRIMARY KEY, case_ref uuid REFERENCES cases (id), meta jsonb);
-- migration: 0002.sql
-- lint:ignore-file rename-table,rename-column nothing reads these names yet
SET lock_timeout = '2s';
ALTER TABLE files RENAME TO scans;
ALTER TABLE scans RENAME COLUMN case_ref TO case_id;
ALTER TABLE scans RENAME COLUMN meta TO metadata;";

#[test]
fn renamed_tables_and_columns_are_followed() {
    let report = lint_text(RENAMES);
    // Still reported where the problems began, under their new names.
    assert_eq!(
        summary(&report),
        vec![
            "fk-needs-index test.sql:2:1",
            "jsonb-needs-gin test.sql:2:1"
        ]
    );
    let json = lint::render::json::value(&report);
    let tables: Vec<(String, String)> = json["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| (d["table"].to_string(), d["columns"].to_string()))
        .collect();
    assert_eq!(
        tables,
        vec![
            ("\"scans\"".into(), "[\"case_id\"]".into()),
            ("\"scans\"".into(), "[\"metadata\"]".into())
        ]
    );
    // An index on the new names, in a later file, clears both.
    let report = lint_text(&format!(
        "{RENAMES}
-- migration: 0003.sql
-- codegen:no-transaction
CREATE INDEX CONCURRENTLY scans_case_id_idx ON scans (case_id);
CREATE INDEX CONCURRENTLY scans_metadata_gin_idx ON scans USING gin (metadata jsonb_path_ops);"
    ));
    assert_eq!(summary(&report), Vec::<String>::new());
}

#[test]
fn schema_qualified_and_quoted_identifiers() {
    let report = lint_text(
        "CREATE TABLE public.\"Cases\" (id uuid PRIMARY KEY);
CREATE TABLE public.\"Case Files\" (
    id uuid PRIMARY KEY,
    \"Case Id\" uuid REFERENCES public.\"Cases\" (id),
    \"Meta\" jsonb
);
CREATE INDEX ON \"Case Files\" (\"Case Id\");
CREATE INDEX case_files_meta_gin_idx ON public.\"Case Files\" USING gin (\"Meta\");",
    );
    assert_eq!(summary(&report), Vec::<String>::new());
    let report = lint_text(
        "CREATE TABLE public.\"Cases\" (id uuid PRIMARY KEY);
CREATE TABLE \"Case Files\" (id uuid PRIMARY KEY, \"Case Id\" uuid REFERENCES \"Cases\" (id));
-- Unquoted names fold to lower case: this index is on another table.
CREATE TABLE case_files (id uuid PRIMARY KEY, \"Case Id\" uuid);
CREATE INDEX ON Case_Files (\"Case Id\");",
    );
    assert_eq!(summary(&report), vec!["fk-needs-index test.sql:2:1"]);
    assert_eq!(
        report.findings[0].finding.table.as_deref(),
        Some("Case Files")
    );
}

#[test]
fn composite_foreign_keys_and_keys_that_cover_them() {
    let base =
        "CREATE TABLE scans (clinic uuid, no integer, id uuid PRIMARY KEY, UNIQUE (clinic, no));
CREATE TABLE notes (id uuid PRIMARY KEY, clinic uuid, no integer, at date,
    FOREIGN KEY (clinic, no) REFERENCES scans (clinic, no));\n";
    let covered = [
        "CREATE INDEX ON notes (clinic, no);",
        "CREATE INDEX ON notes (no, clinic);",
        "CREATE INDEX ON notes (no, clinic, at);",
        "CREATE UNIQUE INDEX ON notes (clinic, no, id);",
        "ALTER TABLE notes ADD CONSTRAINT notes_key UNIQUE (no, clinic);",
    ];
    for extra in covered {
        let report = lint_text(&format!("{base}{extra}"));
        assert_eq!(summary(&report), Vec::<String>::new(), "{extra}");
    }
    let not_covered = [
        "CREATE INDEX ON notes (clinic);",
        "CREATE INDEX ON notes (clinic, at, no);",
        "CREATE INDEX ON notes (clinic, no) WHERE no > 0;",
        "CREATE INDEX ON notes (clinic) INCLUDE (no);",
        "CREATE INDEX ON notes USING hash (clinic);",
        "CREATE INDEX ON notes USING gin (clinic, no);",
    ];
    for extra in not_covered {
        let report = lint_text(&format!("{base}{extra}"));
        assert_eq!(rules_of(&report), vec!["fk-needs-index"], "{extra}");
        assert_eq!(
            report.findings[0].finding.columns.as_deref(),
            Some(&["clinic".to_string(), "no".to_string()][..])
        );
    }
    // The primary key covers a foreign key on its leading columns.
    let report = lint_text(
        "CREATE TABLE scans (id uuid PRIMARY KEY);
CREATE TABLE scan_parts (scan_id uuid REFERENCES scans (id), part integer, PRIMARY KEY (scan_id, part));",
    );
    assert_eq!(rules_of(&report), vec!["uuid-primary-key"]);
}

#[test]
fn gin_with_jsonb_path_ops_counts() {
    let report = lint_text(
        "CREATE TABLE jobs (id uuid PRIMARY KEY, params jsonb);
CREATE INDEX jobs_params_idx ON jobs USING gin (params jsonb_path_ops);",
    );
    assert_eq!(summary(&report), Vec::<String>::new());
}

#[test]
fn dollar_quoted_bodies_are_not_ddl() {
    let report = lint_text(
        "CREATE TABLE jobs (id uuid PRIMARY KEY, params jsonb);
CREATE INDEX jobs_params_gin_idx ON jobs USING gin (params);
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DROP INDEX jobs_params_gin_idx;
    CREATE TABLE hidden (id integer, data jsonb);
    ALTER TABLE jobs DROP COLUMN params;
END;
$fn$;
DO $$ BEGIN EXECUTE 'DROP TABLE jobs'; END $$;",
    );
    assert_eq!(summary(&report), Vec::<String>::new());
    assert_eq!(report.statements, 4);
}

#[test]
fn a_table_created_earlier_in_the_same_file_is_not_existing() {
    let create = "CREATE TABLE files (id uuid PRIMARY KEY, checksum text, old text);";
    let changes = "CREATE INDEX files_checksum_idx ON files (checksum);
ALTER TABLE files ADD COLUMN level integer NOT NULL;
ALTER TABLE files ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
ALTER TABLE files ALTER COLUMN checksum TYPE varchar(64);
ALTER TABLE files DROP COLUMN old;
ALTER TABLE files RENAME TO scans;
CREATE INDEX scans_level_idx ON scans (level);";
    let report = lint_text(&format!("{create}\n{changes}"));
    assert_eq!(summary(&report), Vec::<String>::new());
    // The same statements on a table of an earlier migration are all findings.
    let report = lint_text(&format!("{create}\n-- migration: 0002.sql\n{changes}"));
    assert_eq!(
        rules_of(&report),
        vec![
            "index-without-concurrently",
            "require-lock-timeout",
            "require-statement-timeout",
            "not-null-column-without-default",
            "volatile-default",
            "column-type-change",
            "drop-column",
            "rename-table",
            "index-without-concurrently",
        ]
    );
}

#[test]
fn syntax_errors_point_at_the_failing_token_and_the_rest_is_linted() {
    let report = lint_text(
        "CREATE TABLE notes (id uuid PRIMARY KEY);
CREATE TABLE files (
    id uuid PRIMARY KEY,
    name text NOT NULL DEFALT 'x'
);
ALTER TABLE notes ADD COLUMN body jsonb;",
    );
    assert_eq!(
        summary(&report),
        vec!["syntax-error test.sql:4:24", "jsonb-needs-gin test.sql:6:1"]
    );
    let (start, end) = report.range(&report.findings[0].finding);
    assert_eq!((end.line, end.column - start.column), (4, 6));
    assert!(report.findings[0].finding.message.contains("\"DEFALT\""));
}

#[test]
fn an_unterminated_quote_is_located_and_the_statements_before_it_are_linted() {
    let report = lint_text(
        "CREATE TABLE notes (id uuid PRIMARY KEY, body jsonb);
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
",
    );
    assert_eq!(
        summary(&report),
        vec!["jsonb-needs-gin test.sql:1:1", "syntax-error test.sql:2:44"]
    );
    let (start, end) = report.range(&report.findings[1].finding);
    assert_eq!((start.line, end.line, end.column), (2, 2, 46));
    assert!(
        report.findings[1]
            .finding
            .message
            .contains("unterminated dollar-quoted string"),
        "{}",
        report.findings[1].finding.message
    );
}

#[test]
fn human_output_of_a_multi_line_statement() {
    let report = lint_text(
        "CREATE TABLE cases (id uuid PRIMARY KEY);
CREATE TABLE files (
\tid uuid PRIMARY KEY,
    case_id uuid REFERENCES cases (id)
);",
    );
    let text = render(&report, Format::Human, false);
    assert_eq!(
        text,
        "error[fk-needs-index]: foreign key `files_case_id_fkey` on `files` (`case_id`) has no index leading with its columns
 --> test.sql:2:1
  |
2 | / CREATE TABLE files (
3 | |     id uuid PRIMARY KEY,
4 | |     case_id uuid REFERENCES cases (id)
5 | | );
  | |_^
  |
  = help: CREATE INDEX CONCURRENTLY files_case_id_idx ON files (case_id);

error: 1 error, 0 warnings in 1 file (2 statements)
"
    );
}

/// What `alembic upgrade head --sql` prints around an autocommit block, for psql to run
/// statement by statement: with `assume_in_transaction = false`, only the explicit blocks count.
#[test]
fn sql_run_statement_by_statement_is_in_a_transaction_only_inside_begin_commit() {
    let sql = "BEGIN;
CREATE TABLE cases (id uuid PRIMARY KEY, owner_id uuid);
COMMIT;
CREATE INDEX CONCURRENTLY ix_cases_owner_id ON cases (owner_id);
BEGIN;
DROP INDEX CONCURRENTLY ix_cases_owner_id;
COMMIT;
";
    let config = lint::Config {
        assume_in_transaction: false,
        ..lint::Config::default()
    };
    let report = lint::lint_sources(vec![lint::SourceFile::new("test.sql", sql)], &config, 1);
    assert_eq!(
        summary(&report),
        vec!["concurrently-in-transaction test.sql:6:1"]
    );
    assert_eq!(
        report.findings[0].finding.help.as_deref(),
        Some("move it out of the BEGIN ... COMMIT block")
    );
    // By default every file runs in a transaction, the runner's, and both are reported.
    assert_eq!(
        rules_of(&lint_text(sql)),
        vec!["concurrently-in-transaction", "concurrently-in-transaction"]
    );
}
