//! The layout module, data-driven: each directory of `tests/layouts/` is one migration tool's
//! layout, read into [`lint::layout::plan`] without the layout named; the plan (layout, order,
//! transactions, and which lines are linted and which blanked) is pinned by one insta snapshot
//! per directory. A table of name-only cases covers the orders each tool defines.

use std::path::Path;

use lint::layout::{self, Entry, Layout, Transaction};

fn layouts_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts")
}

/// Every file under `dir`, relative and `/`-separated, with the text of `.sql`, `.toml` and
/// `.conf` files (what `main.rs` reads).
fn entries(dir: &Path) -> Vec<Entry> {
    fn visit(dir: &Path, prefix: &str, out: &mut Vec<Entry>) {
        for item in std::fs::read_dir(dir).expect("read dir") {
            let path = item.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            let rel = format!("{prefix}{name}");
            if path.is_dir() {
                visit(&path, &format!("{rel}/"), out);
            } else {
                let text = [".sql", ".toml", ".conf"]
                    .iter()
                    .any(|x| name.ends_with(x))
                    .then(|| std::fs::read_to_string(&path).expect("read"));
                out.push(Entry::new(rel, text));
            }
        }
    }
    let mut out = Vec::new();
    visit(dir, "", &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The plan as text: each migration's path and transaction, then its lines, `|` for a line
/// linted as written and `~` for a blanked one.
fn render(plan: &layout::Plan, entries: &[Entry]) -> String {
    let mut out = format!("{}\n", plan.describe());
    for m in &plan.migrations {
        let original = entries
            .iter()
            .find(|e| e.path == m.path)
            .and_then(|e| e.text.as_deref())
            .expect("the migration is one of the entries");
        out.push_str(&format!("\n{}: {}\n", m.path, m.transaction.name()));
        let kept: Vec<&str> = original.split('\n').collect();
        let linted: Vec<&str> = m.text.split('\n').collect();
        assert_eq!(kept.len(), linted.len(), "{}: lines differ", m.path);
        for (i, (before, after)) in kept.iter().zip(&linted).enumerate() {
            if i + 1 == kept.len() && before.is_empty() {
                break;
            }
            // Blanking keeps every character's column: same count, spaces only.
            assert_eq!(
                before.chars().count(),
                after.chars().count(),
                "{}:{}: columns moved",
                m.path,
                i + 1
            );
            if before == after {
                out.push_str(&format!("{:>4} | {before}\n", i + 1));
            } else {
                assert!(
                    after.chars().all(|c| c == ' ' || c == '\r'),
                    "{}:{}: changed but not blanked: {after:?}",
                    m.path,
                    i + 1
                );
                out.push_str(&format!("{:>4} ~\n", i + 1));
            }
        }
    }
    out
}

#[test]
fn each_fixture_directory_is_recognised_and_planned_as_its_tool_runs_it() {
    let mut dirs: Vec<_> = std::fs::read_dir(layouts_dir())
        .expect("tests/layouts")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 11, "{dirs:?}");
    for dir in dirs {
        let name = dir.file_name().expect("name").to_string_lossy().to_string();
        let entries = entries(&dir);
        let plan = layout::plan(&entries, None);
        // Every directory is named after the layout it must be recognised as.
        let expected = match name.as_str() {
            "autocommit" => Layout::Plain,
            other => Layout::from_name(other).unwrap_or_else(|| panic!("{other}: no such layout")),
        };
        assert_eq!(plan.layout, expected, "{name}: {}", plan.describe());
        insta::assert_snapshot!(format!("layout__{name}"), render(&plan, &entries));
    }
}

/// Paths in, layout and order out; texts only where a layout reads them.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    forced: Option<Layout>,
    layout: Layout,
    order: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "flyway versions compare part by part, numerically; repeatables last, by description; undo skipped",
        files: &[
            ("V10__ten.sql", ""),
            ("V2__two.sql", ""),
            ("V1.1__one_one.sql", ""),
            ("V1__one.sql", ""),
            ("V1_2__one_two.sql", ""),
            ("U2__undo_two.sql", ""),
            ("R__b_view.sql", ""),
            ("R__a_view.sql", ""),
            ("sql/V3__nested.sql", ""),
            ("README.md", ""),
        ],
        forced: None,
        layout: Layout::Flyway,
        order: &[
            "V1__one.sql",
            "V1.1__one_one.sql",
            "V1_2__one_two.sql",
            "V2__two.sql",
            "sql/V3__nested.sql",
            "V10__ten.sql",
            "R__a_view.sql",
            "R__b_view.sql",
        ],
    },
    Case {
        name: "golang-migrate: numeric order of N, down files skipped",
        files: &[
            ("10_c.up.sql", ""),
            ("10_c.down.sql", ""),
            ("2_b.up.sql", ""),
            ("1_a.up.sql", ""),
            ("1_a.down.sql", ""),
        ],
        forced: None,
        layout: Layout::GolangMigrate,
        order: &["1_a.up.sql", "2_b.up.sql", "10_c.up.sql"],
    },
    Case {
        name: "four-digit up/down pairs stay codegen's, in name order",
        files: &[
            ("0002_b.up.sql", ""),
            ("0001_a.up.sql", ""),
            ("0001_a.down.sql", ""),
            ("notes.txt", ""),
        ],
        forced: None,
        layout: Layout::Codegen,
        order: &["0001_a.up.sql", "0002_b.up.sql"],
    },
    Case {
        name: "diesel directories by version; down.sql and other files skipped",
        files: &[
            ("2024-03-01-000000_c/up.sql", ""),
            ("2024-03-01-000000_c/down.sql", ""),
            ("00000000000000_diesel_initial_setup/up.sql", ""),
            ("2023-12-31-235959_b/up.sql", ""),
            (
                "2023-12-31-235959_b/metadata.toml",
                "run_in_transaction = false",
            ),
        ],
        forced: None,
        layout: Layout::Diesel,
        order: &[
            "00000000000000_diesel_initial_setup/up.sql",
            "2023-12-31-235959_b/up.sql",
            "2024-03-01-000000_c/up.sql",
        ],
    },
    Case {
        name: "prisma named by its project directory",
        files: &[
            ("schema.prisma", ""),
            (
                "migrations/migration_lock.toml",
                "provider = \"postgresql\"",
            ),
            ("migrations/20240201000000_b/migration.sql", ""),
            ("migrations/20240101000000_a/migration.sql", ""),
        ],
        forced: None,
        layout: Layout::Prisma,
        order: &[
            "migrations/20240101000000_a/migration.sql",
            "migrations/20240201000000_b/migration.sql",
        ],
    },
    Case {
        name: "sqlx: simple and reversible files together, by version",
        files: &[
            ("20240102000000_b.up.sql", "-- no-transaction\nSELECT 1;"),
            ("20240102000000_b.down.sql", ""),
            ("20240101000000_a.sql", ""),
        ],
        forced: None,
        layout: Layout::Sqlx,
        order: &["20240101000000_a.sql", "20240102000000_b.up.sql"],
    },
    Case {
        name: "postgres-migrations: dashes or underscores, numeric order",
        files: &[("10-d.sql", ""), ("2_b.sql", ""), ("1-a.sql", "")],
        forced: None,
        layout: Layout::PostgresMigrations,
        order: &["1-a.sql", "2_b.sql", "10-d.sql"],
    },
    Case {
        name: "goose: by version, Go migrations left out",
        files: &[
            ("00002_b.sql", "-- +goose Up\nSELECT 2;\n"),
            ("00003_c.go", ""),
            ("00001_a.sql", "-- +goose Up\nSELECT 1;\n"),
        ],
        forced: None,
        layout: Layout::Goose,
        order: &["00001_a.sql", "00002_b.sql"],
    },
    Case {
        name: "unknown shapes keep the name order",
        files: &[
            ("b.sql", ""),
            ("a.sql", ""),
            ("a.down.sql", ""),
            ("nested/c.sql", ""),
        ],
        forced: None,
        layout: Layout::Plain,
        order: &["a.sql", "b.sql"],
    },
    Case {
        name: "a forced layout overrides the recognised one",
        files: &[("10_c.up.sql", ""), ("2_b.up.sql", "")],
        forced: Some(Layout::Plain),
        layout: Layout::Plain,
        order: &["10_c.up.sql", "2_b.up.sql"],
    },
];

