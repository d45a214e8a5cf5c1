//! The `lint` binary: inputs (files, directories, stdin), formats, exit codes, configuration
//! discovery, colour, `--explain` and the replay cache.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// What every test directory's `lint.toml` says unless a test says otherwise: the runner sets
/// both timeouts, so the findings these tests pin are about what they test, not about
/// `require-lock-timeout` (which `the_timeout_rules_follow_the_runner_settings` tests).
const RUNNER: &str = "\n[runner]\nsets_lock_timeout = true\nsets_statement_timeout = true\n";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lint-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("lint.toml"), RUNNER).expect("lint.toml");
    dir
}

/// Writes a file; a `lint.toml` gets the [`RUNNER`] settings after its own.
fn write(dir: &Path, name: &str, text: &str) {
    let text = if name == "lint.toml" {
        format!("{text}{RUNNER}")
    } else {
        text.to_string()
    };
    std::fs::write(dir.join(name), text).expect("write");
}

fn lint(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lint");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A migration directory: a table with an unindexed FK (error), a drop (warning), a down file.
fn migrations(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).expect("dir");
    write(
        &m,
        "0001_init.up.sql",
        "CREATE TABLE cases (id uuid PRIMARY KEY);\nCREATE TABLE files (id uuid PRIMARY KEY, case_id uuid REFERENCES cases (id), old text);\n",
    );
    write(
        &m,
        "0001_init.down.sql",
        "DROP TABLE files;\nDROP TABLE nope (;\n",
    );
    write(
        &m,
        "0002_drop.up.sql",
        "ALTER TABLE files DROP COLUMN old;\n",
    );
    write(&m, "README.md", "not sql");
    dir
}

#[test]
fn a_directory_in_name_order_down_files_skipped_exit_1_on_errors() {
    let dir = migrations("dir");
    let out = json_lint(&dir, &["migrations"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["summary"]["files"], 2);
    assert_eq!(json["summary"]["statements"], 3);
    assert_eq!(json["summary"]["errors"], 1);
    assert_eq!(json["summary"]["warnings"], 1);
    let d = &json["diagnostics"][0];
    assert_eq!(d["rule"], "fk-needs-index");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "migrations/0001_init.up.sql");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(2), Some(87))
    );
    assert_eq!(d["table"], "files");
    assert_eq!(d["columns"], serde_json::json!(["case_id"]));
    assert!(
        d["help"]
            .as_str()
            .is_some_and(|h| h.contains("CREATE INDEX"))
    );
    let w = &json["diagnostics"][1];
    assert_eq!(
        (w["rule"].as_str(), w["severity"].as_str()),
        (Some("drop-column"), Some("warning"))
    );
    assert_eq!(w["file"], "migrations/0002_drop.up.sql");
}

