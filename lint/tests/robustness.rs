//! Damaged input never panics: every fixture (and the committed migrations) is cut, spliced
//! and corrupted by a seeded generator, then linted and rendered in every format. Findings must
//! stay inside their file. (The same entry point is fuzzed by `lint/fuzz`, which needs nightly.)

mod common;

use e2e::rng::Rng;
use lint::render::{Format, render};
use lint::{Config, SourceFile};

const SNIPPETS: &[&str] = &[
    "'",
    "\"",
    "$$",
    "$x$",
    "(",
    ")",
    ";",
    "--",
    "/*",
    "*/",
    "\0",
    "é",
    "\n",
    "CONCURRENTLY",
    "NOT VALID",
    "DROP TABLE t",
    "-- lint:ignore fk-needs-index",
    "-- lint:ignore-file",
    "BEGIN;",
    "COMMIT;",
    "jsonb",
    "REFERENCES",
    "ALTER TABLE",
    "RENAME TO x",
    "USING INDEX i",
    "\u{feff}",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 => chars.truncate(at),
            1 => {
                let end = (at + rng.below(40)).min(chars.len());
                chars.drain(at..end);
            }
            2 => {
                let s = SNIPPETS[rng.below(SNIPPETS.len())];
                chars.splice(at..at, s.chars());
            }
            _ => {
                let from = rng.below(chars.len() + 1);
                let end = (from + rng.below(60)).min(chars.len());
                let copy: Vec<char> = chars[from..end].to_vec();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    for rule in std::fs::read_dir(common::fixtures_dir()).expect("fixtures") {
        for f in std::fs::read_dir(rule.expect("rule").path()).expect("rule dir") {
            texts.push(std::fs::read_to_string(f.expect("file").path()).expect("read"));
        }
    }
    let generated = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../generated/migrations/0001_initial.up.sql");
    texts.push(std::fs::read_to_string(generated).expect("generated migration"));
    texts
}

/// Inputs the fuzz target found crashing, kept as regressions.
#[test]
fn fuzz_findings_stay_fixed() {
    // A quoted non-ASCII table name long enough that a derived constraint name is cut.
    let sql = format!(
        "CREATE TABLE orders{} (id uuid PRIMARY KEY, note text);\nALTER TABLE orders RENAME COLUMN note TO remark;\n",
        "\u{fffd}".repeat(67)
    );
    let report = lint::lint_sources(
        vec![SourceFile::new("crash.sql", sql)],
        &Config::default(),
        1,
    );
    assert!(!render(&report, Format::Human, false).is_empty());
}

#[test]
fn mutated_migrations_never_panic() {
    let texts = corpus();
    let mut rng = Rng::new(0x5eed_1234_abcd_ef01);
    let rounds = std::env::var("LINT_ROBUSTNESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    for round in 0..rounds {
        let n = 1 + rng.below(3);
        let files: Vec<SourceFile> = (0..n)
            .map(|i| {
                let base = &texts[rng.below(texts.len())];
                SourceFile::new(format!("{round}-{i}.sql"), mutate(&mut rng, base))
            })
            .collect();
        let report = lint::lint_sources(files, &Config::default(), 1 + round % 2);
        for r in &report.findings {
            let f = &r.finding;
            let len = report.files[f.file].text.len();
            assert!(f.start <= f.end && f.end <= len, "round {round}: {f:?}");
            let (start, end) = report.range(f);
            assert!(
                start.line >= 1 && start.column >= 1 && end >= start,
                "round {round}"
            );
        }
        // A file PostgreSQL rejects is always reported, and only such a file.
        for (i, file) in report.files.iter().enumerate() {
            let rejected = pg_query::parse(&file.text, 0).is_err();
            let reported = report
                .findings
                .iter()
                .any(|r| r.finding.file == i && r.finding.rule == "syntax-error");
            assert_eq!(rejected, reported, "round {round}: {:?}", file.text);
        }
        for format in [Format::Human, Format::Json, Format::Sarif] {
            assert!(!render(&report, format, round % 3 == 0).is_empty());
        }
        let github = render(&report, Format::Github, false);
        assert_eq!(
            github.lines().count(),
            report.findings.len(),
            "round {round}"
        );
    }
}

/// Short scripts of quotes, comments, dollar quotes, semicolons and statements, glued together
/// (so that tokens run into each other): a script PostgreSQL rejects always yields a syntax
/// error, one it accepts never does, and the statements and errors found lie in order inside
/// the script. (Found: a piece of text located by searching for it, found earlier inside a
/// token; an unterminated quote or nested comment hiding the statements before it, or all.)
#[test]
fn scripts_are_rejected_exactly_when_postgresql_rejects_them() {
    const PIECES: &[&str] = &[
        "SELECT",
        "CREATE TABLE t (id int)",
        "CREATE INDEX i ON t (id)",
        " ",
        "''",
        "E'\\",
        "U&'",
        "$b$",
        ";;",
    ];
    let found = [
        "SELECTSELECT;SELECT;",
        "/*$a$/*'(SELECT;*/",
        "CREATE TABLE t (id int); /* /* */ SELECT 1;",
    ];
    let mut rng = Rng::new(0x0dd5_cafe_f00d_0001);
    let random = (0..5000).map(|_| {
        (0..rng.below(10))
            .map(|_| {
                if rng.below(2) == 0 {
                    SNIPPETS[rng.below(SNIPPETS.len())]
                } else {
                    PIECES[rng.below(PIECES.len())]
                }
            })
            .collect::<String>()
    });
    let scripts: Vec<String> = found.iter().map(|s| s.to_string()).chain(random).collect();
    for (case, script) in scripts.iter().enumerate() {
        let script = script.as_str();
        let items = lint::parse::parse_text(script, 0);
        let mut end = 0;
        for item in &items {
            let (a, b) = item.span();
            assert!(
                end <= a && a <= b && b <= script.len(),
                "case {case}: {script:?} {items:?}"
            );
            end = b;
        }
        let reported = items
            .iter()
            .any(|i| matches!(i, lint::parse::Item::Error(_)));
        assert_eq!(
            pg_query::parse(script, 0).is_err(),
            reported,
            "case {case}: {script:?} {items:?}"
        );
    }
}