#[test]
fn each_tool_orders_its_files_its_own_way() {
    for case in CASES {
        let entries: Vec<Entry> = case
            .files
            .iter()
            .map(|(p, t)| Entry::new(*p, Some(t.to_string())))
            .collect();
        let plan = layout::plan(&entries, case.forced);
        assert_eq!(
            plan.layout,
            case.layout,
            "{}: {}",
            case.name,
            plan.describe()
        );
        let order: Vec<&str> = plan.migrations.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(order, case.order, "{}", case.name);
    }
}

#[test]
fn each_tool_decides_the_transaction_its_own_way() {
    let one = |layout: Layout, path: &str, text: &str, sidecar: Option<&str>| {
        layout::prepare(layout, path, text, sidecar).transaction
    };
    let cases = [
        (
            one(Layout::Codegen, "0001_a.up.sql", "SELECT 1;", None),
            Transaction::Wrapped,
        ),
        (
            one(
                Layout::Codegen,
                "0001_a.up.sql",
                "-- codegen:no-transaction\nSELECT 1;",
                None,
            ),
            Transaction::None,
        ),
        (
            one(
                Layout::Diesel,
                "1_a/up.sql",
                "SELECT 1;",
                Some("run_in_transaction = false\n"),
            ),
            Transaction::OneQuery,
        ),
        (
            one(
                Layout::Diesel,
                "1_a/up.sql",
                "SELECT 1;",
                Some("run_in_transaction = true\n"),
            ),
            Transaction::Wrapped,
        ),
        (
            one(Layout::GolangMigrate, "1_a.up.sql", "SELECT 1;", None),
            Transaction::OneQuery,
        ),
        (
            one(Layout::Prisma, "1_a/migration.sql", "SELECT 1;", None),
            Transaction::OneQuery,
        ),
        (
            one(Layout::Flyway, "V1__a.sql", "SELECT 1;", None),
            Transaction::Detected,
        ),
        (
            one(
                Layout::Flyway,
                "V1__a.sql",
                "SELECT 1;",
                Some("executeInTransaction=false\n"),
            ),
            Transaction::None,
        ),
        (
            one(
                Layout::Sqlx,
                "1_a.sql",
                "-- no-transaction\nSELECT 1;",
                None,
            ),
            Transaction::OneQuery,
        ),
        (
            one(
                Layout::Sqlx,
                "1_a.sql",
                "SELECT 1;\n-- no-transaction\n",
                None,
            ),
            Transaction::Wrapped,
        ),
        (
            one(
                Layout::Dbmate,
                "1_a.sql",
                "-- migrate:up transaction:false\nSELECT 1;\n",
                None,
            ),
            Transaction::OneQuery,
        ),
        (
            one(
                Layout::Goose,
                "1_a.sql",
                "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\n",
                None,
            ),
            Transaction::None,
        ),
        (
            one(
                Layout::PostgresMigrations,
                "1_a.sql",
                "-- postgres-migrations disable-transaction\nSELECT 1;\n",
                None,
            ),
            Transaction::OneQuery,
        ),
        (
            one(Layout::PgDump, "structure.sql", "SELECT 1;", None),
            Transaction::None,
        ),
        (
            one(Layout::Plain, "2_b.autocommit.sql", "SELECT 1;", None),
            Transaction::None,
        ),
        (
            one(
                Layout::Goose,
                "2_b.autocommit.sql",
                "-- +goose Up\nSELECT 1;",
                None,
            ),
            Transaction::None,
        ),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(got, want, "case {i}");
    }
    // How the statements decide the rest.
    let items = |sql: &str| lint::parse::parse_text(sql, 0);
    let one_index = items("CREATE INDEX CONCURRENTLY i ON t (c);");
    let two = items("ALTER TABLE t ADD COLUMN c int; CREATE INDEX CONCURRENTLY i ON t (c);");
    assert!(!Transaction::OneQuery.applies(&one_index));
    assert!(Transaction::OneQuery.applies(&two));
    assert!(!Transaction::Detected.applies(&one_index));
    assert!(Transaction::Detected.applies(&items("ALTER TABLE t ADD COLUMN c int;")));
    assert!(!Transaction::Detected.applies(&items("VACUUM t;")));
}