#[test]
fn warnings_only_exit_0_and_stdin_is_read() {
    let dir = temp_dir("stdin");
    let sql = "CREATE TABLE t (id uuid PRIMARY KEY);\nALTER TYPE s ADD VALUE 'x';\n";
    let out = lint(&dir, &["-", "--format", "github"], Some(sql));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("::warning file=-,line=2,col=1,endLine=2,endColumn=27,title=enum-add-value-without-position::value 'x' is added"),
        "{text}"
    );
    // Without a path, piped input is read too.
    let out = lint(&dir, &["--format", "json"], Some("SELECT 1;"));
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["summary"]["statements"], 1);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = temp_dir("usage");
    assert_eq!(lint(&dir, &["missing.sql"], None).status.code(), Some(2));
    assert_eq!(
        lint(&dir, &["--format", "xml", "-"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        lint(&dir, &["--explain", "nope"], None).status.code(),
        Some(2)
    );
    write(&dir, "bad.sql", "SELECT 1;");
    write(&dir, "lint.toml", "[rules]\nfk-need-index = \"off\"\n");
    let out = lint(&dir, &["bad.sql"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean `fk-needs-index`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_timeout_rules_follow_the_runner_settings() {
    let dir = migrations("timeouts");
    // Without `[runner]`: the drop of an existing table's column waits for its lock unbounded.
    std::fs::write(dir.join("lint.toml"), "").expect("lint.toml");
    let out = json_lint(&dir, &["migrations"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules = common::json_rules(&json);
    assert!(rules.contains(&"require-lock-timeout"), "{rules:?}");
    // With it, the rule is off.
    write(&dir, "lint.toml", "");
    let out = json_lint(&dir, &["migrations"]);
    assert!(
        !stdout(&out).contains("require-lock-timeout"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_committed_migrations_are_clean_with_the_repository_lint_toml() {
    // As `make test` and CI run it: from the repository root, which holds the lint.toml.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = lint(&root, &["generated/migrations", "--no-cache"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("require-"), "{}", stdout(&out));
}

#[test]
fn config_is_found_walking_up_and_changes_severities() {
    let dir = migrations("config");
    write(
        &dir,
        "lint.toml",
        "disable = [\"drop-column\"]\n[rules]\nfk-needs-index = \"warning\"\n",
    );
    let nested = dir.join("migrations");
    let out = json_lint(&nested, &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["summary"]["errors"], 0);
    assert_eq!(json["summary"]["warnings"], 1);
    assert_eq!(json["diagnostics"][0]["severity"], "warning");
}

#[test]
fn human_output_has_no_colour_when_piped_or_with_no_color() {
    let dir = migrations("color");
    for no_color in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lint"));
        cmd.args(["migrations", "--no-cache"]).current_dir(&dir);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().expect("run");
        let text = stdout(&out);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("error[fk-needs-index]"), "{text}");
        assert!(
            text.contains(" --> migrations/0001_init.up.sql:2:1"),
            "{text}"
        );
        assert!(
            text.ends_with("error: 1 error, 1 warning in 2 files (3 statements)\n"),
            "{text}"
        );
    }
    // Colour needs a terminal: the renderer itself is tested here.
    let report = lint::lint_sources(
        vec![lint::SourceFile::new(
            "a.sql",
            "ALTER TYPE s ADD VALUE 'x';",
        )],
        &lint::Config::default(),
        1,
    );
    let coloured = lint::render::render(&report, lint::render::Format::Human, true);
    // Bold yellow, as annotate-snippets (rustc's renderer) writes it.
    assert!(
        coloured.contains("\u{1b}[1m\u{1b}[33mwarning[enum-add-value-without-position]\u{1b}[0m"),
        "{coloured:?}"
    );
}

#[test]
fn sarif_is_a_valid_2_1_0_log() {
    let dir = migrations("sarif");
    let out = lint(
        &dir,
        &["migrations", "--format", "sarif", "--no-cache"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        sarif["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("sarif-2.1.0"))
    );
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), lint::registry::RULES.len());
    for r in rules {
        assert!(r["id"].is_string());
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        assert!(r["fullDescription"]["text"].is_string());
        assert!(
            ["error", "warning"]
                .contains(&r["defaultConfiguration"]["level"].as_str().unwrap_or(""))
        );
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["message"]["text"].is_string());
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("migrations/"))
        );
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][k].as_u64().is_some_and(|n| n >= 1), "{k}");
        }
    }
}

#[test]
fn explain_prints_the_rule_documentation() {
    let dir = temp_dir("explain");
    let out = lint(&dir, &["--explain", "fk-needs-index"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("# fk-needs-index\n"), "{text}");
    for section in ["## What it does", "## Why", "## Example", "## Use instead"] {
        assert!(text.contains(section), "{section}");
    }
    assert!(
        text.ends_with("Kind: state. Default severity: error.\n"),
        "{text}"
    );
    let list = stdout(&lint(&dir, &["--list-rules"], None));
    assert_eq!(list.lines().count(), lint::registry::RULES.len());
}

#[test]
fn the_replay_cache_reuses_the_unchanged_prefix_and_reports_the_same() {
    let dir = migrations("cache");
    let first = lint(&dir, &["migrations", "--format", "json", "--verbose"], None);
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("0 of 2 files from the replay cache"),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Only the newest file changes: the first comes from the cache.
    write(
        &dir.join("migrations"),
        "0002_drop.up.sql",
        "ALTER TABLE files DROP COLUMN old;\nCREATE INDEX CONCURRENTLY files_case_id_idx ON files (case_id);\n",
    );
    let second = lint(&dir, &["migrations", "--format", "json", "--verbose"], None);
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("1 of 2 files from the replay cache"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let uncached = json_lint(&dir, &["migrations"]);
    assert_eq!(stdout(&second), stdout(&uncached));
    let json: Value = serde_json::from_slice(&second.stdout).expect("json");
    // The FK finding of file 1 is cleared by the index of file 2; the new CONCURRENTLY is in a
    // transactional file.
    let rules = common::json_rules(&json);
    assert_eq!(rules, vec!["drop-column", "concurrently-in-transaction"]);
}

// ---------------------------------------------------------------------------------------------
// Migration tools' layouts: the directories of `tests/layouts/`, each named after its layout.

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// A copy of `tests/layouts/<name>` in a temporary directory, as `<tmp>/<name>`.
fn layout_fixture(name: &str) -> PathBuf {
    let dir = temp_dir(&format!("layout-{name}"));
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/layouts")
            .join(name),
        &dir.join(name),
    );
    dir
}

/// `rule file:line:column` of every diagnostic of a JSON report.
/// `lint <args> --format json --no-cache` run in `dir`.
fn json_lint(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--format", "json", "--no-cache"])
        .collect();
    lint(dir, &args, None)
}

/// [`diagnostics`] of [`json_lint`].
fn json_diagnostics(dir: &Path, args: &[&str]) -> Vec<String> {
    diagnostics(&json_lint(dir, args))
}

fn diagnostics(out: &Output) -> Vec<String> {
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            stdout(out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            format!(
                "{} {}:{}:{}",
                d["rule"].as_str().unwrap_or(""),
                d["file"].as_str().unwrap_or(""),
                d["line"],
                d["column"]
            )
        })
        .collect()
}

#[test]
fn every_layout_directory_is_linted_as_its_tool_runs_it() {
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts"))
            .expect("tests/layouts")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
    names.sort();
    for name in names {
        let dir = layout_fixture(&name);
        let out = lint(&dir, &[&name, "--no-cache", "--verbose"], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let layout = if name == "autocommit" { "plain" } else { &name };
        assert!(
            stderr.starts_with(&format!("lint: {name}: {layout} layout (")),
            "{name}: {stderr}"
        );
        // Shapes several tools share say which one was taken.
        let ambiguous = ["autocommit", "golang-migrate"].contains(&name.as_str());
        assert_eq!(
            stderr.contains("chosen over"),
            ambiguous,
            "{name}: {stderr}"
        );
        insta::assert_snapshot!(format!("layout_{name}"), stdout(&out));
    }
}

#[test]
fn flyway_runs_v10_after_v2_and_leaves_undo_files_out() {
    let dir = layout_fixture("flyway");
    let found = json_diagnostics(&dir, &["flyway"]);
    // In Flyway's order every statement replays, the undo file's DROP TABLE is not linted and
    // the CONCURRENTLY migration runs without a transaction.
    assert_eq!(found, Vec::<String>::new());
    // In name order `V1.1__` comes before `V1__` (and `V10__` before `V2__`): the replay fails
    // there, so the check above can fail.
    let by_name = json_diagnostics(&dir, &["flyway", "--layout", "plain"]);
    assert!(
        by_name
            .iter()
            .any(|d| d.starts_with("replay-failed flyway/V1.1__add_clinic.sql")),
        "{by_name:?}"
    );
    assert!(
        by_name
            .iter()
            .any(|d| d.starts_with("drop-table flyway/U2__drop_notes.sql")),
        "{by_name:?}"
    );
}

#[test]
fn goose_down_sections_are_not_linted_and_findings_keep_their_lines() {
    let dir = layout_fixture("goose");
    let found = json_diagnostics(&dir, &["goose"]);
    // Line 3 of the file as written: the two annotation lines above it are blanked, not cut.
    let expected = [
        "uuid-primary-key goose/20240101000000_create_dentists.sql:3:1",
        "drop-column goose/20240102000000_drop_fax.sql:2:1",
    ];
    assert_eq!(found, expected);
    // Read as plain SQL, the Down section of migration 2 runs too and its NOT NULL column is
    // a finding (so the check above can fail).
    let plain = json_diagnostics(&dir, &["goose", "--layout", "plain"]);
    assert!(
        plain.contains(
            &"not-null-column-without-default goose/20240102000000_drop_fax.sql:6:33".to_string()
        ),
        "{plain:?}"
    );
    // Goose files named on their own are recognised by their annotations.
    let single = json_diagnostics(
        &dir,
        &[
            "goose/20240101000000_create_dentists.sql",
            "goose/20240102000000_drop_fax.sql",
        ],
    );
    assert_eq!(single, expected);
}

#[test]
fn dbmate_and_postgres_migrations_without_a_transaction_allow_concurrently() {
    let dir = layout_fixture("dbmate");
    let found = json_diagnostics(&dir, &["dbmate"]);
    // No concurrently-in-transaction for `-- migrate:up transaction:false`; the NOT NULL
    // column is reported on line 3 of the file as written, column 37.
    assert_eq!(
        found,
        ["not-null-column-without-default dbmate/20240103000000_add_room.sql:3:37"]
    );
    let dir = layout_fixture("postgres-migrations");
    let found = json_diagnostics(&dir, &["postgres-migrations"]);
    assert!(
        !found
            .iter()
            .any(|d| d.starts_with("concurrently-in-transaction")),
        "{found:?}"
    );
    // Without its layout, the disable-transaction marker means nothing (the check can fail).
    let plain = json_diagnostics(&dir, &["postgres-migrations", "--layout", "plain"]);
    assert!(
        plain
            .iter()
            .any(|d| d == "concurrently-in-transaction postgres-migrations/3_index_code.sql:2:1"),
        "{plain:?}"
    );
}

#[test]
fn the_layout_can_be_forced_and_a_wrong_name_lists_the_right_ones() {
    let dir = layout_fixture("golang-migrate");
    let out = lint(&dir, &["golang-migrate", "--layout", "liquibase"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in lint::layout::Layout::NAMES {
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    // lint.toml's `layout` forces it too: in name order `10_` comes before `2_`, whose
    // column it indexes.
    write(&dir, "lint.toml", "layout = \"plain\"\n");
    let out = json_lint(&dir, &["golang-migrate", "--verbose"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("plain layout (forced)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        diagnostics(&out)
            .iter()
            .any(|d| d.starts_with("replay-failed golang-migrate/10_index_floor.up.sql")),
        "{}",
        stdout(&out)
    );
    // --layout wins over lint.toml.
    let out = json_lint(&dir, &["golang-migrate", "--layout", "golang-migrate"]);
    assert_eq!(
        diagnostics(&out),
        ["concurrently-in-transaction golang-migrate/11_label_index.up.sql:3:1"]
    );
}

#[test]
fn a_pg_dump_file_runs_without_a_transaction_and_its_meta_commands_are_skipped() {
    let dir = layout_fixture("pg-dump");
    let out = json_lint(&dir, &["pg-dump/structure.sql"]);
    // No syntax error on `\restrict`; Rails' own tables are exempt from uuid-primary-key.
    assert_eq!(
        diagnostics(&out),
        [
            "unflagged-personal-data pg-dump/structure.sql:29:1",
            "uuid-primary-key pg-dump/structure.sql:46:1"
        ]
    );
    // The same dump with CONCURRENTLY after it: psql runs it outside a transaction.
    let text = std::fs::read_to_string(dir.join("pg-dump/structure.sql")).expect("read");
    write(
        &dir,
        "dump.sql",
        &format!("{text}CREATE INDEX CONCURRENTLY labs_name_idx ON public.labs (name);\n"),
    );
    let found = json_diagnostics(&dir, &["dump.sql"]);
    assert!(
        !found
            .iter()
            .any(|d| d.starts_with("concurrently-in-transaction")),
        "{found:?}"
    );
}
