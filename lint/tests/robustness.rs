//! Damaged input never panics: every fixture (and the committed migrations) is cut, spliced
//! and corrupted by a seeded generator, then linted and rendered in every format. Findings must
//! stay inside their file. (The same entry point is fuzzed by `lint/fuzz`, which needs nightly.)

mod common;

use lint::render::{Format, render};
use lint::{Config, SourceFile};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

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
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
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