#[test]
fn goose_and_dbmate_keep_their_up_part_only() {
    let goose = "-- +goose Up\nCREATE TABLE a (id uuid);\n-- +goose Down\nDROP TABLE a;\n";
    let m = layout::prepare(Layout::Goose, "1_a.sql", goose, None);
    assert_eq!(
        m.text,
        "            \nCREATE TABLE a (id uuid);\n              \n             \n"
    );
    let dbmate = "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n";
    let m = layout::prepare(Layout::Dbmate, "1_a.sql", dbmate, None);
    assert_eq!(
        m.text,
        "             \nSELECT 1;\n               \n         \n"
    );
    // pg_dump's psql meta-commands are not SQL.
    let dump = "\\restrict abc\nSET statement_timeout = 0;\n";
    let m = layout::prepare(Layout::PgDump, "structure.sql", dump, None);
    assert_eq!(m.text, "             \nSET statement_timeout = 0;\n");
}

#[test]
fn single_files_are_recognised_by_name_and_contents() {
    let cases = [
        ("a.sql", "-- +goose Up\nSELECT 1;", Layout::Goose),
        ("a.sql", "-- migrate:up\nSELECT 1;", Layout::Dbmate),
        (
            "a.sql",
            "--\n-- PostgreSQL database dump\n--\n",
            Layout::PgDump,
        ),
        (
            "db/structure.sql",
            "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n",
            Layout::PgDump,
        ),
        ("a.sql", "-- no-transaction\nSELECT 1;", Layout::Sqlx),
        (
            "a.sql",
            "-- postgres-migrations disable-transaction\n",
            Layout::PostgresMigrations,
        ),
        ("sql/V1_2__x.sql", "SELECT 1;", Layout::Flyway),
        (
            "migrations/20240101000000_init/migration.sql",
            "SELECT 1;",
            Layout::Prisma,
        ),
        (
            "migrations/2024-01-01-000000_init/up.sql",
            "SELECT 1;",
            Layout::Diesel,
        ),
        (
            "0001_a.up.sql",
            "-- codegen:no-transaction\nSELECT 1;",
            Layout::Plain,
        ),
        ("-", "BEGIN;\nSELECT 1;\nCOMMIT;\n", Layout::Plain),
    ];
    for (path, text, want) in cases {
        assert_eq!(layout::detect_file(path, text), want, "{path}: {text:?}");
    }
}
