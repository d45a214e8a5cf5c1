//! Ground truth on a real PostgreSQL: each directory of `tests/ground_truth/` is applied to a
//! fresh database (each file in one transaction, or statement by statement when its first line
//! is `-- codegen:no-transaction`, as codegen's runner does), then the server's own catalog
//! says which foreign keys lack a covering index and which jsonb columns lack a GIN index. The
//! linter's `fk-needs-index` and `jsonb-needs-gin` findings must be exactly those.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use e2e::pg;
use lint::{Config, SourceFile};
use postgres::Client;

fn apply(client: &mut Client, name: &str, sql: &str) {
    let file = SourceFile::new(name, sql);
    let statements = lint::parse::parse_text(sql, 0);
    if !file.runs_in_transaction(&statements) {
        for statement in statements {
            let (a, b) = statement.span();
            client
                .batch_execute(&sql[a..b])
                .unwrap_or_else(|e| panic!("{name}: {e:?}\n{}", &sql[a..b]));
        }
    } else {
        let mut tx = client.transaction().expect("begin");
        tx.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        tx.commit().expect("commit");
    }
}

/// Schemas the truth leaves out: the system's, and those an extension owns.
const EXCLUDED: &str = "excluded_ns AS (
    SELECT oid FROM pg_namespace
     WHERE nspname IN ('pg_catalog', 'information_schema', 'pg_toast') OR nspname LIKE 'pg\\_%'
    UNION
    SELECT objid FROM pg_depend
     WHERE classid = 'pg_namespace'::regclass AND refclassid = 'pg_extension'::regclass
       AND deptype = 'e'
), extension_relations AS (
    SELECT objid AS oid FROM pg_depend
     WHERE classid = 'pg_class'::regclass AND refclassid = 'pg_extension'::regclass
       AND deptype = 'e'
)";

/// `schema.table` outside `public`, `table` in it: how findings name a table.
const TABLE_KEY: &str =
    "CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END";

/// `table(col, ...)` for every foreign key (in any schema but the system's) whose columns are
/// not the leading key columns, in any order, of a valid, non-partial btree index (INCLUDE
/// columns excluded). A foreign key a partition inherits from its partitioned table is counted
/// once, on the table that declares it.
fn unindexed_foreign_keys(client: &mut Client) -> BTreeSet<String> {
    let sql = format!(
        "WITH {EXCLUDED}
         SELECT {TABLE_KEY},
                array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o)
           FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE con.contype = 'f' AND con.conparentid = 0
            AND n.oid NOT IN (SELECT oid FROM excluded_ns)
            AND c.oid NOT IN (SELECT oid FROM extension_relations)
            AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                  JOIN pg_class ic ON ic.oid = i.indexrelid
                  JOIN pg_am am ON am.oid = ic.relam
                 WHERE i.indrelid = con.conrelid AND i.indisvalid AND i.indpred IS NULL
                   AND am.amname = 'btree' AND i.indnkeyatts >= cardinality(con.conkey)
                   AND con.conkey <@ (SELECT array_agg(u.x) FROM unnest(i.indkey::int2[])
                                          WITH ORDINALITY AS u(x, o)
                                      WHERE u.o <= cardinality(con.conkey)))"
    );
    client
        .query(&sql, &[])
        .expect("foreign keys")
        .iter()
        .map(|row| {
            let (table, columns): (String, Vec<String>) = (row.get(0), row.get(1));
            format!("{table}({})", columns.join(", "))
        })
        .collect()
}

/// `table.column` for every jsonb column (or column of a domain over jsonb) of a table or
/// partitioned table without a GIN index that has it as a key. A column a partition (or a child
/// table) inherits is its parent's, and counted there.
fn jsonb_without_gin(client: &mut Client) -> BTreeSet<String> {
    let sql = format!(
        "WITH RECURSIVE {EXCLUDED}, jsonb_types AS (
             SELECT 'jsonb'::regtype::oid AS oid
             UNION
             SELECT t.oid FROM pg_type t JOIN jsonb_types j ON t.typbasetype = j.oid
              WHERE t.typtype = 'd'
         )
         SELECT {TABLE_KEY} || '.' || a.attname
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.atttypid IN (SELECT oid FROM jsonb_types) AND a.attnum > 0
            AND NOT a.attisdropped AND a.attinhcount = 0
            AND n.oid NOT IN (SELECT oid FROM excluded_ns)
            AND c.oid NOT IN (SELECT oid FROM extension_relations)
            AND NOT EXISTS (
                SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                  JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'gin'
                 WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1]))"
    );
    client
        .query(&sql, &[])
        .expect("jsonb columns")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Lints `files` and requires the `fk-needs-index` and `jsonb-needs-gin` findings to be
