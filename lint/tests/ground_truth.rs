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

/// `table(col, ...)` for every foreign key of `public` whose columns are not the leading key
/// columns, in any order, of a valid, non-partial btree index (INCLUDE columns excluded).
fn unindexed_foreign_keys(client: &mut Client) -> BTreeSet<String> {
    let rows = client
        .query(
            "SELECT c.relname::text,
                    array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
                    con.conkey::int2[],
                    coalesce((SELECT array_agg((i.indkey::int2[])[0:i.indnkeyatts - 1]::text)
                                FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                JOIN pg_am am ON am.oid = ic.relam
                               WHERE i.indrelid = con.conrelid AND i.indisvalid AND i.indpred IS NULL
                                 AND am.amname = 'btree'), '{}')
               FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
              WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace",
            &[],
        )
        .expect("foreign keys");
    let mut out = BTreeSet::new();
    for row in rows {
        let (table, names, keys, indexes): (String, Vec<String>, Vec<i16>, Vec<String>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let covered = indexes.iter().any(|ix| {
            let cols: Vec<i16> = ix
                .trim_matches(['{', '}'])
                .split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect();
            cols.len() >= keys.len() && keys.iter().all(|k| cols[..keys.len()].contains(k))
        });
        if !covered {
            out.insert(format!("{table}({})", names.join(", ")));
        }
    }
    out
}

/// `table.column` for every jsonb column of `public` without a GIN index that has it as a key.
fn jsonb_without_gin(client: &mut Client) -> BTreeSet<String> {
    client
        .query(
            "SELECT c.relname || '.' || a.attname
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
              WHERE c.relnamespace = 'public'::regnamespace
                AND a.atttypid = 'jsonb'::regtype AND a.attnum > 0 AND NOT a.attisdropped
                AND NOT EXISTS (
                    SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                      JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'gin'
                     WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1]))",
            &[],
        )
        .expect("jsonb columns")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn findings_equal_the_catalog_of_a_real_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ground_truth");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("ground truth")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 4);
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
        let files: Vec<SourceFile> = paths
            .iter()
            .map(|p| {
                SourceFile::new(
                    p.file_name().expect("name").to_string_lossy(),
                    std::fs::read_to_string(p).expect("read"),
                )
            })
            .collect();
        let db = pg::cluster().create_database(&name);
        let mut client = db.connect();
        for f in &files {
            apply(&mut client, &f.path, &f.text);
        }
        let expected_fk = unindexed_foreign_keys(&mut client);
        let expected_gin = jsonb_without_gin(&mut client);

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
        let got_fk = found("fk-needs-index", &|t, c| format!("{t}({})", c.join(", ")));
        let got_gin = found("jsonb-needs-gin", &|t, c| format!("{t}.{}", c.join(",")));
        assert_eq!(got_fk, expected_fk, "{name}: fk-needs-index\n{text}");
        assert_eq!(got_gin, expected_gin, "{name}: jsonb-needs-gin\n{text}");
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.finding.rule == "replay-failed"),
            "{name}: the replay must follow the server\n{text}"
        );
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
    assert!(nonempty >= 4, "{nonempty}");
}