/// `expected` (as the truth queries spell them) and no `replay-failed` finding.
fn check_findings(
    case: &str,
    what: &str,
    files: Vec<SourceFile>,
    expected: (&BTreeSet<String>, &BTreeSet<String>),
) {
    let report = lint::lint_sources(files, &Config::default(), 2);
    let text = lint::render::render(&report, lint::render::Format::Human, false);
    let found = |rule: &str, fmt: &dyn Fn(&str, &[String]) -> String| -> BTreeSet<String> {
        report
            .findings
            .iter()
            .filter(|f| f.finding.rule == rule)
            .map(|f| {
                fmt(
                    f.finding.table.as_deref().expect("table"),
                    f.finding.columns.as_deref().expect("columns"),
                )
            })
            .collect()
    };
    let fk = found("fk-needs-index", &|t, c| format!("{t}({})", c.join(", ")));
    let gin = found("jsonb-needs-gin", &|t, c| format!("{t}.{}", c.join(",")));
    assert_eq!(&fk, expected.0, "{case}, {what}: fk-needs-index\n{text}");
    assert_eq!(&gin, expected.1, "{case}, {what}: jsonb-needs-gin\n{text}");
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.finding.rule == "replay-failed"),
        "{case}, {what}: the replay must follow the server\n{text}"
    );
}

/// `pg_dump --schema-only` of the database, by the cluster's own `pg_dump`.
fn pg_dump(db: &pg::TestDb) -> String {
    let out = std::process::Command::new(pg::cluster().bin_dir().join("pg_dump"))
        .args(["--schema-only", "--no-owner", "--no-privileges", "--dbname"])
        .arg(db.conn_string())
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the dump is UTF-8")
}

#[test]
fn findings_equal_the_catalog_of_a_real_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ground_truth");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("ground truth")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 12);
    let mut nonempty = 0;
    for case in cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let mut paths: Vec<_> = std::fs::read_dir(&case)
            .expect("case")
            .map(|e| e.expect("entry").path())
            .collect();
        paths.sort();
        let files = common::read_sources(&paths);
        let db = pg::cluster().create_database(&name);
        let mut client = db.connect();
        for f in &files {
            apply(&mut client, &f.path, &f.text);
        }
        let expected_fk = unindexed_foreign_keys(&mut client);
        let expected_gin = jsonb_without_gin(&mut client);

        let expected = (&expected_fk, &expected_gin);
        check_findings(&name, "the migrations", files, expected);
        // The same database as `pg_dump --schema-only` writes it (a Rails `structure.sql`, say):
        // one file, every name qualified, sequences and constraints as separate statements.
        let dump = pg_dump(&db);
        let layout = lint::layout::detect_file("structure.sql", &dump);
        assert_eq!(
            layout,
            lint::layout::Layout::PgDump,
            "{name}: the dump is recognised"
        );
        let prepared = lint::layout::prepare(layout, "structure.sql", &dump, None);
        let source =
            SourceFile::new("structure.sql", prepared.text).in_layout(layout, prepared.transaction);
        check_findings(&name, "the dump", vec![source], expected);
        // `--database-url` reads the same facts from the live catalog.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lint"))
            .args(["--database-url", &db.url(), "--format", "json"])
            .output()
            .expect("run lint");
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let live = |rule: &str, sep: (&str, &str, &str)| -> BTreeSet<String> {
            json["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .filter(|d| d["rule"] == rule)
                .map(|d| {
                    let columns: Vec<&str> = d["columns"]
                        .as_array()
                        .expect("columns")
                        .iter()
                        .filter_map(|c| c.as_str())
                        .collect();
                    format!(
                        "{}{}{}{}",
                        d["table"].as_str().expect("table"),
                        sep.0,
                        columns.join(sep.1),
                        sep.2
                    )
                })
                .collect()
        };
        assert_eq!(
            live("fk-needs-index", ("(", ", ", ")")),
            expected_fk,
            "{name}: live fk"
        );
        assert_eq!(
            live("jsonb-needs-gin", (".", ",", "")),
            expected_gin,
            "{name}: live gin"
        );
        nonempty += usize::from(!expected_fk.is_empty()) + usize::from(!expected_gin.is_empty());
    }
    // The cases exercise both rules, not only the empty case.
    assert!(nonempty >= 15, "{nonempty}");
}
